"""Pieces every EDA module shares: input checks, row samples, column kinds, capped categories, number formats.

Column kinds are the logical types of :mod:`core.data.types` (numeric, categorical, boolean, datetime,
text; same rule and thresholds as the schema, the model's preprocessing and its reference statistics);
EDA adds ``empty`` for a column missing in every row, and judges string columns on its own random row
sample (up to 100,000 rows, see :func:`column_kind`), which also keeps a 1,000,000-row frame fast.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.data.types import MAX_CATEGORIES, dtype_kind, string_kind
from core.platform.chart_style import style
from core.platform.errors import InvalidInputError

SAMPLE_ROWS = 100_000
OTHER = "(other)"
MISSING = "(missing)"
_DATE_PROBE = 200
_DATE_SHARE = 0.9
# Characters that dates written as text carry and plain numbers or words do not.
_DATE_HINT = re.compile(r"\d[-/.:]\d|\d{1,2}\s+[A-Za-z]{3}|[A-Za-z]{3}\w*\s+\d{1,2}")


@dataclass
class Chart:
    """A plotly figure and what it could not show.

    ``figure`` is ``None`` when nothing at all can be drawn; ``notes`` then say why.
    ``sampled_rows`` is the number of rows drawn when a random sample stood in for the data.
    """

    figure: go.Figure | None
    notes: list[str] = field(default_factory=list)
    sampled_rows: int | None = None

    def __post_init__(self) -> None:
        if self.figure is not None:
            style(self.figure)  # one legible style for every EDA chart


def check_frame(df: Any, what: str, *, need_rows: bool = True) -> pd.DataFrame:
    """Refuse what is not a DataFrame, has no columns, or (when ``need_rows``) has no rows."""
    if not isinstance(df, pd.DataFrame):
        raise InvalidInputError(
            f"{what} needs a pandas DataFrame; got {type(df).__name__}.",
            hint="Load the dataset version as a DataFrame first (core.data.datasets.load_frame).",
        )
    if df.shape[1] == 0:
        raise InvalidInputError(f"{what} needs at least one column; the dataset has none.")
    if need_rows and len(df) == 0:
        raise InvalidInputError(
            f"{what} needs at least one row; the dataset has {df.shape[1]} columns but 0 rows.",
            hint="Pick a version that has data, or import the file again.",
        )
    if not df.columns.is_unique:
        repeated = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
        raise InvalidInputError(
            f"{what} needs unique column names; these appear more than once: {', '.join(repeated)}.",
            hint="Give the repeated columns distinct names, then import the data again.",
        )
    return df


def check_columns(df: pd.DataFrame, names: Sequence[Any], role: str) -> list[Any]:
    """The names, each checked to be a column of ``df``."""
    missing = [n for n in names if n not in df.columns]
    if missing:
        what = f"{role} {missing[0]!r} is not a column" if len(missing) == 1 else (
            f"{role}s {', '.join(map(repr, missing))} are not columns")
        raise InvalidInputError(
            f"The {what} of the dataset; it has {preview(list(df.columns))}.",
            hint="Pick one of the dataset's columns.",
        )
    return list(names)


def check_choice(name: str, value: Any, allowed: Sequence[Any]) -> None:
    if value not in allowed:
        choices = ", ".join(map(repr, allowed))
        raise InvalidInputError(f"The {name!r} parameter must be one of {choices}; got {value!r}.")


def check_positive(name: str, value: Any, *, integer: bool = True) -> None:
    ok = isinstance(value, int | np.integer) if integer else isinstance(value, int | float | np.number)
    if not ok or isinstance(value, bool) or value <= 0:
        raise InvalidInputError(f"The {name!r} parameter must be a positive {'integer' if integer else 'number'}; "
                                f"got {value!r}.")


def sample_positions(n: int, size: int, seed: int) -> np.ndarray | None:
    """Sorted random row positions (``size`` of ``n``), or ``None`` when every row fits."""
    if n <= size:
        return None
    # Sorted positions read each column front to back, which is several times faster than random order.
    return np.sort(np.random.default_rng(seed).choice(n, size=size, replace=False))


def take(df: pd.DataFrame | pd.Series, positions: np.ndarray | None):
    return df if positions is None else df.iloc[positions]


def sample_note(used: int, total: int, seed: int, what: str) -> str:
    return f"{what} use a random sample of {used:,} of the {total:,} rows (seed {seed})."


def column_kind(series: pd.Series) -> str:
    """numeric, categorical, boolean, datetime or text; ``empty`` when every value is missing.

    Pass a row sample of a large column: string columns are judged on the values given, by
    :func:`core.data.types.string_kind`.  :func:`core.data.types.logical_type` decides on a
    10,000-row stride sample first, where 10,000 zip codes spread evenly over a million rows
    look mostly unique; EDA passes its 100,000-row sample, so such a column stays categorical.
    """
    if len(series) == 0 or not series.notna().any():
        return "empty"
    kind = dtype_kind(series.dtype)
    if kind is not None:
        return kind
    if hashable(series) is not series:
        return "text"  # lists or dicts in cells (from Parquet or JSON): shown as their text
    return string_kind(series.value_counts(dropna=True, sort=False), MAX_CATEGORIES)


def hashable(series: pd.Series) -> pd.Series:
    """The series itself, or its values as text when cells hold lists, dicts or arrays (which cannot be counted)."""
    if series.dtype != object:
        return series
    probe = series.iloc[:1000].dropna()
    try:
        pd.factorize(probe)
    except TypeError:
        return series.astype(str).where(series.notna())
    return series


def numeric_values(series: pd.Series) -> np.ndarray:
    """float64 values with NaN for missing and for +-inf, whatever the numeric or boolean dtype."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype(object)
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    if not np.isfinite(values).all():
        values = np.where(np.isfinite(values), values, np.nan)
    return values


def datetime_ns(series: pd.Series) -> np.ndarray:
    """int64 nanoseconds since 1970 (UTC for aware times); missing values hold NaT's integer."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    return series.to_numpy(dtype="datetime64[ns]").view(np.int64)


def seconds_since_epoch(series: pd.Series) -> np.ndarray:
    """float64 seconds since 1970 (UTC for aware times), NaN where a value is missing."""
    values = datetime_ns(series).astype(np.float64) / 1e9
    values[series.isna().to_numpy()] = np.nan
    return values


def parse_dates(series: pd.Series) -> pd.Series:
    """Text read as datetimes in any mix of formats; what cannot be read becomes NaT."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pandas comments on ambiguous day-first text; the note says it instead
        parsed = pd.to_datetime(series.astype("string"), format="mixed", errors="coerce", utc=True)
    return parsed.dt.tz_localize(None)


def looks_like_dates(series: pd.Series) -> bool:
    """Whether a text column holds dates (in one or several formats) rather than labels."""
    if series.dtype != object and not pd.api.types.is_string_dtype(series.dtype):
        return False
    present = series.dropna()
    if present.empty:
        return False
    probe = present.iloc[:: max(len(present) // _DATE_PROBE, 1)].astype(str)
    if probe.str.contains(_DATE_HINT).mean() < _DATE_SHARE:
        return False
    if pd.to_numeric(probe, errors="coerce").notna().mean() > 1 - _DATE_SHARE:
        return False  # numbers written as text ('3.5' would read as 5 March)
    return bool(parse_dates(probe).notna().mean() >= _DATE_SHARE)


def date_formats(series: pd.Series, limit: int = 3) -> list[str]:
    """A few differently written examples, to show the user what 'mixed formats' means."""
    examples: dict[str, str] = {}
    for value in series.dropna().astype(str).iloc[:2000]:
        shape = re.sub(r"[A-Za-z]+", "a", re.sub(r"\d+", "9", value))
        examples.setdefault(shape, value)
        if len(examples) >= limit:
            break
    return list(examples.values())


@dataclass(frozen=True)
class Categories:
    """Integer codes of a column with the rarest values folded into one bucket.

    ``codes`` is -1 where the value is missing; ``labels[i]`` names code ``i``; when values were
    folded, the last label is :data:`OTHER`.  ``distinct`` counts the values before folding.
    """

    codes: np.ndarray
    labels: list[str]
    distinct: int
    capped: bool


def capped_categories(series: pd.Series, max_categories: int = MAX_CATEGORIES) -> Categories:
    """Codes of the ``max_categories`` most frequent values, the rest folded into ``(other)``."""
    codes, uniques = pd.factorize(series, sort=False, use_na_sentinel=True)
    codes = np.asarray(codes, dtype=np.int64)
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    order = np.argsort(-counts, kind="stable")
    labels = [label_text(uniques[i]) for i in order[:max_categories]]
    if len(uniques) <= max_categories:
        remap = np.empty(len(uniques), dtype=np.int64)
        remap[order] = np.arange(len(uniques))
        return Categories(np.where(codes >= 0, remap[np.maximum(codes, 0)], -1), labels, len(uniques), False)
    remap = np.full(len(uniques), max_categories, dtype=np.int64)
    remap[order[:max_categories]] = np.arange(max_categories)
    return Categories(np.where(codes >= 0, remap[np.maximum(codes, 0)], -1), [*labels, OTHER], len(uniques), True)


def label_text(value: Any, width: int = 40) -> str:
    """A value as chart or table text, long values shortened."""
    if isinstance(value, float) and value.is_integer():
        text = str(int(value)) if abs(value) < 1e15 else f"{value:g}"
    elif isinstance(value, pd.Timestamp):
        text = value.isoformat()
    else:
        text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def preview(names: Sequence[Any], limit: int = 6) -> str:
    shown = ", ".join(map(repr, names[:limit]))
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def as_float(value: Any) -> float | None:
    """A plain float for JSON and tables; ``None`` for missing or not finite."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None
