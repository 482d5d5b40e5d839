"""`python -m core datasets …`: messages, exit codes, no tracebacks (in-process, and in a real subprocess for
what only a subprocess shows)."""

from __future__ import annotations

import json

from tests.support.cli import cli


def test_import_list_show_delete(tmp_path, cli_here):
    cli = cli_here
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


def test_errors_exit_non_zero_with_the_message_and_no_traceback(tmp_path, cli_here):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    cases = [
        (("datasets", "import", str(empty), "--name", "e"), "empty"),
        (("datasets", "import", str(tmp_path / "missing.csv"), "--name", "m"), "There is no file"),
        (("datasets", "show", "nope"), "no dataset named 'nope'"),
        (("datasets", "import", str(empty), "--name", ""), "name is empty"),
    ]
    for i, (args, message) in enumerate(cases):
        done = (cli if i == 0 else cli_here)(tmp_path, *args)  # the first as a user's terminal sees it
        assert done.returncode == 1, args
        assert message in done.stderr, (args, done.stderr)
        assert "Traceback" not in done.stderr


def test_unreachable_database_is_named(tmp_path):
    done = cli(tmp_path, "datasets", "list", env={"ATELIER_DATABASE_URL": "postgresql+psycopg://u:pw@127.0.0.1:9/db"})
    assert done.returncode == 1
    assert "metadata database postgresql+psycopg://u:***@127.0.0.1:9/db cannot be used" in done.stderr
    assert "pw@" not in done.stderr and "Traceback" not in done.stderr
