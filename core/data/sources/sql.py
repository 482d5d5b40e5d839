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
files on local disk), so memory holds one batch of Python rows at a time.  PostgreSQL goes through
ADBC's Arrow batches instead when ``adbc-driver-postgresql`` is installed (:mod:`.sql_adbc`, same
guarantees, no Python rows at all).  Connecting lives in :mod:`.sql_engine`, error messages in
:mod:`.sql_errors`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from core.data.sources import sql_adbc
from core.data.sources.files import _normalise_datetimes
from core.data.sources.registry import SourceTable, register_reader
from core.data.sources.spool import RowSpool
from core.data.sources.sql_check import BOUNDARY_NOTE, check_select
from core.data.sources.sql_engine import (
    DEFAULT_CONNECT_TIMEOUT_S,
    SqlConnection,
    begin_read_only,
    make_engine,
    public_url,
)
from core.data.sources.sql_errors import arrow_errors, translate
from core.platform.config import read_secret
from core.platform.errors import AtelierError, InvalidInputError, NotFoundError
from core.platform.progress import ProgressFn

__all__ = [
    "BOUNDARY_NOTE", "DEFAULT_ROW_CAP", "DEFAULT_STATEMENT_TIMEOUT_S", "ConnectionCheck", "SqlConnection", "TableInfo",
    "check_connection", "check_select", "list_tables", "preview_query", "public_url", "read_sql",
]

DEFAULT_ROW_CAP = 5_000_000
DEFAULT_STATEMENT_TIMEOUT_S = 300.0
BATCH_ROWS = 50_000
_SYSTEM_SCHEMAS = {"information_schema", "pg_catalog", "pg_toast", "mysql", "performance_schema", "sys"}


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


# -------------------------------------------------------------------- errors at the boundary


def _translate(exc: BaseException, conn: SqlConnection, rows: int = 0) -> AtelierError:
    secret = read_secret(conn.password_secret) if conn.password_secret else None
    return translate(exc, where=public_url(conn.url), password_secret=conn.password_secret, secret=secret, rows=rows)


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
        except (SQLAlchemyError, OSError, *arrow_errors()) as exc:
            raise _translate(exc, conn) from exc

    return guard()


# -------------------------------------------------------------------- browsing


def check_connection(conn: SqlConnection) -> ConnectionCheck:
    """Connect, run ``SELECT 1``, and say what answered."""
    from sqlalchemy import text

    with _guarded(conn):
        engine = make_engine(conn)
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
        engine = make_engine(conn)
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
            begin_read_only(c, timeout_s)
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


def _use_arrow(reader: str, backend: str) -> bool:
    if reader == "rows":
        return False
    if backend == "postgresql" and sql_adbc.available():
        return True
    if reader == "arrow":
        raise InvalidInputError(f"The Arrow reader is for PostgreSQL with ADBC installed, not {backend!r}.",
                                hint="pip install adbc-driver-postgresql, or read rows (reader='rows').")
    return False


def _read_arrow(conn: SqlConnection, engine, sql: str, staging_dir: Path | None, statement_timeout_s: float,
                over_cap, fetched, row_cap: int, batch_bytes: int) -> RowSpool | None:
    """Stream ``sql`` through ADBC into a spool (``None``: a column type the row path must map)."""
    made: list[RowSpool] = []

    def make_spool(columns: list[str]) -> RowSpool:
        made.append(RowSpool(columns, Path(staging_dir or tempfile.gettempdir())))
        return made[0]

    def on_batch(spool: RowSpool, batch: pa.RecordBatch) -> pa.RecordBatch | None:
        if spool.rows >= row_cap:
            return None  # truncating, and the cap is reached
        if over_cap(spool.rows + batch.num_rows):
            batch = batch.slice(0, row_cap - spool.rows)
        return batch

    try:
        done = sql_adbc.stream_into(sql_adbc.libpq_uri(engine.url, conn.connect_timeout_s), sql, make_spool,
                                    statement_timeout_s=statement_timeout_s, on_batch=on_batch,
                                    after_batch=lambda spool: fetched(spool.rows), batch_bytes=batch_bytes)
    except AtelierError:
        for spool in made:
            spool.discard()
        raise
    except (OSError, pa.ArrowException, *arrow_errors()) as exc:  # the reader's errors are Arrow's
        rows = made[0].rows if made else 0
        for spool in made:
            spool.discard()
        raise _translate(exc, conn, rows) from exc
    except BaseException:
        for spool in made:
            spool.discard()
        raise
    return done


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
    reader: str = "auto",
    batch_bytes: int = sql_adbc.BATCH_BYTES,
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
    reader : ``"auto"`` (PostgreSQL through ADBC when installed, else SQLAlchemy rows), ``"arrow"``
        (ADBC or an error) or ``"rows"`` (SQLAlchemy always).
    batch_rows, batch_bytes : the size of one batch for the row reader, and for ADBC.

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
    if reader not in ("auto", "arrow", "rows"):
        raise InvalidInputError(f"reader must be 'auto', 'arrow' or 'rows', got {reader!r}.")
    engine = None
    spool = None
    checked = None
    try:
        with _guarded(conn):
            engine = make_engine(conn)
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
            if table is not None:
                with engine.connect() as c, c.begin():
                    begin_read_only(c, statement_timeout_s)
                    total = int(c.execute(select(func.count()).select_from(source)).scalar_one())
            target = min(total, row_cap) if total is not None else None
            what = "table" if table else "query"

            def over_cap(rows: int) -> bool:
                if rows <= row_cap:
                    return False
                if not allow_truncate:
                    raise InvalidInputError(
                        f"The {what} returns more than {row_cap:,} rows, the row cap; nothing was imported.",
                        hint="Raise the row cap, or narrow the query (WHERE, LIMIT, fewer joins).",
                    )
                return True

            def fetched(rows: int) -> None:
                fraction = rows / target if target else min(0.95, rows / row_cap)
                report(min(0.99, fraction), f"Fetched {rows:,} rows" + (f" of {target:,}" if target else ""))

            if _use_arrow(reader, backend):
                if query is not None:
                    arrow_sql = f"SELECT * FROM (\n{checked}\n) AS atelier_query LIMIT {row_cap + 1}"
                else:
                    arrow_sql = str(statement.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
                used = "adbc"
                spool = _read_arrow(conn, engine, arrow_sql, staging_dir, statement_timeout_s, over_cap, fetched,
                                    row_cap, batch_bytes)
            if spool is None:
                used = "sqlalchemy"
                with engine.connect() as c:
                    with c.begin():
                        begin_read_only(c, statement_timeout_s)
                        result = c.execution_options(stream_results=True, yield_per=batch_rows).execute(statement)
                        columns = [str(k) for k in result.keys()]
                        hints = _description_hints(result.cursor.description if result.cursor else None,
                                                   columns) | hints  # a reflected type is more exact
                        spool = RowSpool(columns, Path(staging_dir or tempfile.gettempdir()), hints)
                        try:
                            for rows in result.partitions(batch_rows):
                                if over_cap(spool.rows + len(rows)):
                                    spool.append(rows[: row_cap - spool.rows])
                                    break
                                spool.append(rows)
                                fetched(spool.rows)
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
        "rows": arrow.num_rows, "reader": used, "warnings": list(spool.warnings),
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
    ``row_cap``, ``statement_timeout_s``, ``connect_timeout_s``, ``staging_dir``, ``reader``."""
    conn = SqlConnection(location, options.get("password_secret") or None,
                         float(options.get("connect_timeout_s") or DEFAULT_CONNECT_TIMEOUT_S))
    return read_sql(
        conn, table=options.get("table") or None, schema=options.get("schema") or None,
        query=options.get("query") or None, row_cap=int(options.get("row_cap") or DEFAULT_ROW_CAP),
        statement_timeout_s=float(options.get("statement_timeout_s") or DEFAULT_STATEMENT_TIMEOUT_S),
        staging_dir=Path(options["staging_dir"]) if options.get("staging_dir") else None, progress=progress,
        reader=str(options.get("reader") or "auto"),
    )


register_reader("sql", _read_sql_source)
