#!/usr/bin/env bash
# Install everything the tests need on a fresh Debian machine, then run them all.
#   - Python packages into .venv (requirements-dev.txt)
#   - Debian's chromium for the browser test (Playwright drives it by path)
#   - a PostgreSQL server on 127.0.0.1:5432 (started, or installed and started)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh requirements-dev.txt

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=""
apt_install() {
  [ -n "$apt_updated" ] || { as_root apt-get update -qq; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

if [ ! -x /usr/bin/chromium ]; then
  echo "Installing Debian's chromium for the browser test…"
  apt_install chromium
fi

if [ ! -x /usr/sbin/pgbouncer ]; then
  echo "Installing Debian's pgbouncer for the transaction-pooler test (Supabase's port 6543)…"
  apt_install pgbouncer
fi

pg_up() { .venv/bin/python - <<'PY'
import sys, psycopg
try:
    psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres", connect_timeout=3).close()
except Exception:
    sys.exit(1)
PY
}
if ! pg_up; then
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    echo "Installing Debian's postgresql for the integration tests…"
    apt_install postgresql
  fi
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  conf="/etc/postgresql/$version/main/pg_hba.conf"
  # Trust local TCP connections: this server exists only for the tests.
  grep -q "atelier-tests" "$conf" || as_root sed -i '1i host all all 127.0.0.1/32 trust # atelier-tests' "$conf"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || as_root pg_ctlcluster "$version" main restart
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  pg_up || { echo "PostgreSQL did not start; the PostgreSQL tests will be skipped." >&2; }
fi

export ATELIER_TEST_OUTPUT="${ATELIER_TEST_OUTPUT:-test-output}"
mkdir -p "$ATELIER_TEST_OUTPUT"
.venv/bin/ruff check .
.venv/bin/lint-imports --no-cache
# One test process per core (pytest-xdist), each taking whole files so a module's fixtures are built once;
# much of the suite waits on servers, browsers and subprocesses. nproc, not xdist's "auto": that counts
# physical cores, which a 2-vCPU VM may report as one. `scripts/test.sh -n 0` runs it in one process.
exec .venv/bin/python -m pytest -n "$(nproc)" --dist loadfile "$@"
