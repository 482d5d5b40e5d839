#!/usr/bin/env bash
# Install (once) and start Atelier on its embedded defaults: SQLite + ./.atelier.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh requirements.txt
exec .venv/bin/streamlit run app.py "$@"
