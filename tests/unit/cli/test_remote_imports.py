"""`python -m core datasets import-sql|import-s3|refresh` (in-process; a missing driver in a real subprocess)."""

from __future__ import annotations

import sqlite3

import boto3

from tests.support.cli import cli


def test_import_sql_table_and_query_then_refresh(tmp_path, cli_here):
    cli = cli_here
    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as c:
        c.execute("CREATE TABLE orders (id INTEGER, amount REAL)")
        c.executemany("INSERT INTO orders VALUES (?, ?)", [(i, i * 1.5) for i in range(20)])
    url = f"sqlite:///{db}"
    done = cli(tmp_path, "datasets", "import-sql", url, "--table", "orders", "--name", "orders")
    assert done.returncode == 0, done.stderr
    assert "orders@1: 20 rows × 2 columns" in done.stdout
    done = cli(tmp_path, "datasets", "import-sql", url, "--query", "SELECT * FROM orders WHERE id < 5", "--name", "few")
    assert done.returncode == 0 and "few@1: 5 rows" in done.stdout, done.stderr
    again = cli(tmp_path, "datasets", "refresh", "orders")
    assert again.returncode == 0 and "orders@2: 20 rows" in again.stdout, again.stderr


def test_import_sql_errors_are_one_message_and_a_non_zero_exit(tmp_path, cli_here):
    db = tmp_path / "shop.db"
    with sqlite3.connect(db) as c:
        c.execute("CREATE TABLE orders (id INTEGER)")
        c.execute("INSERT INTO orders VALUES (1), (2)")
    url = f"sqlite:///{db}"
    cases = [
        (["--query", "DELETE FROM orders"], "starts with DELETE"),
    ]
    for extra, message in cases:
        done = cli_here(tmp_path, "datasets", "import-sql", url, *extra, "--name", "x")
        assert done.returncode == 1 and message in done.stderr and "Traceback" not in done.stderr, done.stderr
    done = cli(tmp_path, "datasets", "import-sql", "snowflake://u@acct/db", "--table", "t", "--name", "x")
    assert done.returncode == 1 and "pip install snowflake-sqlalchemy" in done.stderr


def test_import_s3_object(tmp_path, s3_server, s3_bucket, cli_here):
    cli = cli_here
    boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1").put_object(
        Bucket=s3_bucket, Key="data/people.csv", Body=b"id,age\n1,30\n2,41\n")
    done = cli(tmp_path, "datasets", "import-s3", f"s3://{s3_bucket}/data/people.csv", "--endpoint-url", s3_server,
               "--region", "us-east-1", "--name", "people")
    assert done.returncode == 0 and "people@1: 2 rows × 2 columns" in done.stdout, done.stderr
    missing = cli(tmp_path, "datasets", "import-s3", f"s3://{s3_bucket}/nope.csv", "--endpoint-url", s3_server,
                  "--region", "us-east-1", "--name", "x")
    assert missing.returncode == 1 and "no object 'nope.csv'" in missing.stderr
