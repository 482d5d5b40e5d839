"""Placeholders that stand for a missing value, and whitespace around text values.

Files mark missing values in many ways: ``?`` (the UCI Adult census file, where every value
also carries a leading space: ``" ?"``), ``NA``, ``n/a``, ``-``, ``null``, ``none`` or an
empty or blank cell.  The CSV reader stays faithful to the file (it turns only the usual
null markers such as ``NA`` and the empty cell into missing), so this module finds the rest
in every text column, the quality report shows them per column with counts
(:func:`core.data.quality.quality_report`), and a one-click fix makes a new dataset
version with those values turned into missing and the padding stripped
(:func:`core.data.cleanup.fix_placeholders`).

Matching is on the value with its surrounding whitespace removed, case-insensitively, so
``" ?"``, ``"N/A"`` and ``"None "`` all count.  Only text columns are scanned (whole
columns, with Arrow compute: a few milliseconds per million values).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["PLACEHOLDERS", "ColumnPlaceholders", "clean_table", "find_placeholders"]

# Compared after stripping whitespace and lower-casing; "" covers empty and blank cells.
PLACEHOLDERS = ("?", "na", "n/a", "-", "null", "none", "")
_SHOWN = 4


@dataclass
class ColumnPlaceholders:
    """One text column's findings: placeholder values (as written) with counts, and padded values."""

    column: str
    placeholders: dict[str, int] = field(default_factory=dict)
    padded: int = 0

    @property
    def n_placeholders(self) -> int:
        return sum(self.placeholders.values())

    def describe(self) -> str:
        """The finding in words, e.g. ``1,836 values are placeholders for missing (' ?' ×1,836).``"""
        parts = []
        if self.placeholders:
            ordered = sorted(self.placeholders.items(), key=lambda kv: -kv[1])
            shown = ", ".join(f"{value!r} ×{count:,}" for value, count in ordered[:_SHOWN])
            more = f" and {len(ordered) - _SHOWN} more" if len(ordered) > _SHOWN else ""
            parts.append(f"{self.n_placeholders:,} value(s) look like placeholders for missing ({shown}{more})")
        if self.padded:
            parts.append(f"{self.padded:,} value(s) have spaces before or after the text")
        return "; ".join(parts) + "."


def _text_columns(table: pa.Table) -> Iterable[tuple[int, str, pa.ChunkedArray]]:
    names = table.column_names
    for i, name in enumerate(names):
        if names.count(name) != 1:
            continue
        column = table.column(i)
        kind = column.type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
            if pa.types.is_string(kind) or pa.types.is_large_string(kind):
                column = column.cast(kind)
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            yield i, name, column


def _as_table(data: pd.DataFrame | pa.Table) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    frame = data.copy()
    keep = [c for c in frame.columns if pd.api.types.is_object_dtype(frame[c].dtype)
            or pd.api.types.is_string_dtype(frame[c].dtype) or isinstance(frame[c].dtype, pd.CategoricalDtype)]
    frame = frame[keep]
    for c in keep:  # mixed object columns: only their text matters here
        if pd.api.types.is_object_dtype(frame[c].dtype):
            frame[c] = frame[c].map(lambda v: v if isinstance(v, str) or v is None else None)
    return pa.Table.from_pandas(frame, preserve_index=False)


def find_placeholders(data: pd.DataFrame | pa.Table) -> list[ColumnPlaceholders]:
    """Every text column holding placeholder values or whitespace-padded values, in column order."""
    table = _as_table(data)
    found = []
    wanted = pa.array(PLACEHOLDERS, pa.string())
    for _i, name, column in _text_columns(table):
        stripped = pc.utf8_trim_whitespace(column)
        is_placeholder = pc.is_in(pc.utf8_lower(stripped), value_set=wanted)
        padded = pc.and_(pc.invert(is_placeholder), pc.not_equal(stripped, column))
        n_padded = int(pc.sum(padded).as_py() or 0)
        placeholders: dict[str, int] = {}
        if pc.any(is_placeholder).as_py():
            counts = pc.value_counts(pc.filter(column, is_placeholder))
            placeholders = {str(v["values"]): int(v["counts"]) for v in counts.to_pylist()}
        if placeholders or n_padded:
            found.append(ColumnPlaceholders(name, placeholders, n_padded))
    return found


def clean_table(table: pa.Table, columns: Iterable[str] | None = None) -> tuple[pa.Table, list[str]]:
    """``table`` with placeholders turned into missing and padding stripped in its text columns.

    ``columns`` limits the change to those columns (default: every text column).  A column whose
    remaining values are all numbers becomes a numeric column (integers where every value is
    whole).  Returns the new table and the names of the columns that changed.
    """
    only = set(columns) if columns is not None else None
    wanted = pa.array(PLACEHOLDERS, pa.string())
    changed = []
    for i, name, column in _text_columns(table):
        if only is not None and name not in only:
            continue
        stripped = pc.utf8_trim_whitespace(column)
        is_placeholder = pc.is_in(pc.utf8_lower(stripped), value_set=wanted)
        cleaned = pc.if_else(is_placeholder, pa.scalar(None, stripped.type), stripped)
        if cleaned.equals(column):
            continue
        cleaned = _maybe_numeric(cleaned)
        table = table.set_column(i, pa.field(name, cleaned.type), cleaned)
        changed.append(name)
    return table, changed


def _maybe_numeric(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """Integers or floats when every present value parses as one; the text unchanged otherwise."""
    if values.null_count == len(values):
        return values
    for kind in (pa.int64(), pa.float64()):
        try:
            return values.cast(kind)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
    return values
