"""Convert a column of new data to the type a model was trained on.

``coerce_column`` reads numbers, dates and true/false values that arrive as
text, matches categories to the training categories by their text (``"1"``
matches ``1``), and says what it met on the way: how many values needed
converting, how many could not be read (they become missing) and how many
categories were never seen in training.  Validation (``core.serve.validation``)
turns those counts into issues; drift (``core.serve.drift``) uses the converted
values.  Every step is vectorised or works on the distinct values only.

``coerce_value`` is the same conversion for one value (the Predict page's
form): plain Python for the common cases (numbers, categories, true/false,
missing), ``None`` for anything else, which then goes through
``coerce_column`` as a one-row column.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.data.types import as_datetime64

__all__ = ["Coerced", "category_counts", "category_key", "coerce_column", "coerce_value", "examples_of"]

MAX_EXAMPLES = 5
_TRUE = frozenset({"true", "t", "yes", "y", "1", "1.0"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "0.0"})
_NUMPY_INTS = frozenset({"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"})
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
# The dtype pandas gives a one-value column holding a value of these exact types.
_SCALAR_DTYPES: dict[type, str] = {bool: "bool", np.bool_: "bool", int: "int64", np.int64: "int64",
                                   float: "float64", np.float64: "float64", str: "object", type(None): "object"}


@dataclass
class Coerced:
    """A column converted to its training type, with what the conversion met."""

    values: pd.Series
    n_missing: int  # missing before conversion
    n_converted: int = 0  # values readable only after conversion (e.g. numbers stored as text)
    n_failed: int = 0  # values that could not be read: now missing
    failed_examples: list[str] = field(default_factory=list)
    unseen: int = 0  # categorical: values outside the training categories
    unseen_examples: list[str] = field(default_factory=list)


def coerce_column(feature: dict, series: pd.Series) -> Coerced:
    """Convert one column to the type of a reference feature; see ``coerce_batch``."""
    kind = feature["logical_type"]
    if kind == "numeric":
        return _to_numeric(series, feature)
    if kind == "datetime":
        return _to_datetime(series, feature.get("timezone"))
    if kind == "boolean":
        return _to_boolean(series)
    if kind == "categorical":
        return _to_category(series, feature)
    n_missing = int(series.isna().sum())
    values = series if series.dtype == object else series.astype(object).where(series.notna(), np.nan)
    return Coerced(values, n_missing)


def coerce_value(feature: dict, value: Any) -> tuple[Coerced, str] | None:
    """``coerce_column`` of the one-value column ``pd.Series([value])``, without pandas' per-column work.

    Returns the same ``Coerced`` (a one-row ``values`` Series) and the name of
    the dtype pandas gives that column, or ``None`` when this shortcut does
    not cover the value (numbers or dates written as text, dates, free text,
    numpy and pandas types other than int64, float64 and bool): convert those
    with ``coerce_column``.
    """
    kind = feature["logical_type"]
    found = _SCALAR_DTYPES.get(type(value))
    if found is None or (found == "int64" and not _INT64_MIN <= value <= _INT64_MAX):
        return None  # pandas would make it uint64 or object: not the shortcut's business
    missing = value is None or (found == "float64" and value != value)
    if kind == "numeric":
        return _numeric_value(feature, value, found, missing)
    if kind == "categorical":
        return _category_value(feature, value, found, missing)
    if kind == "boolean" and (missing or found == "bool"):
        if missing:
            return Coerced(pd.Series([np.nan], dtype=object), 1), found
        return Coerced(pd.Series([bool(value)]), 0), found
    return None


def _numeric_value(feature: dict, value: Any, found: str, missing: bool) -> tuple[Coerced, str] | None:
    if missing:
        return Coerced(pd.Series([np.nan]), 1), found
    if found == "object":  # text: parsed by coerce_column
        return None
    number = float(value)
    if found == "bool":
        return Coerced(pd.Series([number]), 0, n_converted=1), found
    values = pd.Series([number])
    if feature["dtype"] in _NUMPY_INTS and number.is_integer():
        values = values.astype(feature["dtype"])
    return Coerced(values, 0), found


def _category_value(feature: dict, value: Any, found: str, missing: bool) -> tuple[Coerced, str]:
    if missing:
        return Coerced(pd.Series([np.nan], dtype=object), 1), found
    stored = [c["value"] for c in feature["categories"]]
    slot = {category_key(c): i for i, c in enumerate(stored)}.get(category_key(value))  # as _category_slots
    plain = value.item() if isinstance(value, np.generic) else value
    cell = np.empty(1, dtype=object)
    if slot is None:
        cell[0] = plain
        return Coerced(pd.Series(cell), 0, unseen=1, unseen_examples=[str(value)]), found
    target = stored[slot]
    cell[0] = target
    converted = int(type(plain) is not type(target) or plain != target)
    return Coerced(pd.Series(cell), 0, n_converted=converted), found


def category_key(value: Any) -> str:
    """The text by which a value matches a training category (``1``, ``1.0`` and ``"1"`` alike)."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, np.generic):
        value = value.item()
    return str(value)


def examples_of(values: Any) -> list[str]:
    """Up to five distinct values as text, in the order given."""
    out: list[str] = []
    for v in values:
        text = str(v)
        if text not in out:
            out.append(text)
        if len(out) == MAX_EXAMPLES:
            break
    return out


def _to_numeric(series: pd.Series, feature: dict) -> Coerced:
    dtype = series.dtype
    n_missing = int(series.isna().sum())
    if pd.api.types.is_bool_dtype(dtype):
        values = pd.Series(series.to_numpy(dtype=np.float64, na_value=np.nan), index=series.index)
        return Coerced(values, n_missing, n_converted=len(series) - n_missing)
    if pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        out = pd.Series(values, index=series.index, copy=False)
        if feature["dtype"] in _NUMPY_INTS and n_missing == 0 and np.all(np.isfinite(values)) \
                and np.all(values == np.floor(values)):  # ±inf stays float: no integer holds it
            out = out.astype(feature["dtype"])
        return Coerced(out, n_missing)
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        present = series[series.notna()]
        values = pd.Series(np.nan, index=series.index)
        return Coerced(values, n_missing, n_failed=len(present), failed_examples=examples_of(present.iloc[:50]))
    raw = series.astype(object) if isinstance(dtype, pd.CategoricalDtype) else series
    raw = raw.reset_index(drop=True)  # positions, not labels, from here on
    parsed = _parse_numbers(raw)
    failed = parsed.isna().to_numpy() & raw.notna().to_numpy()
    parsed.index = series.index
    return _parsed(parsed, raw, failed, n_missing)


def _parse_numbers(raw: pd.Series) -> pd.Series:
    # pyarrow reads clean numeric text twenty times faster than pd.to_numeric
    # but gives up on the first bad value; then pandas does it value by value.
    try:
        array = pc.cast(pa.array(raw.to_numpy(dtype=object), type=pa.string(), from_pandas=True), pa.float64())
        return pd.Series(array.to_numpy(zero_copy_only=False), index=raw.index)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        parsed = pd.to_numeric(raw, errors="coerce")
        return pd.Series(np.asarray(parsed, dtype=np.float64), index=raw.index)


def _to_datetime(series: pd.Series, tz: str | None) -> Coerced:
    dtype = series.dtype
    n_missing = int(series.isna().sum())
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return Coerced(_with_tz(as_datetime64(series), tz), n_missing)
    if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        # A bare number could be seconds, milliseconds or days since some epoch: guessing is worse than asking.
        present = series[series.notna()]
        values = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns]")
        return Coerced(_with_tz(values, tz), n_missing, n_failed=len(present), failed_examples=examples_of(present))
    raw = series.astype(object).reset_index(drop=True)  # positions, not labels, from here on
    parsed = pd.to_datetime(raw, errors="coerce", format="ISO8601", utc=True)
    failed = parsed.isna().to_numpy() & raw.notna().to_numpy()
    if failed.any():
        uniques = pd.unique(raw[failed].astype(str))
        if len(uniques) <= 10_000:
            # Day-first or month-name dates: dateutil reads them one by one, so only the distinct leftovers.
            with warnings.catch_warnings(action="ignore"):
                retry = pd.to_datetime(pd.Series(uniques), errors="coerce", format="mixed", utc=True)
            # by position, not through a dict: NaT values looked up in a dict come back without time zone
            text = raw[failed].astype(str)
            fixed = pd.Series(retry.array.take(pd.Index(uniques).get_indexer(text)), index=text.index)
            parsed = parsed.where(~failed, fixed)
            failed = parsed.isna().to_numpy() & raw.notna().to_numpy()
    values = parsed.dt.tz_convert(tz) if tz is not None else parsed.dt.tz_convert(None)
    values.index = series.index
    return _parsed(values, raw, failed, n_missing)


def _with_tz(series: pd.Series, tz: str | None) -> pd.Series:
    aware = isinstance(series.dtype, pd.DatetimeTZDtype)
    if tz is None:
        return series.dt.tz_convert(None) if aware else series
    if aware:
        return series.dt.tz_convert(tz)
    return series.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")


def _to_boolean(series: pd.Series) -> Coerced:
    n_missing = int(series.isna().sum())
    if pd.api.types.is_bool_dtype(series.dtype):
        if n_missing:
            values = series.astype(object).where(series.notna(), np.nan)
            return Coerced(values, n_missing)
        return Coerced(series.astype(bool), n_missing)
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    mapped = np.empty(len(uniques) + 1, dtype=object)
    mapped[-1] = np.nan  # code -1 (missing) reads the last slot
    ok = np.zeros(len(uniques), dtype=bool)
    native = np.zeros(len(uniques), dtype=bool)
    for i, value in enumerate(uniques):
        if isinstance(value, bool | np.bool_):
            mapped[i], ok[i], native[i] = bool(value), True, True
            continue
        text = category_key(value).strip().lower()
        if text in _TRUE or text in _FALSE:
            mapped[i], ok[i] = text in _TRUE, True
        else:
            mapped[i] = np.nan
    per_unique = np.bincount(codes[codes >= 0], minlength=len(uniques))
    values = pd.Series(mapped[codes], index=series.index)
    if n_missing == 0 and ok.all():
        values = values.astype(bool)
    bad = np.flatnonzero(~ok)
    bad = bad[np.argsort(-per_unique[bad], kind="stable")]
    return Coerced(
        values,
        n_missing,
        n_converted=int(per_unique[ok & ~native].sum()),
        n_failed=int(per_unique[~ok].sum()),
        failed_examples=examples_of(uniques[bad]),
    )


def category_counts(series: pd.Series, feature: dict) -> tuple[np.ndarray, int, list[str], int]:
    """Count a column into the training categories of ``feature``.

    Returns the counts per stored category plus one last slot for every
    other value, the number of missing values, examples of values unseen in
    training (most frequent first) and how many values were unseen.
    """
    codes, uniques, slot = _category_slots(series, feature)
    per_unique = np.bincount(codes[codes >= 0], minlength=len(uniques))
    n_categories = len(feature["categories"])
    counts = np.bincount(slot, weights=per_unique, minlength=n_categories + 1).astype(np.int64)
    unseen = np.flatnonzero(slot == n_categories)
    unseen = unseen[np.argsort(-per_unique[unseen], kind="stable")]
    return counts, int((codes < 0).sum()), examples_of(uniques[unseen]), int(per_unique[unseen].sum())


def _category_slots(series: pd.Series, feature: dict) -> tuple[np.ndarray, Any, np.ndarray]:
    # Matching the few distinct values instead of every row keeps this at
    # one hashing pass over the column (pd.factorize).
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    lookup = {category_key(c["value"]): i for i, c in enumerate(feature["categories"])}
    other = len(feature["categories"])
    slot = np.fromiter((lookup.get(category_key(v), other) for v in uniques), dtype=np.int64, count=len(uniques))
    return codes, uniques, slot


def _to_category(series: pd.Series, feature: dict) -> Coerced:
    codes, uniques, slot = _category_slots(series, feature)
    stored = [c["value"] for c in feature["categories"]]
    per_unique = np.bincount(codes[codes >= 0], minlength=len(uniques))
    mapped = np.empty(len(uniques) + 1, dtype=object)
    mapped[-1] = np.nan
    converted = 0
    for i, value in enumerate(uniques):
        if slot[i] < len(stored):
            target = stored[slot[i]]
            plain = value.item() if isinstance(value, np.generic) else value
            if type(plain) is not type(target) or plain != target:
                converted += int(per_unique[i])
            mapped[i] = target
        else:
            mapped[i] = value.item() if isinstance(value, np.generic) else value
    unseen = np.flatnonzero(slot == len(stored))
    unseen = unseen[np.argsort(-per_unique[unseen], kind="stable")]
    return Coerced(
        pd.Series(mapped[codes], index=series.index),
        int((codes < 0).sum()),
        n_converted=converted,
        unseen=int(per_unique[unseen].sum()),
        unseen_examples=examples_of(uniques[unseen]),
    )


def _parsed(values: pd.Series, raw: pd.Series, failed: np.ndarray, n_missing: int) -> Coerced:
    """The outcome of parsing text ``raw`` into ``values``; ``failed`` marks values that did not parse.

    Blank text among the failures is a missing value written differently, not a failure.
    """
    blank = np.zeros(len(raw), dtype=bool)
    if failed.any():
        candidates = raw[failed].astype(str).str.strip() == ""
        blank[np.flatnonzero(failed)[candidates.to_numpy()]] = True
    failed = failed & ~blank
    n_failed, n_blank = int(failed.sum()), int(blank.sum())
    examples = examples_of(raw[failed].iloc[:200]) if n_failed else []
    converted = len(raw) - n_missing - n_blank - n_failed
    return Coerced(values, n_missing + n_blank, n_converted=converted, n_failed=n_failed, failed_examples=examples)
