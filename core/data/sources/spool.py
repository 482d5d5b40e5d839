"""Rows fetched in batches, spooled to local Arrow files, handed back as one memory-mapped table.

A remote source (a SQL cursor) yields rows batch by batch; holding them as Python objects would
cost several times the table's size.  :class:`RowSpool` turns each batch into Arrow columns at
once and appends it to an uncompressed Arrow IPC file in the staging folder, so only one batch
of Python rows is ever alive.  :meth:`RowSpool.finish` maps the files back as one table: its
buffers live in the page cache, which the operating system can evict, not on the heap.  The
files are unlinked as soon as they are mapped (Linux keeps the mapping valid), so nothing is
left behind whatever the caller does with the table.

Column types come from the values themselves (plus the database's hints), batch by batch: a
column whose first batch held only nulls takes the type of the first batch that has values;
integers meeting floats or decimals widen; anything else that disagrees becomes text with a
warning.  Each change of type starts a new file; :meth:`finish` casts the earlier ones.
"""

from __future__ import annotations

import datetime as dt
import decimal
import ipaddress
import json
import shutil
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from core.platform.errors import InvalidInputError

__all__ = ["RowSpool", "UnsupportedValueError"]

_MAX_DECIMAL_PRECISION = 38


class UnsupportedValueError(InvalidInputError):
    """A column holds values that have no faithful table type (a range, a geometry object...)."""


def _json_text(value: Any) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


def _column_type(values: Sequence[Any], hint: pa.DataType | None, name: str) -> tuple[pa.DataType | None, str]:
    """The Arrow type for one batch of one column (``None``: let pyarrow infer it from the numbers),
    and how to convert its values ('' = as they are)."""
    first = next((v for v in values if v is not None), None)
    if first is None:
        return (hint or pa.null()), ""
    if isinstance(first, bool):
        return pa.bool_(), ""
    if isinstance(first, int):
        if hint is not None and pa.types.is_boolean(hint) and all(v in (0, 1) for v in values if v is not None):
            return pa.bool_(), "bool"  # SQLite (and MySQL's BOOLEAN) store booleans as 0/1
        return None, ""  # inferred by pyarrow (a float among ints makes it double; never truncated)
    if isinstance(first, float):
        return None, ""
    if isinstance(first, decimal.Decimal):
        if hint is not None and pa.types.is_decimal(hint):
            return hint, ""
        scale = max((-v.as_tuple().exponent for v in values if isinstance(v, decimal.Decimal) and v.is_finite()),
                    default=0)
        return pa.decimal128(_MAX_DECIMAL_PRECISION, max(0, min(scale, 18))), ""
    if isinstance(first, str):
        return pa.string(), ""
    if isinstance(first, dt.datetime):
        return pa.timestamp("us", tz="UTC" if first.tzinfo is not None else None), ""
    if isinstance(first, dt.date):
        return pa.date32(), ""
    if isinstance(first, dt.time):
        return pa.time64("us"), ""
    if isinstance(first, dt.timedelta):
        return pa.duration("us"), ""
    if isinstance(first, bytes | bytearray | memoryview):
        return pa.binary(), "bytes"
    if isinstance(first, dict | list | tuple):
        return pa.string(), "json"
    if isinstance(first, uuid.UUID | ipaddress.IPv4Address | ipaddress.IPv6Address | ipaddress.IPv4Network
                  | ipaddress.IPv6Network | ipaddress.IPv4Interface | ipaddress.IPv6Interface):
        return pa.string(), "str"
    kind = type(first).__module__ + "." + type(first).__qualname__
    raise UnsupportedValueError(
        f"Column {name!r} holds values of a type Atelier cannot store faithfully ({kind}, e.g. {str(first)[:60]!r}).",
        hint=f"Import it with a query that casts the column to text, e.g. SELECT CAST({name} AS TEXT) AS {name}, … "
        "or leave the column out.",
    )


def _mixed_type(values: Sequence[Any]) -> tuple[pa.DataType, str] | None:
    """For a batch whose values did not all convert to its first value's type: integers with
    floats are floats; numbers or text mixed with anything else are text; ``None`` otherwise."""
    kinds = {type(v) for v in values if v is not None}
    if kinds <= {int, float}:
        return pa.float64(), ""
    if kinds <= {int, float, str, bool, decimal.Decimal}:
        return pa.string(), "str"
    return None


def _convert(values: Sequence[Any], how: str) -> Sequence[Any]:
    if how == "str":
        return [None if v is None else str(v) for v in values]
    if how == "json":
        return [None if v is None else _json_text(v) for v in values]
    if how == "bool":
        return [None if v is None else bool(v) for v in values]
    if how == "bytes":
        return [None if v is None else bytes(v) for v in values]
    return values


def _wider(old: pa.DataType, new: pa.DataType) -> pa.DataType | None:
    """The type both fit in without loss, or ``None`` when only text holds both."""
    if old == new or pa.types.is_null(new):
        return old
    if pa.types.is_null(old):
        return new
    numeric = (pa.types.is_integer, pa.types.is_floating, pa.types.is_decimal)
    if any(f(old) for f in numeric) and any(f(new) for f in numeric):
        if pa.types.is_floating(old) or pa.types.is_floating(new):
            return pa.float64()
        if pa.types.is_decimal(old) and pa.types.is_decimal(new):
            scale = max(old.scale, new.scale)
            return pa.decimal128(_MAX_DECIMAL_PRECISION, scale)
        dec = old if pa.types.is_decimal(old) else new
        return pa.decimal128(_MAX_DECIMAL_PRECISION, dec.scale)
    if pa.types.is_timestamp(old) and pa.types.is_timestamp(new):
        return pa.timestamp("us", tz=old.tz or new.tz)
    return None


class RowSpool:
    """Append batches of rows (tuples) under fixed column names; :meth:`finish` returns the table.

    Parameters
    ----------
    columns : column names, in order.
    folder : where the spool files go (a staging folder on local disk).
    hints : Arrow types the source declares for some columns (used while a column is all null,
        and for decimals' precision and scale).
    """

    def __init__(self, columns: Sequence[str], folder: Path, hints: Mapping[str, pa.DataType] | None = None) -> None:
        self.columns = list(columns)
        self.folder = Path(folder)
        self.hints = dict(hints or {})
        self.warnings: list[str] = []
        self.rows = 0
        self._dir: Path | None = None
        self._schema: pa.Schema | None = None
        self._writer: pa.ipc.RecordBatchFileWriter | None = None
        self._files: list[Path] = []
        self._texted: set[str] = set()

    def append(self, rows: Sequence[Sequence[Any]]) -> None:
        """Convert one batch of rows to Arrow and write it to the spool."""
        if not rows:
            return
        columns = list(zip(*rows, strict=True)) if rows else [[] for _ in self.columns]
        arrays, fields = [], []
        for i, name in enumerate(self.columns):
            values = columns[i]
            kind, how = _column_type(values, self.hints.get(name), name)
            inferred = None
            if kind is None:
                try:
                    inferred = pa.array(values, from_pandas=False)
                    kind = inferred.type
                except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
                    kind, how = _mixed_type(values) or (pa.string(), "str")
                    if name not in self._texted:
                        self._texted.add(name)
                        self.warnings.append(f"Column {name!r} mixes numbers with other values (or holds numbers "
                                             "beyond 64 bits); it was kept as text.")
            if self._schema is not None:
                old = self._schema.field(i).type
                wide = _wider(old, kind)
                if wide is None or name in self._texted:
                    wide, how = pa.string(), "json" if how == "json" else "str"
                    if name not in self._texted:
                        self._texted.add(name)
                        self.warnings.append(f"Column {name!r} mixes values of different kinds ({old} and {kind}); "
                                             "it was kept as text.")
                kind = wide
            try:
                if inferred is not None and inferred.type == kind:
                    array = inferred
                elif inferred is not None and how == "" and not pa.types.is_string(kind):
                    array = inferred.cast(kind)  # ints into a float or decimal column
                else:
                    array = pa.array(_convert(values, how), type=kind, from_pandas=False)
            except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
                mixed = _mixed_type(values)
                if mixed is not None and mixed[0] != kind:
                    kind, how = mixed
                    array = pa.array(_convert(values, how), type=kind)
                    if pa.types.is_string(kind) and name not in self._texted:
                        self._texted.add(name)
                        self.warnings.append(f"Column {name!r} mixes text and numbers; it was kept as text.")
                elif pa.types.is_decimal(kind) or pa.types.is_integer(kind):
                    # Wider than decimal128/int64 allow: keep the digits as text rather than lose them.
                    array = pa.array(_convert(values, "str"), type=pa.string())
                    if name not in self._texted:
                        self._texted.add(name)
                        self.warnings.append(f"Column {name!r} holds numbers too large for a 38-digit decimal; "
                                             "it was kept as text.")
                else:
                    raise UnsupportedValueError(
                        f"Column {name!r} cannot be stored as {kind}: {exc}.",
                        hint=f"Cast the column in the query (e.g. CAST({name} AS TEXT)) or leave it out.",
                    ) from exc
            arrays.append(array)
            fields.append(pa.field(name, array.type))
        schema = pa.schema(fields)
        if self._schema is None or not schema.equals(self._schema):
            self._schema = self._unify(schema)
            self._start_file(self._schema)
        batch = pa.record_batch([a if a.type == f.type else a.cast(f.type) for a, f in zip(arrays, self._schema,
                                                                                           strict=True)],
                                schema=self._schema)
        self._writer.write_batch(batch)
        self.rows += len(rows)

    def append_batch(self, batch: pa.RecordBatch) -> None:
        """Write a batch that is already Arrow (an Arrow-native reader's), under the same rules:
        a column whose type changes widens, or becomes text with a warning."""
        if batch.num_rows == 0:
            return
        if batch.schema.names != self.columns:
            raise ValueError(f"batch columns {batch.schema.names} are not the spool's {self.columns}")
        batch = batch.replace_schema_metadata(None)
        schema = pa.schema([pa.field(f.name, f.type) for f in batch.schema])
        if self._schema is None or not schema.equals(self._schema):
            for old, new in zip(self._schema or (), schema, strict=False):
                if _wider(old.type, new.type) is None and old.name not in self._texted:
                    self._texted.add(old.name)
                    self.warnings.append(f"Column {old.name!r} mixes values of different kinds ({old.type} and "
                                         f"{new.type}); it was kept as text.")
            unified = self._unify(schema)
            if self._schema is None or not unified.equals(self._schema):
                self._schema = unified
                self._start_file(self._schema)
        columns = [c if c.type == f.type else c.cast(f.type) for c, f in zip(batch.columns, self._schema,
                                                                              strict=True)]
        self._writer.write_batch(pa.record_batch(columns, schema=self._schema))
        self.rows += batch.num_rows

    def _unify(self, schema: pa.Schema) -> pa.Schema:
        if self._schema is None:
            return schema
        fields = []
        for old, new in zip(self._schema, schema, strict=True):
            wide = _wider(old.type, new.type)
            fields.append(pa.field(old.name, wide if wide is not None else pa.string()))
        return pa.schema(fields)

    def _start_file(self, schema: pa.Schema) -> None:
        if self._writer is not None:
            self._writer.close()
        if self._dir is None:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._dir = Path(tempfile.mkdtemp(prefix="spool-", dir=self.folder))
        path = self._dir / f"part-{len(self._files):04d}.arrow"
        self._files.append(path)
        self._writer = pa.ipc.new_file(str(path), schema)

    def finish(self) -> pa.Table:
        """The spooled rows as one table (memory-mapped); the spool files are already gone."""
        try:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
            if not self._files:
                return pa.table({c: pa.array([], type=self.hints.get(c, pa.null())) for c in self.columns})
            final = self._schema
            tables = []
            for path in self._files:
                # Not closed here: the table's buffers keep the mapping alive, and end it when freed.
                part = pa.ipc.open_file(pa.memory_map(str(path))).read_all()
                tables.append(part if part.schema.equals(final) else part.cast(final))
            return pa.concat_tables(tables)
        finally:
            self.discard()

    def discard(self) -> None:
        """Close and remove the spool files (mapped tables stay readable)."""
        if self._writer is not None:
            try:
                self._writer.close()
            except Exception:  # already broken: nothing to keep
                pass
            self._writer = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
