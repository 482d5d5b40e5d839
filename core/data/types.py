"""Logical column types: one vocabulary, one set of thresholds, a pandas and an Arrow adapter.

Every stage that asks what a column holds asks here: the dataset schema
(:mod:`core.data.schema`), the EDA pages (:mod:`core.eda._common`), the model's
preprocessing (:func:`core.ml.problem.column_types`) and its reference statistics
(:mod:`core.models.training_stats`).

The vocabulary is :data:`FEATURE_TYPES` (``numeric``, ``categorical``, ``boolean``,
``datetime``, ``text``) plus ``id``, which only the dataset schema assigns: telling an
identifier apart needs the whole column and its name.

A dtype decides on its own for numbers, booleans, datetimes and categoricals
(:func:`dtype_kind` for pandas, :func:`arrow_type_kind` for Arrow).  A string column is
judged by its values, with one rule written once in :func:`categorical_or_text`: at most
:data:`MAX_CATEGORIES` distinct values make a category; past that, long values (a mean
length of :data:`TEXT_MEAN_LENGTH` characters or more) or mostly unique ones (more than
:data:`TEXT_UNIQUE_SHARE` of the present values distinct) make free text.  What needs to
look at values looks at an evenly spaced sample of :data:`SAMPLE_SIZE` of them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "FEATURE_TYPES",
    "LOGICAL_TYPES",
    "MAX_CATEGORIES",
    "SAMPLE_SIZE",
    "TEXT_MEAN_LENGTH",
    "TEXT_UNIQUE_SHARE",
    "arrow_sample",
    "arrow_string_kind",
    "arrow_type_kind",
    "as_datetime64",
    "categorical_or_text",
    "datetime_to_ns",
    "dtype_kind",
    "iso_to_ns",
    "logical_type",
    "stride_sample",
    "string_column_kind",
    "string_kind",
    "value_counts",
]

FEATURE_TYPES = ("numeric", "categorical", "boolean", "datetime", "text")
LOGICAL_TYPES = (*FEATURE_TYPES, "id")
MAX_CATEGORIES = 50
TEXT_MEAN_LENGTH = 30
TEXT_UNIQUE_SHARE = 0.5
SAMPLE_SIZE = 10_000


def categorical_or_text(
    n_distinct: int, n_present: int, mean_length: float, max_categories: int = MAX_CATEGORIES
) -> str:
    """``categorical`` or ``text`` for a column of strings, from four numbers.

    Parameters
    ----------
    n_distinct : distinct present values.
    n_present : present (not missing) values.
    mean_length : mean length of the present values, in characters.
    max_categories : at most this many distinct values is always categorical.
    """
    if n_distinct <= max_categories:
        return "categorical"
    if mean_length >= TEXT_MEAN_LENGTH or n_distinct / max(n_present, 1) > TEXT_UNIQUE_SHARE:
        return "text"
    return "categorical"


# ---------------------------------------------------------------- pandas


def dtype_kind(dtype: Any) -> str | None:
    """The logical type a pandas dtype fixes on its own; ``None`` for string-like dtypes."""
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical"
    if pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    return None


def stride_sample(series: pd.Series) -> pd.Series:
    """Every k-th value, k chosen so that about :data:`SAMPLE_SIZE` (at most twice that) remain."""
    step = max(len(series) // SAMPLE_SIZE, 1)
    return series.iloc[::step]


def value_counts(series: pd.Series) -> pd.Series:
    """Counts of the present values, most frequent first (unused categories left out)."""
    counts = series.value_counts(dropna=True, sort=True)
    # A categorical dtype lists its unused categories with a zero count.
    return counts[counts > 0] if isinstance(series.dtype, pd.CategoricalDtype) else counts


def string_kind(counts: pd.Series, max_categories: int = MAX_CATEGORIES) -> str:
    """boolean, categorical or text from a string column's value counts (see :func:`categorical_or_text`)."""
    if len(counts) and all(isinstance(v, bool | np.bool_) for v in counts.index):
        return "boolean"
    if len(counts) <= max_categories:
        return "categorical"  # no need to measure the values
    present = max(int(counts.sum()), 1)
    lengths = pd.Series(counts.index.astype(str)).str.len().to_numpy()
    mean_length = float((lengths * counts.to_numpy()).sum() / present)
    return categorical_or_text(len(counts), present, mean_length, max_categories)


def logical_type(series: pd.Series, max_categories: int = MAX_CATEGORIES) -> str:
    """The logical type of a pandas column: numeric, categorical, boolean, datetime or text."""
    return dtype_kind(series.dtype) or string_column_kind(series, max_categories)[0]


def string_column_kind(series: pd.Series, max_categories: int = MAX_CATEGORIES) -> tuple[str, pd.Series | None]:
    """boolean, categorical or text for a string-like column, with its full value counts unless text.

    The column is judged on a :func:`stride_sample` first; when the sample does not say text,
    every value is counted (cheap then: the column has few distinct values), which also settles
    a column whose sample looks categorical but whose full set is text.
    """
    kind = string_kind(value_counts(stride_sample(series)), max_categories)
    if kind == "text":
        return kind, None
    counts = value_counts(series)
    return string_kind(counts, max_categories), counts


def as_datetime64(series: pd.Series) -> pd.Series:
    """Datetimes on numpy's ``datetime64[ns]`` (time zone kept), whatever backend or unit they came in."""
    dtype = series.dtype
    if isinstance(dtype, pd.ArrowDtype):
        tz = getattr(dtype.pyarrow_dtype, "tz", None)
        return series.astype(pd.DatetimeTZDtype("ns", tz) if tz else np.dtype("datetime64[ns]"))
    if isinstance(dtype, pd.DatetimeTZDtype):
        return series if dtype.unit == "ns" else series.astype(pd.DatetimeTZDtype("ns", dtype.tz))
    return series if dtype == np.dtype("datetime64[ns]") else series.astype("datetime64[ns]")


def datetime_to_ns(series: pd.Series) -> np.ndarray:
    """Datetimes as float nanoseconds since the epoch (UTC for aware ones), NaN where missing."""
    series = as_datetime64(series)
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    values = series.to_numpy(dtype="datetime64[ns]")
    out = values.view(np.int64).astype(np.float64)
    out[np.isnat(values)] = np.nan
    return out


def iso_to_ns(texts: list[str]) -> np.ndarray:
    """ISO instants (as the reference statistics store them) as float nanoseconds since the epoch, UTC."""
    return datetime_to_ns(
        pd.Series(pd.to_datetime(list(texts), utc=True, format="ISO8601"), dtype="datetime64[ns, UTC]")
    )


# ---------------------------------------------------------------- Arrow


def arrow_type_kind(t: pa.DataType) -> str | None:
    """The logical type an Arrow type fixes on its own; ``None`` for strings, ``text`` for anything unknown.

    Integers are ``numeric`` here; the schema may still call them ``id``.
    """
    if pa.types.is_dictionary(t) or pa.types.is_null(t):
        return "categorical"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "numeric"
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return "datetime"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return None
    return "text"


def arrow_sample(values: pa.Array | pa.ChunkedArray, n_present: int) -> pa.Array:
    """Up to :data:`SAMPLE_SIZE` present values, evenly spaced (taken before combining chunks: cheap on big columns)."""
    present = pc.drop_null(values) if values.null_count else values
    if n_present > SAMPLE_SIZE:
        present = present.take(pa.array(np.linspace(0, n_present - 1, SAMPLE_SIZE).astype(np.int64)))
    if isinstance(present, pa.ChunkedArray):
        present = present.combine_chunks()
    return present


def arrow_string_kind(sample: pa.Array, n_present: int, n_distinct: int, max_categories: int = MAX_CATEGORIES) -> str:
    """categorical or text for an Arrow string column: exact counts, the mean length read off ``sample``."""
    if n_distinct <= max_categories:
        return "categorical"  # no need to measure the values
    mean_length = pc.mean(pc.utf8_length(sample)).as_py() or 0.0
    return categorical_or_text(n_distinct, n_present, mean_length, max_categories)
