"""Metadata through a real pgbouncer in transaction mode, as Supabase's pooler (port 6543) runs it.

pgbouncer hands each transaction to any server connection, so a statement psycopg 3 prepared on one
is missing on the next: ``ATELIER_DATABASE_POOLER=transaction`` (or the port 6543) turns prepared
statements off.  The test starts Debian's pgbouncer on a free loopback port in front of the local
PostgreSQL; it is skipped, saying why, where pgbouncer is not installed.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from core.data import datasets
from core.models import registry
from core.platform import jobs
from core.platform.config import Settings
from core.platform.metadata import Database
from core.platform.metadata.db import uses_transaction_pooler
from core.platform.workspace import Workspace

pytestmark = pytest.mark.postgres


def _pgbouncer() -> str:
    for candidate in (shutil.which("pgbouncer"), "/usr/sbin/pgbouncer"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.skip("pgbouncer is not installed (Debian: apt-get install pgbouncer); the pooler test needs a real one")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def bouncer_url(pg_url: str) -> Iterator[str]:
    """pg_url's database reached through pgbouncer (pool_mode=transaction, one server connection that
    every client's transactions share, in turn)."""
    binary = _pgbouncer()
    folder = Path(tempfile.mkdtemp(prefix="atelier-pgbouncer-"))
    os.chmod(folder, 0o755)  # pgbouncer refuses to run as root: it reads these as nobody
    port = _free_port()
    (folder / "users.txt").write_text('"postgres" ""\n')
    (folder / "pgbouncer.ini").write_text(
        "[databases]\n* = host=127.0.0.1 port=5432\n"
        f"[pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {folder / 'users.txt'}\npool_mode = transaction\n"
        "default_pool_size = 1\nserver_reset_query =\n"
        "ignore_startup_parameters = extra_float_digits,options\nadmin_users = postgres\n")
    for name in ("users.txt", "pgbouncer.ini"):
        os.chmod(folder / name, 0o644)
    user = ["-u", "nobody"] if os.geteuid() == 0 else []
    process = subprocess.Popen([binary, *user, str(folder / "pgbouncer.ini")], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read().decode(errors="replace") if process.stdout else ""
                    pytest.fail(f"pgbouncer did not start: {output}")
                time.sleep(0.05)
        yield pg_url.replace("127.0.0.1:5432", f"127.0.0.1:{port}")
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def test_the_pooler_setting_and_port_6543_turn_prepared_statements_off():
    assert uses_transaction_pooler("postgresql+psycopg://u:pw@aws-0-eu.pooler.supabase.com:6543/postgres")
    assert not uses_transaction_pooler("postgresql+psycopg://u:pw@db.x.supabase.co:5432/postgres")
    assert uses_transaction_pooler("postgresql+psycopg://u@host:5432/db", "transaction")
    assert not uses_transaction_pooler("postgresql+psycopg://u@host:6543/db", "none")
    assert not uses_transaction_pooler("sqlite:///x.db")
    with pytest.raises(Exception, match="ATELIER_DATABASE_POOLER must be auto, transaction or none"):
        Settings(database_pooler="session")


def test_metadata_operations_work_through_pgbouncer_in_transaction_mode(bouncer_url, tmp_path):
    settings = Settings(home=tmp_path / "home", database_url=bouncer_url, database_pooler="transaction")
    ws = Workspace.open(settings)  # the migrations run through the pooler too
    try:
        assert ws.db.transaction_pooler
        frame = pd.DataFrame({"x": range(30), "y": [i % 2 for i in range(30)]})
        datasets.save_version(ws, "toy", frame, provenance={"kind": "test"})
        registry.register_version(
            ws, "toy-y", model_bytes=b"model", algorithm="logistic_regression", problem_type="binary", target="y",
            dataset_version_id=None, dataset_label="toy@1", metrics={}, card={}, train_seconds=1.0)
        job_id = jobs.submit(ws, "tests.support.jobfuncs:count_job", {"steps": 2}, start=False)

        def read(_: int) -> tuple:  # the same statements many times, from several threads and connections:
            return (len(datasets.list_datasets(ws)), registry.get_version(ws, "toy-y:1").version,  # psycopg
                    jobs.get(ws, job_id).kind)  # would prepare them after 5 runs

        with ThreadPoolExecutor(4) as pool:
            answers = set(pool.map(read, range(40)))
        assert answers == {(1, 1, "tests.support.jobfuncs:count_job")}
    finally:
        ws.db.dispose()


def test_without_the_setting_the_same_reads_fail_through_the_pooler(bouncer_url):
    """What the setting is for: psycopg 3 prepares a statement run five times, under a name of its own
    connection (_pg3_0); through the pooler a second client's prepare meets the first one's on the
    shared server connection."""
    db = Database(bouncer_url, pooler="none")
    try:
        with db.engine.connect() as first, db.engine.connect() as second:
            for _ in range(8):
                first.execute(text("SELECT 1")).scalar()
                first.commit()
            with pytest.raises(Exception, match='prepared statement "_pg3_0" already exists'):
                for _ in range(8):
                    second.execute(text("SELECT 2")).scalar()
                    second.commit()
    finally:
        db.dispose()
