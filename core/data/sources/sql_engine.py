"""Connecting to a SQL database: URLs without passwords, engines with timeouts, read-only transactions.

:func:`public_url` is what may be stored or shown of a URL.  :func:`make_engine` builds a
SQLAlchemy engine whose connect timeout works for the driver in use, fills in the password from
the secret the connection names, and names the package to install when a dialect or driver is
missing.  :func:`begin_read_only` makes the transaction about to start read-only with a
statement timeout, per dialect.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from typing import Any

from core.platform.config import read_secret
from core.platform.errors import InvalidInputError

__all__ = ["DEFAULT_CONNECT_TIMEOUT_S", "SqlConnection", "begin_read_only", "make_engine", "public_url"]

DEFAULT_CONNECT_TIMEOUT_S = 10.0
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


def make_engine(conn: SqlConnection):
    """A SQLAlchemy engine for ``conn`` (no pool: every import connects afresh)."""
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


def begin_read_only(c, statement_timeout_s: float) -> None:
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
