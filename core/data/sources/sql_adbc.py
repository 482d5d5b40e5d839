"""PostgreSQL through ADBC: the server's binary COPY output read straight into Arrow batches.

The row path (SQLAlchemy + psycopg) turns every value into a Python object and back; ADBC's
PostgreSQL driver (``adbc-driver-postgresql``, optional) decodes ``COPY … TO STDOUT (FORMAT
binary)`` in C into record batches of a bounded size, three times faster on a wide table and
with no Python rows in memory.  :mod:`.sql` uses it for PostgreSQL when it is installed.

The same guarantees as the row path: the statement runs in a read-only transaction with a
statement timeout (``SET TRANSACTION READ ONLY`` and ``SET LOCAL statement_timeout`` open the
driver's transaction, which is never committed), under the caller's row cap, batch by batch
into the caller's :class:`~.spool.RowSpool`.  Columns come out as the row path makes them
(integers as int64, floats as float64, NUMERIC(p, s) as decimal128(p, s), UUIDs as text, JSON
as text: the server's own text of it, where the row path re-serialises the parsed value); a
result holding any other PostgreSQL type (intervals, arrays, network addresses…) is left to
the row path, decided from the statement's schema before it runs.

One difference to know: COPY is one statement, so the statement timeout covers the whole
transfer, where the row path's timeout covers each fetch of a server-side cursor.
"""

from __future__ import annotations

import importlib.util
import math
import uuid
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from core.data.sources.spool import RowSpool

__all__ = ["BATCH_BYTES", "available", "libpq_uri", "plan_columns", "stream_into"]

# Batches of about 16 MB (the driver's own default): few enough calls from Python, and the
# progress bar and a cancel check still move every few hundred thousand narrow rows.
BATCH_BYTES = 16 * 1024 * 1024
_MAX_DECIMAL_PRECISION = 38
_MAX_INFERRED_SCALE = 18  # the row path keeps at most 18 decimals of an unconstrained NUMERIC


def available() -> bool:
    """True when the ADBC PostgreSQL driver is installed."""
    return importlib.util.find_spec("adbc_driver_postgresql") is not None


def libpq_uri(parsed, connect_timeout_s: float) -> str:
    """A libpq connection URI from a SQLAlchemy URL (password included: never log it)."""
    query = dict(parsed.query)
    query.setdefault("connect_timeout", str(max(2, math.ceil(connect_timeout_s))))  # libpq treats < 2 as 2
    return parsed.set(drivername="postgresql", query=query).render_as_string(hide_password=False)


# -------------------------------------------------------------------- column types


def _numeric_type(field: pa.Field) -> pa.DataType | None:
    """decimal128(p, s) from NUMERIC's type modifier; ``None`` for an unconstrained NUMERIC."""
    meta = field.metadata or {}
    try:
        typmod = int(meta.get(b"POSTGRESQL:typmod", b"-1"))
    except ValueError:
        return None
    if typmod < 4:
        return None
    precision, scale = ((typmod - 4) >> 16) & 0xFFFF, (typmod - 4) & 0xFFFF
    if 0 < precision <= _MAX_DECIMAL_PRECISION and scale <= precision:
        return pa.decimal128(precision, scale)
    return None


def _pg_type(field: pa.Field) -> str:
    meta = field.metadata or {}
    return (meta.get(b"POSTGRESQL:type") or b"").decode()


def plan_columns(schema: pa.Schema) -> list[Callable[[pa.Array], pa.Array]] | None:
    """One converter per column (the row path's types), or ``None`` when a column has a type
    this reader does not map like the row path does (the caller then reads rows)."""
    plan: list[Callable[[pa.Array], pa.Array]] = []
    for field in schema:
        kind, pg = field.type, _pg_type(field)
        if pa.types.is_integer(kind):
            plan.append(lambda a: a.cast(pa.int64()))
        elif pa.types.is_float32(kind):
            plan.append(_real_as_double)
        elif pa.types.is_floating(kind):
            plan.append(lambda a: a.cast(pa.float64()))
        elif pa.types.is_boolean(kind) or pa.types.is_string(kind) or pa.types.is_large_string(kind) \
                or pa.types.is_binary(kind) or pa.types.is_date32(kind) or kind == pa.time64("us"):
            plan.append(_identity)
        elif pa.types.is_timestamp(kind):
            plan.append(lambda a, tz=kind.tz: a.cast(pa.timestamp("us", tz="UTC" if tz else None)))
        elif isinstance(kind, pa.BaseExtensionType) and pg == "numeric":
            plan.append(_decimal_converter(_numeric_type(field)))
        elif isinstance(kind, pa.BaseExtensionType) and pg in ("json", "jsonb"):
            plan.append(lambda a: a.storage.cast(pa.string()))
        elif isinstance(kind, pa.BaseExtensionType) and pg == "uuid":
            plan.append(_uuid_text)
        else:
            return None
    return plan


def _identity(array: pa.Array) -> pa.Array:
    return array


def _real_as_double(array: pa.Array) -> pa.Array:
    """REAL as the double its shortest decimal text names (0.14285715, as psql shows it and the
    row path gives), not the float32 bits widened (0.1428571492433548)."""
    return array.cast(pa.string()).cast(pa.float64())


def _decimal_converter(declared: pa.DataType | None) -> Callable[[pa.Array], pa.Array]:
    """NUMERIC arrives as text: parse it as the declared decimal, or (unconstrained) as a decimal
    with the batch's widest scale, as the row path does; NaN or too many digits stay text."""

    def convert(array: pa.Array) -> pa.Array:
        text = getattr(array, "storage", array)
        kind = declared
        if kind is None:
            fraction = pc.utf8_length(pc.replace_substring_regex(text, r"^[^.]*\.?", ""))
            scale = pc.max(fraction).as_py() or 0
            kind = pa.decimal128(_MAX_DECIMAL_PRECISION, min(int(scale), _MAX_INFERRED_SCALE))
        try:
            return text.cast(kind)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return text.cast(pa.string())

    return convert


def _uuid_text(array: pa.Array) -> pa.Array:
    raw = getattr(array, "storage", array)
    return pa.array([None if b is None else str(uuid.UUID(bytes=b)) for b in raw.to_pylist()], type=pa.string())


# -------------------------------------------------------------------- reading


def _open(uri: str, statement_timeout_s: float):
    import adbc_driver_postgresql.dbapi as pg

    connection = pg.connect(uri)  # autocommit off: the driver opens a transaction, never committed here
    try:
        cursor = connection.cursor()
        cursor.execute("SET TRANSACTION READ ONLY")
        cursor.execute(f"SET LOCAL statement_timeout = {max(1, int(statement_timeout_s * 1000))}")
        return connection, cursor
    except BaseException:
        connection.close()
        raise


def stream_into(uri: str, sql: str, make_spool: Callable[[list[str]], RowSpool], *, statement_timeout_s: float,
                on_batch: Callable[[RowSpool, pa.RecordBatch], pa.RecordBatch | None],
                after_batch: Callable[[RowSpool], Any] = lambda _s: None,
                batch_bytes: int = BATCH_BYTES) -> RowSpool | None:
    """Run ``sql`` read-only and append its batches to the spool ``make_spool(columns)`` builds.

    ``on_batch(spool, batch)`` returns the batch to append (sliced at a row cap) or ``None`` to
    stop; ``after_batch(spool)`` reports progress, and a job's cancel rides on it.  Whatever
    either raises stops the transfer and cancels the statement on the server.  Returns ``None``
    without reading a row when the result has a column type only the row path maps faithfully.
    Driver errors propagate as they are (the caller translates them).
    """
    connection, cursor = _open(uri, statement_timeout_s)
    reader = None
    try:
        plan = plan_columns(cursor.adbc_execute_schema(sql))  # the server describes it; nothing runs yet
        if plan is None:
            return None
        cursor.adbc_statement.set_options(**{"adbc.postgresql.batch_size_hint_bytes": str(int(batch_bytes))})
        cursor.execute(sql)
        reader = cursor.fetch_record_batch()
        spool = make_spool(list(reader.schema.names))
        for raw in reader:
            batch = pa.RecordBatch.from_arrays([convert(c) for convert, c in zip(plan, raw.columns, strict=True)],
                                               names=raw.schema.names)
            batch = on_batch(spool, batch)
            if batch is None:
                break
            spool.append_batch(batch)
            after_batch(spool)
        return spool
    except BaseException:
        try:  # stop the server sending the rest before the connection closes
            connection.adbc_connection.cancel()
        except Exception:  # already gone: closing below is all that is left
            pass
        raise
    finally:
        for closing in (reader, cursor, connection):
            if closing is not None:
                try:
                    closing.close()
                except Exception:  # a broken connection cannot close cleanly; it is gone either way
                    pass
