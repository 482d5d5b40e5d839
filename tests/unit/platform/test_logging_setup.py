"""The long-running processes' logging keeps matplotlib's style-file notes out of terminals and job logs."""

from __future__ import annotations

import subprocess
import sys

from tests.support.cli import ROOT

# ``-W always`` makes pyparsing's deprecations visible, as some libraries' own filters do in a real process.
_READ_STYLES = "import matplotlib.style; import logging; logging.getLogger('atelier').info('own note')"


def _stderr(setup: str) -> str:
    return subprocess.run([sys.executable, "-W", "always::DeprecationWarning", "-c", f"{setup}; {_READ_STYLES}"],
                          capture_output=True, text=True, cwd=ROOT, check=True).stderr


def test_style_file_deprecations_are_not_logged_but_atelier_notes_are():
    plain = _stderr("import logging; logging.basicConfig(level=logging.INFO)")
    noted = "WARNING:matplotlib.style.core:In "  # one line per style file, in every job log and the terminal
    assert noted in plain and "'parseString' deprecated" in plain
    quiet = _stderr("from core.platform.logging_setup import configure_logging; configure_logging()")
    assert noted not in quiet and "INFO:atelier:own note" in quiet
