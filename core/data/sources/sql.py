"""SQL databases as a source: a whole table or one SELECT query, read-only, streamed in batches.

A connection is a SQLAlchemy URL (``postgresql+psycopg://user@host:5432/db``,
``mysql+pymysql://…``, ``sqlite:///path.db``, or any dialect that is installed) whose password is
*referenced by name*: ``password_secret`` names an environment variable or a key of
``.streamlit/secrets.toml``.  The URL stored in provenance never carries a password.

Read-only by construction, as far as a client can make it so: user SQL must be one SELECT or WITH
statement (checked before anything is sent); it runs wrapped as a subquery with a bound LIMIT
(one more row than the cap, so a result over the cap is refused rather than cut), inside a
read-only transaction with a statement timeout (PostgreSQL ``SET TRANSACTION READ ONLY`` and
``statement_timeout``; MySQL/MariaDB ``SET TRANSACTION READ ONLY`` and ``max_statement_time`` /
``max_execution_time``; SQLite ``PRAGMA query_only`` and a progress handler).  SQL can switch
some of this off again, so the only real boundary is a database role that may only SELECT: say
so wherever a connection is set up.

Rows stream through a server-side cursor, batch by batch, into :class:`~.spool.RowSpool` (Arrow
files on local disk), so memory holds one batch of Python rows at a time.
"""

from __future__ import annotations

import math
import re
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from core.data.sources.files import _normalise_datetimes
from core.data.sources.registry import SourceTable, register_reader
from core.data.sources.spool import RowSpool
from core.data.sources.sql_check import BOUNDARY_NOTE, check_select
from core.platform.config import read_secret
from core.platform.errors import AtelierError, InvalidInputError, NotFoundError, ResourceError, StorageError
from core.platform.progress import ProgressFn

__all__ = [
    "DEFAULT_ROW_CAP", "DEFAULT_STATEMENT_TIMEOUT_S", "ConnectionCheck", "SqlConnection", "TableInfo",
    "check_connection", "check_select", "list_tables", "preview_query", "public_url", "read_sql",
]

DEFAULT_ROW_CAP = 5_000_000
DEFAULT_STATEMENT_TIMEOUT_S = 300.0
DEFAULT_CONNECT_TIMEOUT_S = 10.0
BATCH_ROWS = 50_000
_DIALECT_PACKAGES = {
    "bigquery": "sqlalchemy-bigquery", "snowflake": "snowflake-sqlalchemy", "duckdb": "duckdb-engine",
    "redshift": "sqlalchemy-redshift", "clickhouse": "clickhouse-sqlalchemy", "databricks": "databricks-sqlalchemy",
    "trino": "trino[sqlalchemy]", "cockroachdb": "sqlalchemy-cockroachdb", "hana": "sqlalchemy-hana",
}
_DRIVER_PACKAGES = {
    "psycopg": "psycopg[binary]", "psycopg2": "psycopg2-binary", "pg8000": "pg8000", "pymysql": "pymysql",
    "mysqldb": "mysqlclient", "mysqlconnector": "mysql-connector-python", "mariadbconnector": "mariadb",
    "pyodbc": "pyodbc", "pymssql": "pymssql", "oracledb": "oracledb", "cx_oracle": "cx_Oracle",
}
_MODULE_PACKAGES = {"psycopg2": "psycopg2-binary", "MySQLdb": "mysqlclient", "mysql": "mysql-connector-python",
                    "cx_Oracle": "cx_Oracle", "psycopg": "psycopg[binary]"}
_SYSTEM_SCHEMAS = {"information_schema", "pg_catalog", "pg_toast", "mysql", "performance_schema", "sys"}
_SECRET_QUERY_KEYS = re.compile(r"pass|secret|token|key|credential", re.IGNORECASE)


@dataclass(frozen=True)
class SqlConnection:
    """Where the database is and how to log in; holds the *name* of the password's secret only.

    Parameters
    ----------
    url : a SQLAlchemy URL, normally without a password.
    password_secret : name of the environment variable or secrets key holding the password.
    connect_timeout_s : give up connecting after this long.
    """

    url: str
    password_secret: str | None = None
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S


@dataclass(frozen=True)
class ConnectionCheck:
    dialect: str
    driver: str
    server_version: str
    database: str
    url: str


@dataclass(frozen=True)
class TableInfo:
    schema: str | None
    name: str
    kind: str  # "table" | "view"
    rows: int | None
    approximate: bool = False

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name


@dataclass
class _Plan:
    sql: str
    params: dict[str, Any] = field(default_factory=dict)
    label: str = "query"


# -------------------------------------------------------------------- URLs and engines


def public_url(url: str) -> str:
    """``url`` with its password (and any secret-looking query parameter) removed, safe to store or show."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # not a URL: show nothing of it that could be a secret
        return re.sub(r"//[^@/]*@", "//", str(url))
    query = {k: v for k, v in parsed.query.items() if not _SECRET_QUERY_KEYS.search(k)}
    return parsed.set(password=None, query=query).render_as_string(hide_password=False)


def _parse(url: str):
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url((url or "").strip())
    except ArgumentError as exc:
        raise InvalidInputError(
            f"{public_url(url)!r} is not a database URL.",
            hint="Write it as SQLAlchemy does: postgresql+psycopg://user@host:5432/db, "
            "mysql+pymysql://user@host:3306/db or sqlite:///path/to/file.db.",
        ) from exc


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _with_default_driver(parsed):
    """``postgresql://`` and ``mysql://`` pick drivers that may be missing (psycopg2, mysqlclient);
    use the ones Atelier installs instead when the default is absent."""
    name = parsed.drivername
    if name == "postgresql" and not _installed("psycopg2") and _installed("psycopg"):
        return parsed.set(drivername="postgresql+psycopg")
    if name in ("mysql", "mariadb") and not _installed("MySQLdb") and _installed("pymysql"):
        return parsed.set(drivername=f"{name}+pymysql")
    return parsed


def _engine(conn: SqlConnection):
    from sqlalchemy import create_engine, event
    from sqlalchemy.exc import NoSuchModuleError
    from sqlalchemy.pool import NullPool

    parsed = _with_default_driver(_parse(conn.url))
    if conn.password_secret:
        password = read_secret(conn.password_secret)
        if password is None:
            raise InvalidInputError(
                f"No secret named {conn.password_secret!r} is set, so there is no password for "
                f"{public_url(conn.url)}.",
                hint=f"Set the environment variable {conn.password_secret}, or add {conn.password_secret} = \"…\" "
                "to .streamlit/secrets.toml; the password itself is never stored by Atelier.",
            )
        parsed = parsed.set(password=password)
    backend, _, driver = parsed.drivername.partition("+")  # without loading the dialect, which may be missing
    timeout = max(1, math.ceil(conn.connect_timeout_s))
    connect_args: dict[str, Any] = {}
    if backend == "postgresql" and driver in ("psycopg", "psycopg2"):
        connect_args["connect_timeout"] = max(2, timeout)  # libpq treats less than 2 as 2
    elif backend in ("mysql", "mariadb"):
        connect_args["connect_timeout"] = timeout
        if driver == "pymysql":
            connect_args["read_timeout"] = timeout  # lifted once connected (below)
    elif backend == "sqlite":
        connect_args["timeout"] = timeout
    if "async" in driver or driver == "asyncpg":
        raise InvalidInputError(f"The driver {driver!r} is asynchronous; Atelier needs a synchronous one.",
                                hint="Use postgresql+psycopg://… or mysql+pymysql://… instead.")
    try:
        engine = create_engine(parsed, poolclass=NullPool, connect_args=connect_args)
    except NoSuchModuleError as exc:
        package = _DIALECT_PACKAGES.get(backend) or _DRIVER_PACKAGES.get(driver)
        raise InvalidInputError(
            f"No SQLAlchemy dialect is installed for {parsed.drivername!r}"
            + (f": pip install {package}." if package else "."),
            hint=("Install it into the environment Atelier runs in, then try again." if package else
                  "Check the spelling of the URL's scheme (postgresql, mysql, sqlite, mssql, oracle…), "
                  "or install the package that provides this dialect."),
        ) from exc
    except ImportError as exc:
        missing = getattr(exc, "name", None) or ""
        package = _DRIVER_PACKAGES.get(driver) or _MODULE_PACKAGES.get(missing.split(".")[0]) or missing
        raise InvalidInputError(
            f"The database driver {driver!r} for {backend} URLs is not installed (Python module {missing!r}): "
            f"pip install {package}.",
            hint="Install it into the environment Atelier runs in"
            + (", or write postgresql+psycopg://… to use psycopg 3." if backend == "postgresql" else
               ", or write mysql+pymysql://… to use PyMySQL." if backend in ("mysql", "mariadb") else "."),
        ) from exc
    if backend == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_read_only(dbapi_conn, _record):  # every connection of this engine is read-only
            dbapi_conn.execute("PRAGMA query_only = ON")

    if driver == "pymysql":
        # PyMySQL's connect_timeout covers the TCP connect only; the server's greeting is read under
        # read_timeout, so a server that accepts and stays silent would hang forever.  Read the
        # greeting under the connect timeout, then lift it (statements have their own timeout).

        @event.listens_for(engine, "connect")
        def _pymysql_lift_read_timeout(dbapi_conn, _record):
            dbapi_conn._read_timeout = None

    return engine


def _begin_read_only(c, statement_timeout_s: float) -> None:
    """Make the transaction about to start read-only, with a statement timeout, where the dialect allows."""
    backend = c.dialect.name
    ms = max(1, int(statement_timeout_s * 1000))
    if backend == "postgresql":
        c.exec_driver_sql("SET TRANSACTION READ ONLY")
        c.exec_driver_sql(f"SET LOCAL statement_timeout = {ms}")
    elif backend in ("mysql", "mariadb"):
        if getattr(c.dialect, "is_mariadb", False):
            c.exec_driver_sql(f"SET SESSION max_statement_time = {ms / 1000:.3f}")
        else:
            c.exec_driver_sql(f"SET SESSION max_execution_time = {ms}")
        c.exec_driver_sql("SET TRANSACTION READ ONLY")
    elif backend == "sqlite":
        # No server-side timeout: a progress handler aborts the statement ("interrupted") past the deadline.
        deadline = time.monotonic() + statement_timeout_s
        c.connection.dbapi_connection.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)


# -------------------------------------------------------------------- errors at the boundary


def _first_line(exc: BaseException, secret: str | None) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    if secret:
        text = text.replace(secret, "***")
    return text.rstrip(".")


def _translate(exc: BaseException, conn: SqlConnection, rows: int = 0) -> AtelierError:
    """A driver's exception as a message that says what to fix (never the password)."""
    from sqlalchemy.exc import DBAPIError, ProgrammingError

    secret = read_secret(conn.password_secret) if conn.password_secret else None
    where = public_url(conn.url)
    message = _first_line(exc, secret)
    low = message.lower()
    if any(s in low for s in ("password authentication failed", "access denied for user", "authentication failed",
                              "no password supplied", "password is required")):
        return InvalidInputError(
            f"The database at {where} refused the login: {message}.",
            hint=(f"Check the user name in the URL and the password in the secret {conn.password_secret!r}."
                  if conn.password_secret else "Check the user name, and name the secret that holds the password."),
        )
    if any(s in low for s in ("statement timeout", "max_statement_time", "maximum statement execution time",
                              "interrupted", "query execution was interrupted")):
        return ResourceError(
            f"The query ran longer than the statement timeout and was stopped by the database: {message}.",
            hint="Raise the statement timeout, or make the query cheaper (filter rows, select fewer columns).",
        )
    if any(s in low for s in ("read-only transaction", "read only transaction", "readonly database",
                              "query_only", "read_only")):
        return InvalidInputError(
            f"The database refused a write: {message}.",
            hint="Only reading queries can be imported. " + BOUNDARY_NOTE,
        )
    if rows and any(s in low for s in ("closed the connection", "lost connection", "terminating connection",
                                       "server has gone away", "connection reset", "consuming input failed",
                                       "connection is closed", "admin_shutdown")):
        return StorageError(
            f"The connection to {where} was lost after {rows:,} rows: {message}. Nothing was saved.",
            hint="Check that the database is up, then import again.",
        )
    if any(s in low for s in ("timeout expired", "timed out", "can't connect", "connection refused",
                              "could not connect", "could not translate host name", "name or service not known",
                              "no route to host", "connection to server", "unable to open database",
                              "network is unreachable", "closed the connection", "lost connection")):
        return StorageError(
            f"The database at {where} cannot be reached: {message}.",
            hint="Check the host, port and database name, that the server runs and accepts connections from "
            "this machine (firewall, allow-list), and that the URL's driver matches the server.",
        )
    if any(s in low for s in ("no such column", "no such table", "unknown column", "doesn't exist", "syntax")):
        return InvalidInputError(f"The database refused the query: {message}.",
                                 hint="Fix the SQL; try it in your database's own client first.")
    if "does not exist" in low or "unknown database" in low:
        return InvalidInputError(f"The database at {where} says: {message}.",
                                 hint="Check the database, schema, table and column names.")
    if isinstance(exc, ProgrammingError) or (isinstance(exc, DBAPIError) and "syntax" in low):
        return InvalidInputError(f"The database refused the query: {message}.",
                                 hint="Fix the SQL; try it in your database's own client first.")
    if isinstance(exc, DBAPIError):
        return StorageError(f"The database at {where} reported an error: {message}.")
    return StorageError(f"Reading from {where} failed: {message}.")


def _guarded(conn: SqlConnection):
    """Context manager: driver and SQLAlchemy errors leave as Atelier errors."""
    from contextlib import contextmanager

    from sqlalchemy.exc import SQLAlchemyError

    @contextmanager
    def guard():
        try:
            yield
        except AtelierError:
            raise
        except (SQLAlchemyError, OSError) as exc:
            raise _translate(exc, conn) from exc

    return guard()


# -------------------------------------------------------------------- browsing


def check_connection(conn: SqlConnection) -> ConnectionCheck:
    """Connect, run ``SELECT 1``, and say what answered."""
    from sqlalchemy import text

    with _guarded(conn):
        engine = _engine(conn)
        try:
            with engine.connect() as c:
                c.execute(text("SELECT 1")).all()
                version = ".".join(str(p) for p in (c.dialect.server_version_info or ())) or "unknown"
                database = engine.url.database or ""
                return ConnectionCheck(c.dialect.name, c.dialect.driver, version, database, public_url(conn.url))
        finally:
            engine.dispose()


def list_tables(conn: SqlConnection, schema: str | None = None, *, count_timeout_s: float = 10.0) -> list[TableInfo]:
    """Tables and views of every user schema (or of ``schema``), with row counts.

    Counts are exact (``COUNT(*)``, each under ``count_timeout_s``) except on PostgreSQL tables the
    planner has statistics for, where its estimate is used (``approximate=True``); a count that
    times out is ``None``.
    """
    from sqlalchemy import inspect, text

    with _guarded(conn):
        engine = _engine(conn)
        try:
            inspector = inspect(engine)
            backend = engine.dialect.name
            default = inspector.default_schema_name
            schemas = [schema] if schema else [s for s in inspector.get_schema_names()
                                               if s not in _SYSTEM_SCHEMAS and not s.startswith("pg_")]
            found: list[TableInfo] = []
            estimates: dict[tuple[str, str], int] = {}
            with engine.connect() as c:
                if backend == "postgresql":
                    with c.begin():
                        rows = c.execute(text(
                            "SELECT n.nspname, c.relname, c.reltuples::bigint FROM pg_class c "
                            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'm')"))
                        estimates = {(s, t): r for s, t, r in rows if r is not None and r > 0}
                for name in schemas:
                    for kind, tables in (("table", inspector.get_table_names(schema=name)),
                                         ("view", inspector.get_view_names(schema=name))):
                        for table in tables:
                            shown_schema = None if name == default or backend == "sqlite" else name
                            if (name, table) in estimates:
                                found.append(TableInfo(shown_schema, table, kind, estimates[(name, table)], True))
                                continue
                            found.append(TableInfo(shown_schema, table, kind,
                                                   _count(c, name, table, count_timeout_s)))
            return found
        finally:
            engine.dispose()


def _count(c, schema: str | None, table: str, timeout_s: float) -> int | None:
    from sqlalchemy import func, select
    from sqlalchemy import table as sa_table
    from sqlalchemy.exc import DBAPIError

    try:
        with c.begin():
            _begin_read_only(c, timeout_s)
            return int(c.execute(select(func.count()).select_from(sa_table(table, schema=schema))).scalar_one())
    except DBAPIError:  # a count that times out (or a view that cannot be read) is shown as unknown
        return None


# -------------------------------------------------------------------- reading


def _resolve_table(inspector, table: str, schema: str | None) -> tuple[str | None, str]:
    if inspector.has_table(table, schema=schema):
        return schema, table
    if schema is None and "." in table:
        left, right = table.split(".", 1)
        if inspector.has_table(right, schema=left):
            return left, right
    views = inspector.get_view_names(schema=schema)
    if table in views:
        return schema, table
    known = sorted(inspector.get_table_names(schema=schema) + views)
    where = f"schema {schema!r}" if schema else "the default schema"
    raise NotFoundError(
        f"There is no table or view named {table!r} in {where}.",
        hint=(f"It has: {', '.join(known[:20])}{' …' if len(known) > 20 else ''}." if known
              else "That schema has no tables; check the database name in the URL."),
    )


def _arrow_hint(sa_type) -> pa.DataType | None:
    """The Arrow type for a reflected SQLAlchemy column type (used while a column holds only nulls)."""
    from sqlalchemy import types as t

    try:
        if isinstance(sa_type, t.Boolean):
            return pa.bool_()
        if isinstance(sa_type, t.Integer):
            return pa.int64()
        if isinstance(sa_type, t.Numeric):
            if isinstance(sa_type, t.Float) or not sa_type.asdecimal:
                return pa.float64()
            p, s = sa_type.precision, sa_type.scale
            if p and p <= 38:
                return pa.decimal128(p, s or 0)
            return None
        if isinstance(sa_type, t.DateTime):
            return pa.timestamp("us", tz="UTC" if sa_type.timezone else None)
        if isinstance(sa_type, t.Date):
            return pa.date32()
        if isinstance(sa_type, t.Time):
            return pa.time64("us")
        if isinstance(sa_type, t.JSON | t.String | t.Enum | t.Uuid):
            return pa.string()
        if isinstance(sa_type, t.LargeBinary):
            return pa.binary()
    except Exception:  # an exotic dialect type: let the values decide
        return None
    return None


def _description_hints(description, columns: list[str]) -> dict[str, pa.DataType]:
    """Decimal precision and scale from the cursor (PEP 249 positions 4 and 5)."""
    hints: dict[str, pa.DataType] = {}
    for name, col in zip(columns, description or (), strict=False):
        try:
            precision, scale = col[4], col[5]
        except (IndexError, TypeError):
            continue
        # Only NUMERIC-like columns report both; the spool uses the hint only for Decimal values.
        if isinstance(precision, int) and isinstance(scale, int) and 0 < precision <= 38 and 0 <= scale <= precision:
            hints[name] = pa.decimal128(precision, scale)
    return hints


def _limited(sql: str, backend: str, cap: int) -> _Plan:
    sql = sql.replace(":", "\\:")  # the user's colons (casts, strings) are not SQLAlchemy bind parameters
    if backend in ("postgresql", "mysql", "mariadb", "sqlite", "duckdb"):
        return _Plan(f"SELECT * FROM (\n{sql}\n) AS atelier_query LIMIT :atelier_cap", {"atelier_cap": cap})
    return _Plan(sql)


def read_sql(
    conn: SqlConnection,
    *,
    table: str | None = None,
    schema: str | None = None,
    query: str | None = None,
    row_cap: int = DEFAULT_ROW_CAP,
    statement_timeout_s: float = DEFAULT_STATEMENT_TIMEOUT_S,
    staging_dir: Path | None = None,
    progress: ProgressFn | None = None,
    batch_rows: int = BATCH_ROWS,
    allow_truncate: bool = False,
) -> SourceTable:
    """Read a whole table, or the rows of one SELECT query, as a table plus provenance.

    Parameters
    ----------
    table, schema : the table (or view) to read; ``schema.table`` works too.
    query : one SELECT/WITH statement instead of a table.
    row_cap : refuse a result with more rows than this (``allow_truncate``: keep the first ones).
    statement_timeout_s : the database stops a statement running longer than this.
    staging_dir : local folder for the spooled batches.
    progress : ``progress(fraction, message)`` after every batch (a job's cancel check rides on it).

    Raises
    ------
    InvalidInputError, NotFoundError, StorageError, ResourceError
        With a message for each way it can fail; nothing is kept of a failed read.
    """
    from sqlalchemy import func, inspect, literal_column, select, text
    from sqlalchemy import table as sa_table

    report = progress or (lambda _f, _m: None)
    if (table is None) == (query is None):
        raise InvalidInputError("Give either a table or a query to import, not both and not neither.")
    if row_cap is None or int(row_cap) < 1:
        raise InvalidInputError(f"The row cap must be a positive number of rows, got {row_cap!r}.")
    row_cap = int(row_cap)
    engine = None
    spool = None
    try:
        with _guarded(conn):
            engine = _engine(conn)
            backend = engine.dialect.name
            hints: dict[str, pa.DataType] = {}
            total: int | None = None
            if query is not None:
                checked = check_select(query, backend)
                plan = _limited(checked, backend, row_cap + 1)
                statement = text(plan.sql).bindparams(**plan.params) if plan.params else text(plan.sql)
                described = {"query": checked}
            else:
                inspector = inspect(engine)
                schema, table = _resolve_table(inspector, table.strip(), schema)
                try:
                    hints = {c["name"]: h for c in inspector.get_columns(table, schema=schema)
                             if (h := _arrow_hint(c["type"])) is not None}
                except Exception:  # a view or type the dialect cannot reflect: the values decide
                    hints = {}
                source = sa_table(table, schema=schema)
                statement = select(literal_column("*")).select_from(source).limit(row_cap + 1)
                described = {"table": table, "schema": schema}
            report(0.0, "Connecting to the database")
            with engine.connect() as c:
                if table is not None:
                    with c.begin():
                        _begin_read_only(c, statement_timeout_s)
                        total = int(c.execute(select(func.count()).select_from(source)).scalar_one())
                with c.begin():
                    _begin_read_only(c, statement_timeout_s)
                    result = c.execution_options(stream_results=True, yield_per=batch_rows).execute(statement)
                    columns = [str(k) for k in result.keys()]
                    hints = _description_hints(result.cursor.description if result.cursor else None,
                                               columns) | hints  # a reflected type is more exact
                    spool = RowSpool(columns, Path(staging_dir or tempfile.gettempdir()), hints)
                    target = min(total, row_cap) if total is not None else None
                    try:
                        for rows in result.partitions(batch_rows):
                            if spool.rows + len(rows) > row_cap:
                                if not allow_truncate:
                                    raise InvalidInputError(
                                        f"The {'table' if table else 'query'} returns more than {row_cap:,} rows, "
                                        "the row cap; nothing was imported.",
                                        hint="Raise the row cap, or narrow the query (WHERE, LIMIT, fewer joins).",
                                    )
                                spool.append(rows[: row_cap - spool.rows])
                                break
                            spool.append(rows)
                            fraction = spool.rows / target if target else min(0.95, spool.rows / row_cap)
                            report(min(0.99, fraction), f"Fetched {spool.rows:,} rows"
                                   + (f" of {target:,}" if target else ""))
                    except AtelierError:
                        raise
                    except Exception as exc:
                        from sqlalchemy.exc import SQLAlchemyError

                        if isinstance(exc, SQLAlchemyError | OSError):
                            raise _translate(exc, conn, spool.rows) from exc
                        raise
                    finally:
                        result.close()
        if spool.rows == 0:
            what = (f"The table {described['table']!r} has no rows" if table else "The query returned no rows")
            raise InvalidInputError(f"{what}, so there is nothing to import.",
                                    hint="Check the table, or the query's WHERE clause and joins.")
        arrow = _normalise_datetimes(spool.finish())
        report(1.0, f"Read {arrow.num_rows:,} rows × {arrow.num_columns} columns")
    finally:
        if spool is not None:
            spool.discard()
        if engine is not None:
            engine.dispose()
    provenance = {
        "source": "sql", "url": public_url(conn.url), "dialect": backend, **described,
        "password_secret": conn.password_secret, "row_cap": row_cap, "statement_timeout_s": statement_timeout_s,
        "rows": arrow.num_rows, "warnings": list(spool.warnings),
    }
    return SourceTable(arrow, provenance, warnings=list(spool.warnings))


def preview_query(conn: SqlConnection, query: str, rows: int = 20,
                  statement_timeout_s: float = 30.0):
    """The first ``rows`` rows of a SELECT (a pandas frame), read the same guarded way as an import."""
    source = read_sql(conn, query=query, row_cap=rows, statement_timeout_s=statement_timeout_s, allow_truncate=True,
                      batch_rows=rows)
    return source.table.to_pandas()


# -------------------------------------------------------------------- the registry's reader


def _read_sql_source(location: str, options: Mapping[str, Any], progress: ProgressFn,
                     max_bytes: int | None) -> SourceTable:
    """``sql:<SQLAlchemy URL>`` with options ``table``/``schema`` or ``query``, ``password_secret``,
    ``row_cap``, ``statement_timeout_s``, ``connect_timeout_s``, ``staging_dir``."""
    conn = SqlConnection(location, options.get("password_secret") or None,
                         float(options.get("connect_timeout_s") or DEFAULT_CONNECT_TIMEOUT_S))
    return read_sql(
        conn, table=options.get("table") or None, schema=options.get("schema") or None,
        query=options.get("query") or None, row_cap=int(options.get("row_cap") or DEFAULT_ROW_CAP),
        statement_timeout_s=float(options.get("statement_timeout_s") or DEFAULT_STATEMENT_TIMEOUT_S),
        staging_dir=Path(options["staging_dir"]) if options.get("staging_dir") else None, progress=progress,
    )


register_reader("sql", _read_sql_source)
