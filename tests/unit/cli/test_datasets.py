"""`python -m core datasets …` in a real subprocess: messages, exit codes, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def cli(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")} | {"ATELIER_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "core", *args], capture_output=True, text=True, env=env, cwd=ROOT)


def test_import_list_show_delete(tmp_path):
    csv = tmp_path / "people.csv"
    csv.write_text("id,age,city\n1,30,Lisbon\n2,41,Porto\n3,25,Lisbon\n", encoding="utf-8")
    done = cli(tmp_path, "datasets", "import", str(csv), "--name", "people")
    assert done.returncode == 0, done.stderr
    assert "people@1: 3 rows × 3 columns" in done.stdout
    listed = cli(tmp_path, "datasets", "list")
    assert "people" in listed.stdout and listed.returncode == 0
    shown = cli(tmp_path, "datasets", "show", "people@1", "--json")
    assert json.loads(shown.stdout)["n_rows"] == 3
    assert "age" in cli(tmp_path, "datasets", "show", "people").stdout

    refused = cli(tmp_path, "datasets", "delete", "people")
    assert refused.returncode == 1 and "--yes" in refused.stderr
    assert cli(tmp_path, "datasets", "delete", "people", "--yes").returncode == 0
    assert "No datasets yet" in cli(tmp_path, "datasets", "list").stdout


def test_errors_exit_non_zero_with_the_message_and_no_traceback(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    cases = [
        (("datasets", "import", str(empty), "--name", "e"), "empty"),
        (("datasets", "import", str(tmp_path / "missing.csv"), "--name", "m"), "There is no file"),
        (("datasets", "show", "nope"), "no dataset named 'nope'"),
        (("datasets", "import", str(empty), "--name", ""), "name is empty"),
    ]
    for args, message in cases:
        done = cli(tmp_path, *args)
        assert done.returncode == 1, args
        assert message in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr


def test_unreachable_database_is_named(tmp_path):
    env_home = tmp_path
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")} | {
        "ATELIER_HOME": str(env_home), "ATELIER_DATABASE_URL": "postgresql+psycopg://u:pw@127.0.0.1:9/db"}
    done = subprocess.run([sys.executable, "-m", "core", "datasets", "list"], capture_output=True, text=True,
                          env=env, cwd=ROOT)
    assert done.returncode == 1
    assert "metadata database postgresql+psycopg://u:***@127.0.0.1:9/db cannot be used" in done.stderr
    assert "pw@" not in done.stderr and "Traceback" not in done.stderr
