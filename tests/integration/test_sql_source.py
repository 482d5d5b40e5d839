"""SQL sources against real servers: a SQLite file, PostgreSQL and MariaDB (skipped, with the
reason, when a server is not reachable).  One behaviour suite runs over every backend."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from sqlalchemy import create_engine, text

from core.data import datasets
from core.data.remote import import_remote, refresh_version, sql_source, submit_sql_import
from core.data.sources.sql import SqlConnection, check_connection, check_select, list_tables, preview_query, read_sql
from core.platform import jobs
from core.platform.errors import InvalidInputError, NotFoundError, StorageError

MARIADB_ADMIN = "mysql+pymysql://root@127.0.0.1:3306/test"

ROWS = [(i, f"name {i}", decimal.Decimal(f"{i}.25"), i % 2 == 0, None if i % 3 == 0 else i * 10,
         dt.datetime(2024, 1, 1, 12, 0) + dt.timedelta(hours=i)) for i in range(1, 51)]


def _fill(url: str, backend: str) -> None:
    engine = create_engine(url)
    ts = "TIMESTAMPTZ" if backend == "postgresql" else "DATETIME" if backend == "mariadb" else "TIMESTAMP"
    js = {"postgresql": "JSONB", "mariadb": "JSON", "sqlite": "TEXT"}[backend]
    with engine.begin() as c:
        c.execute(text(f"CREATE TABLE orders (id INTEGER PRIMARY KEY, customer VARCHAR(40), amount NUMERIC(10, 2), "
                       f"paid BOOLEAN, qty INTEGER, placed {ts}, meta {js})"))
        c.execute(text("CREATE TABLE empty_t (id INTEGER)"))
        for row in ROWS:
            placed = row[5].replace(tzinfo=dt.UTC) if backend == "postgresql" else row[5]
            amount = float(row[2]) if backend == "sqlite" else row[2]
            c.execute(text("INSERT INTO orders VALUES (:a, :b, :c, :d, :e, :f, :g)"),
                      dict(zip("abcdefg", [row[0], row[1], amount, row[3], row[4], placed, '{"k": 1}'], strict=True)))
    engine.dispose()


def _import(ws, url: str, name: str, **kwargs):
    source, options = sql_source(url, **kwargs)
    return import_remote(ws, source, name, options=options)


@pytest.fixture
def mariadb_url() -> Iterator[str]:
    admin = create_engine(MARIADB_ADMIN, connect_args={"connect_timeout": 3})
    try:
        with admin.connect() as c:
            c.execute(text("SELECT 1"))
    except Exception as exc:
        admin.dispose()
        pytest.skip(f"MariaDB is not reachable at {MARIADB_ADMIN} ({exc.__class__.__name__}); start mariadb-server")
    name = f"atelier_test_{uuid.uuid4().hex[:8]}"
    with admin.begin() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    yield f"mysql+pymysql://root@127.0.0.1:3306/{name}"
    with admin.begin() as c:
        c.execute(text(f"DROP DATABASE IF EXISTS {name}"))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def db(request, tmp_path: Path) -> tuple[str, str]:
    """(url, backend) of a database holding the ``orders`` table."""
    backend = request.param
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'shop.db'}"
    elif backend == "postgresql":
        url = request.getfixturevalue("pg_url")
    else:
        url = request.getfixturevalue("mariadb_url")
    _fill(url, backend)
    return url, backend


def test_browse_and_import_a_table_with_faithful_types(db, ws):
    url, backend = db
    conn = SqlConnection(url)
    assert check_connection(conn).dialect in {"sqlite", "postgresql", "mysql", "mariadb"}
    tables = {t.name: t for t in list_tables(conn)}
    assert tables["orders"].rows == 50 and tables["empty_t"].rows == 0

    version = _import(ws, url, "orders", table="orders")
    assert (version.n_rows, version.n_columns) == (50, 7)
    table = datasets.load_table(ws, version)
    assert table.schema.field("id").type == pa.int64()
    assert table.schema.field("qty").type == pa.int64() and table.column("qty").null_count == 16
    assert table.column("customer").to_pylist()[0] == "name 1"
    assert table.schema.field("meta").type == pa.string()
    if backend != "sqlite":  # SQLite has no decimal type (its NUMERIC stores a float)
        assert table.schema.field("amount").type == pa.decimal128(10, 2)
        assert table.column("amount").to_pylist()[0] == decimal.Decimal("1.25")
    if backend != "mariadb":  # MariaDB's BOOLEAN is TINYINT(1)
        assert table.schema.field("paid").type == pa.bool_()
    if backend == "postgresql":
        assert table.schema.field("placed").type == pa.timestamp("ns", tz="UTC")
    prov = version.provenance
    assert prov["source"] == "sql" and prov["table"] == "orders" and prov["refresh"]["url"] == f"sql:{url}"


def test_a_query_with_preview_and_refresh(db, ws):
    url, backend = db
    query = "WITH big AS (SELECT id, customer FROM orders WHERE id > 40) SELECT * FROM big ORDER BY id;"
    head = preview_query(SqlConnection(url), query, rows=3)
    assert list(head["id"]) == [41, 42, 43]
    version = _import(ws, url, "big", query=query)
    assert version.n_rows == 10 and version.provenance["query"].endswith("ORDER BY id")
    again = refresh_version(ws, "big")
    assert (again.version, again.n_rows) == (2, 10)


@pytest.mark.parametrize(("sql", "match"), [
    ("DELETE FROM orders", "starts with DELETE"),
    ("SELECT 1; DROP TABLE orders", "more than one statement"),
    ("WITH gone AS (DELETE FROM orders RETURNING *) SELECT * FROM gone", "contains DELETE"),
    ("SELECT * INTO backup FROM orders", "contains INTO"),
    ("SELECT * FROM orders FOR UPDATE", "contains UPDATE"),
    ("  ", "query is empty"),
    ("SELECT 'never closed", "never closed"),
])
def test_anything_but_one_select_is_refused_before_it_is_sent(sql, match):
    with pytest.raises(InvalidInputError, match=match):
        check_select(sql)


def test_quoted_keywords_and_trailing_semicolons_are_fine():
    assert check_select("SELECT 'DELETE; DROP' AS \"update\" -- ; insert\n;") == "SELECT 'DELETE; DROP' AS \"update\""


def test_bad_queries_over_cap_and_empty_results_register_nothing(db, ws):
    url, backend = db
    cases = [
        (dict(query="SELECT * FROM orders", row_cap=10), InvalidInputError, "more than 10 rows, the row cap"),
        (dict(query="SELECT * FROM orders WHERE id > 1000"), InvalidInputError, "returned no rows"),
        (dict(table="empty_t"), InvalidInputError, "has no rows"),
        (dict(table="missing"), NotFoundError, "no table or view named 'missing'"),
        (dict(query="SELECT nope FROM orders"), InvalidInputError, "refused the query|says"),
        (dict(query="UPDATE orders SET qty = 0"), InvalidInputError, "starts with UPDATE"),
    ]
    for kwargs, error, match in cases:
        with pytest.raises(error, match=match):
            _import(ws, url, "never", **kwargs)
    assert datasets.list_datasets(ws) == []


def test_writes_through_a_function_fail_in_the_read_only_transaction(pg_url):
    engine = create_engine(pg_url)
    with engine.begin() as c:
        c.execute(text("CREATE SEQUENCE s"))
    engine.dispose()
    with pytest.raises(InvalidInputError, match="refused a write"):
        read_sql(SqlConnection(pg_url), query="SELECT nextval('s')")


def test_statement_timeout_stops_a_long_query(pg_url):
    from core.platform.errors import ResourceError

    with pytest.raises(ResourceError, match="statement timeout"):
        read_sql(SqlConnection(pg_url), query="SELECT pg_sleep(3)", statement_timeout_s=0.5)


def test_unknown_dialect_and_missing_driver_name_the_package():
    with pytest.raises(InvalidInputError, match="pip install snowflake-sqlalchemy"):
        check_connection(SqlConnection("snowflake://u@account/db"))
    with pytest.raises(InvalidInputError, match="pip install pyodbc"):
        check_connection(SqlConnection("mssql+pyodbc://u@host/db"))
    with pytest.raises(InvalidInputError, match="not a database URL"):
        check_connection(SqlConnection("no url at all"))


def test_wrong_password_names_the_secret_and_never_shows_it(mariadb_url, monkeypatch):
    admin = create_engine(MARIADB_ADMIN)
    user = f"ro_{uuid.uuid4().hex[:6]}"
    with admin.begin() as c:
        c.execute(text(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'right-pw'"))
        c.execute(text(f"CREATE USER '{user}'@'localhost' IDENTIFIED BY 'right-pw'"))
    try:
        monkeypatch.setenv("SHOP_DB_PASSWORD", "wrong-pw")
        conn = SqlConnection(f"mysql+pymysql://{user}@127.0.0.1:3306/", password_secret="SHOP_DB_PASSWORD")
        with pytest.raises(InvalidInputError, match="refused the login") as err:
            check_connection(conn)
        assert "wrong-pw" not in err.value.user_text() and "SHOP_DB_PASSWORD" in err.value.user_text()
        monkeypatch.setenv("SHOP_DB_PASSWORD", "right-pw")
        assert check_connection(conn).url == f"mysql+pymysql://{user}@127.0.0.1:3306/"
        monkeypatch.delenv("SHOP_DB_PASSWORD")
        with pytest.raises(InvalidInputError, match="No secret named 'SHOP_DB_PASSWORD'"):
            check_connection(conn)
    finally:
        with admin.begin() as c:
            c.execute(text(f"DROP USER IF EXISTS '{user}'@'%'"))
            c.execute(text(f"DROP USER IF EXISTS '{user}'@'localhost'"))
        admin.dispose()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word (a firewall that swallows packets)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def hold() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for s in held:
        s.close()
    listener.close()


@pytest.mark.parametrize("scheme", ["postgresql+psycopg", "mysql+pymysql"])
def test_unreachable_host_times_out_with_a_message(silent_server, scheme):
    conn = SqlConnection(f"{scheme}://u@127.0.0.1:{silent_server}/db", connect_timeout_s=2)
    with pytest.raises(StorageError, match="cannot be reached"):
        check_connection(conn)


def test_a_refused_port_is_unreachable_too():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(StorageError, match="cannot be reached"):
        check_connection(SqlConnection(f"postgresql+psycopg://u@127.0.0.1:{port}/db", connect_timeout_s=2))


def test_provenance_and_jobs_never_hold_the_password(tmp_path, ws):
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    _fill(url, "sqlite")
    with pytest.raises(InvalidInputError, match="carries a password"):
        submit_sql_import(ws, "postgresql+psycopg://u:secret@host/db", "x", table="t")
    job = submit_sql_import(ws, url, "orders", table="orders")
    info = jobs.wait(ws, job, timeout=120)
    assert info.status == "succeeded", info.error
    version = datasets.get_version(ws, "orders")
    assert version.n_rows == 50 and jobs.logs(ws, job)[-1].startswith("Saved orders@1")


def test_the_database_going_away_mid_import_fails_cleanly(pg_url, tmp_path):
    engine = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(text("CREATE TABLE big AS SELECT g AS id FROM generate_series(1, 500) g"))

    def kill_the_reader(_fraction, message):
        if message.startswith("Fetched"):
            with engine.connect() as c:
                c.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE datname = current_database() AND pid <> pg_backend_pid()"))

    try:
        with pytest.raises(StorageError, match="was lost after 10 rows"):
            read_sql(SqlConnection(pg_url), table="big", batch_rows=10, staging_dir=tmp_path, progress=kill_the_reader,
                     reader="rows")
        assert list(tmp_path.iterdir()) == []  # the spool is gone too
    finally:
        engine.dispose()


# -------------------------------------------------------------------- PostgreSQL through ADBC (Arrow batches)

needs_adbc = pytest.mark.skipif(not __import__("core.data.sources.sql_adbc", fromlist=["available"]).available(),
                                reason="adbc-driver-postgresql is not installed (pip install adbc-driver-postgresql)")

_TYPED = """CREATE TABLE typed (
    i2 SMALLINT, i4 INTEGER, i8 BIGINT, r REAL, f DOUBLE PRECISION, amount NUMERIC(12, 3), free NUMERIC,
    ok BOOLEAN, t TEXT, v VARCHAR(8), ts TIMESTAMP, tz TIMESTAMPTZ, d DATE, tm TIME, j JSON, jb JSONB,
    u UUID, raw BYTEA)"""


def _typed(pg_url: str, rows: int = 300) -> None:
    engine = create_engine(pg_url)
    with engine.begin() as c:
        c.execute(text(_TYPED))
        c.execute(text(
            "INSERT INTO typed SELECT CASE WHEN g % 5 = 0 THEN NULL ELSE g % 30000 END, g, "
            "CASE WHEN g % 3 = 0 THEN NULL ELSE g * 1000000000::bigint END, g / 7.0, g / 3.0, "
            "(g * 1.125)::numeric(12, 3), CASE WHEN g % 4 = 0 THEN NULL ELSE g / 8.0 END, g % 2 = 0, "
            "'row ' || g, left(md5(g::text), 8), TIMESTAMP '2024-03-01 08:00' + g * INTERVAL '1 hour', "
            "TIMESTAMPTZ '2024-03-01 08:00+05' + g * INTERVAL '1 minute', DATE '2020-01-01' + g, "
            "TIME '00:00' + g * INTERVAL '1 second', json_build_object('g', g), jsonb_build_object('k', g), "
            "md5(g::text)::uuid, decode(lpad(to_hex(g), 8, '0'), 'hex') FROM generate_series(1, :n) g"), {"n": rows})
    engine.dispose()


@needs_adbc
@pytest.mark.parametrize("how", [dict(table="typed"), dict(query="SELECT * FROM typed WHERE i4 > 10 ORDER BY i4")])
def test_the_arrow_reader_gives_the_same_table_as_the_row_reader(pg_url, tmp_path, how):
    _typed(pg_url)
    arrow = read_sql(SqlConnection(pg_url), reader="arrow", batch_bytes=4096, staging_dir=tmp_path, **how)
    rows = read_sql(SqlConnection(pg_url), reader="rows", batch_rows=64, staging_dir=tmp_path, **how)
    assert (arrow.provenance["reader"], rows.provenance["reader"]) == ("adbc", "sqlalchemy")
    assert arrow.table.schema.equals(rows.table.schema), (arrow.table.schema, rows.table.schema)
    # JSON (not JSONB) keeps the server's own text on the Arrow path; the row path re-serialises it.
    assert arrow.table.drop_columns(["j"]).equals(rows.table.drop_columns(["j"]))
    assert [json.loads(v) for v in arrow.table.column("j").to_pylist()] == \
        [json.loads(v) for v in rows.table.column("j").to_pylist()]
    schema = arrow.table.schema
    assert schema.field("amount").type == pa.decimal128(12, 3) and schema.field("i2").type == pa.int64()
    assert schema.field("tz").type == pa.timestamp("ns", tz="UTC") and schema.field("j").type == pa.string()
    assert arrow.table.column("i8").null_count == (100 if "table" in how else 97)
    assert list(tmp_path.iterdir()) == []  # both spools are gone


@needs_adbc
def test_auto_reads_postgresql_through_arrow_and_types_it_cannot_map_through_rows(pg_url, ws):
    _fill(pg_url, "postgresql")
    assert _import(ws, pg_url, "orders", table="orders").provenance["reader"] == "adbc"
    mixed = read_sql(SqlConnection(pg_url), query="SELECT id, INTERVAL '1 day' * id AS wait FROM orders")
    assert mixed.provenance["reader"] == "sqlalchemy" and mixed.table.schema.field("wait").type == pa.duration("us")


@needs_adbc
def test_bad_input_on_the_arrow_reader_is_refused_and_leaves_nothing(pg_url, tmp_path):
    from core.platform.errors import ResourceError

    _fill(pg_url, "postgresql")
    engine = create_engine(pg_url)
    with engine.begin() as c:
        c.execute(text("CREATE SEQUENCE s"))
    engine.dispose()
    conn = SqlConnection(pg_url)
    cases = [
        (dict(query="SELECT * FROM orders", row_cap=10), InvalidInputError, "more than 10 rows, the row cap"),
        (dict(table="orders", row_cap=49), InvalidInputError, "more than 49 rows, the row cap"),
        (dict(query="SELECT * FROM orders WHERE id > 1000"), InvalidInputError, "returned no rows"),
        (dict(table="empty_t"), InvalidInputError, "has no rows"),
        (dict(query="SELECT nope FROM orders"), InvalidInputError, r'(refused the query|says): column "nope" does not'),
        (dict(query="SELECT nextval('s')"), InvalidInputError, "refused a write"),
        (dict(query="SELECT pg_sleep(3)", statement_timeout_s=0.5), ResourceError, "statement timeout"),
    ]
    for kwargs, error, match in cases:
        with pytest.raises(error, match=match):
            read_sql(conn, reader="arrow", staging_dir=tmp_path, **kwargs)
        assert list(tmp_path.iterdir()) == [], kwargs
    capped = read_sql(conn, query="SELECT * FROM orders ORDER BY id", reader="arrow", row_cap=50)
    assert capped.table.num_rows == 50 and capped.provenance["reader"] == "adbc"
    engine = create_engine(pg_url)
    with engine.connect() as c:
        assert c.execute(text("SELECT last_value, is_called FROM s")).one() == (1, False)  # nextval never ran
    engine.dispose()


@needs_adbc
def test_unreachable_hosts_and_unknown_roles_on_the_arrow_reader(silent_server, monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        refused = s.getsockname()[1]
    for port in (silent_server, refused):
        conn = SqlConnection(f"postgresql+psycopg://u@127.0.0.1:{port}/db", connect_timeout_s=2)
        with pytest.raises(StorageError, match="cannot be reached"):
            read_sql(conn, query="SELECT 1", reader="arrow")
    # The test server trusts every login, so a wrong password cannot be refused here; a role that
    # does not exist is, and the password sent for it never shows.
    monkeypatch.setenv("PG_PASSWORD_SECRET", "s3cret-pw")
    conn = SqlConnection("postgresql+psycopg://nobody_here@127.0.0.1:5432/test", password_secret="PG_PASSWORD_SECRET")
    for reader in ("arrow", "rows"):
        with pytest.raises(InvalidInputError, match='refused the login: .*role "nobody_here" does not exist') as err:
            read_sql(conn, query="SELECT 1", reader=reader)
        assert "s3cret-pw" not in err.value.user_text() and "PG_PASSWORD_SECRET" in err.value.user_text()


@pytest.fixture
def big_pg(pg_url) -> Iterator[str]:
    engine = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:  # ~60 MB as COPY: far more than the socket buffers hold
        c.execute(text("CREATE TABLE big AS SELECT g AS id, repeat('x', 50) AS pad FROM generate_series(1, 1000000) g"))
    yield pg_url
    engine.dispose()


@needs_adbc
def test_the_arrow_reader_losing_its_connection_midway_fails_cleanly(big_pg, tmp_path):
    engine = create_engine(big_pg, isolation_level="AUTOCOMMIT")
    seen: list[str] = []

    def kill_the_reader(_fraction, message):
        if message.startswith("Fetched") and not seen:
            seen.append(message)
            with engine.connect() as c:
                c.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                               "WHERE datname = current_database() AND pid <> pg_backend_pid()"))

    try:
        with pytest.raises(StorageError, match=r"was lost after [\d,]+ rows.*Nothing was saved"):
            read_sql(SqlConnection(big_pg), table="big", reader="arrow", batch_bytes=64 * 1024, staging_dir=tmp_path,
                     progress=kill_the_reader)
        assert list(tmp_path.iterdir()) == []
    finally:
        engine.dispose()


@needs_adbc
def test_cancelling_an_arrow_read_stops_it_and_leaves_nothing(big_pg, tmp_path):
    from core.platform.errors import JobCancelledError

    fetched: list[str] = []

    def cancel_after_two(_fraction, message):
        if message.startswith("Fetched"):
            fetched.append(message)
            if len(fetched) == 2:
                raise JobCancelledError("cancelled")

    with pytest.raises(JobCancelledError):
        read_sql(SqlConnection(big_pg), table="big", reader="arrow", batch_bytes=64 * 1024, staging_dir=tmp_path,
                 progress=cancel_after_two)
    assert len(fetched) == 2 and fetched[0].endswith("of 1,000,000") and list(tmp_path.iterdir()) == []
