"""The dataset overview: shape, memory, types, missing cells, duplicate rows and one summary row per column.

Built for 1,000,000 rows x 50 columns in about a second on two cores: every column is read once
with numpy, moments use dot products (no temporaries beyond one copy), and the statistics that
need a sort or a hash table of every value (quartiles, distinct counts and top values of numeric,
datetime and text columns) come from one random row sample, which the result names in
``sampled_rows``.  Counts, missing values, mean, std, min, max, skew, kurtosis, the top values of
categorical columns and the duplicate-row count always use every row.

Duplicate rows are counted by :func:`core.data.duplicates.duplicate_row_count`, the data-quality
report's counter: a 64-bit hash per row, built column by column, most varied column first, keeping
only rows whose partial hash is still shared with another row, so most rows drop out after a column
or two.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.data.duplicates import duplicate_row_count
from core.data.types import MAX_CATEGORIES, dtype_kind
from core.eda._common import (
    SAMPLE_ROWS,
    check_frame,
    check_positive,
    column_kind,
    date_formats,
    datetime_ns,
    hashable,
    label_text,
    looks_like_dates,
    sample_positions,
    take,
)

__all__ = ["ColumnSummary", "Overview", "TopValue", "describe_dataset"]

_NAT = np.iinfo(np.int64).min
_SIZEOF_NONE = sys.getsizeof(None)


@dataclass(frozen=True)
class TopValue:
    """One frequent value: its text, how often it occurs, and its share of the present values."""

    value: str
    count: int
    share: float


@dataclass(frozen=True)
class ColumnSummary:
    """One row of the per-column table.  Statistics that do not apply to the kind are ``None``.

    ``kind`` is numeric, categorical, boolean, datetime, text or empty (missing in every row).
    Datetime columns fill ``earliest`` and ``latest`` (ISO text) instead of the numeric fields.
    """

    name: str
    kind: str
    dtype: str
    count: int
    missing: int
    missing_pct: float
    unique: int | None = None
    mean: float | None = None
    std: float | None = None
    min: float | None = None
    p25: float | None = None
    p50: float | None = None
    p75: float | None = None
    max: float | None = None
    skew: float | None = None
    kurtosis: float | None = None
    earliest: str | None = None
    latest: str | None = None
    top: tuple[TopValue, ...] = ()


@dataclass
class Overview:
    """What the EDA page's overview shows.

    ``sampled_rows`` is the size of the random row sample behind the statistics listed in
    ``sampled_stats`` (``None``: every row was used for everything).
    """

    rows: int
    columns: int
    memory_bytes: int
    memory_estimated: bool
    types: dict[str, int]
    missing_cells: int
    missing_cells_pct: float
    duplicate_rows: int
    duplicate_rows_pct: float
    column_summaries: list[ColumnSummary]
    sampled_rows: int | None = None
    sampled_stats: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)

    def table(self) -> pd.DataFrame:
        """The per-column table, one row per column; ``top`` as ``"value (share%)"`` text."""
        records = []
        for c in self.column_summaries:
            record = {k: v for k, v in asdict(c).items() if k != "top"}
            record["top"] = ", ".join(f"{t.value} ({t.share:.1%})" for t in c.top)
            records.append(record)
        return pd.DataFrame.from_records(records, columns=[*ColumnSummary.__dataclass_fields__])

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (ints, floats, strings, lists, dicts) for storing with the dataset version."""
        return asdict(self) | {"sampled_stats": list(self.sampled_stats)}


def describe_dataset(df: pd.DataFrame, *, sample_rows: int = SAMPLE_ROWS, top: int = 5, seed: int = 0) -> Overview:
    """Summarise a dataset: shape, memory, types, missing cells, duplicates and every column.

    Parameters
    ----------
    df : DataFrame
        The dataset version.  A frame with no rows gives a schema-only overview with a note.
    sample_rows : int, default 100_000
        Above this many rows, quartiles, distinct counts and top values of numeric, datetime and
        text columns come from a random sample of this size.
    top : int, default 5
        How many frequent values to list per column.
    seed : int, default 0
        Seed of the row sample.

    Returns
    -------
    Overview

    Raises
    ------
    InvalidInputError
        When ``df`` is not a DataFrame, has no columns or repeats a column name.
    """
    check_frame(df, "The overview", need_rows=False)
    check_positive("sample_rows", sample_rows)
    check_positive("top", top)
    n = len(df)
    if n == 0:
        return _schema_only(df)
    positions = sample_positions(n, sample_rows, seed)
    notes: list[str] = []
    summaries: list[ColumnSummary] = []
    memory = int(df.memory_usage(index=True, deep=False).sum())
    memory_estimated = False
    sampled: set[str] = set()
    for name in df.columns:
        original = df[name]
        series = hashable(original)  # lists or dicts in cells become their text
        sample = take(series, positions)
        kind = "text" if series is not original else dtype_kind(series.dtype) or column_kind(sample)
        kind = "categorical" if kind == "empty" else kind  # a string column missing in every sampled row
        if kind == "numeric":
            summary = _numeric(name, series, sample, top, notes)
            sampled.update(("p25", "p50", "p75", "unique", "top") if positions is not None else ())
        elif kind == "datetime":
            summary = _datetime(name, series, sample)
            sampled.update(("unique",) if positions is not None else ())
        elif kind == "text":
            summary, extra = _text(name, series, sample, notes)
            memory += extra
            memory_estimated = memory_estimated or positions is not None
            sampled.update(("unique",) if positions is not None else ())
        else:
            summary, extra = _categorical(name, kind, series, top, notes)
            memory += extra
        summaries.append(summary)
        _column_notes(summary, series, notes)
    missing = sum(s.missing for s in summaries)
    # The distinct counts seen (some on the sample) only order the columns, most varied first.
    duplicates = duplicate_row_count(df, [{"name": s.name, "n_unique": s.unique or 0, "n_missing": s.missing}
                                          for s in summaries])
    types: dict[str, int] = {}
    for s in summaries:
        types[s.kind] = types.get(s.kind, 0) + 1
    if positions is not None:
        what = ", ".join(sorted(sampled))
        notes.insert(0, f"{what} of numeric, datetime and text columns come from a random sample of "
                        f"{len(positions):,} of the {n:,} rows (seed {seed}); everything else uses every row.")
    if df.shape[1] == 1:
        notes.append("The dataset has a single column: correlations and other comparisons need at least two.")
    return Overview(
        rows=n, columns=df.shape[1], memory_bytes=memory, memory_estimated=memory_estimated, types=types,
        missing_cells=int(missing), missing_cells_pct=float(missing / (n * df.shape[1])),
        duplicate_rows=duplicates, duplicate_rows_pct=float(duplicates / n), column_summaries=summaries,
        sampled_rows=None if positions is None else len(positions),
        sampled_stats=tuple(sorted(sampled)) if positions is not None else (), notes=notes,
    )


# ------------------------------------------------------------------ per kind


def _base(name: Any, kind: str, series: pd.Series, missing: int, **stats: Any) -> ColumnSummary:
    n = len(series)
    return ColumnSummary(name=str(name), kind=kind if missing < n else "empty", dtype=str(series.dtype),
                         count=n - missing, missing=int(missing), missing_pct=float(missing / n), **stats)


def _numeric(name: Any, series: pd.Series, sample: pd.Series, top: int, notes: list[str]):
    key = series.to_numpy(dtype=np.float64, na_value=np.nan)
    finite = np.isfinite(key)
    n_finite = int(finite.sum())
    n_missing = int(np.isnan(key).sum()) if n_finite < len(key) else 0
    if n_finite < len(key) - n_missing:
        notes.append(f"{str(name)!r} has {len(key) - n_finite - n_missing:,} infinite values: they count as "
                     "present but are left out of its statistics.")
    values = key if n_finite == len(key) else key[finite]
    stats = _moments(values)
    small = sample.to_numpy(dtype=np.float64, na_value=np.nan)
    small = small[np.isfinite(small)]
    if len(small):
        stats.update(zip(("p25", "p50", "p75"), map(float, np.quantile(small, [0.25, 0.5, 0.75])), strict=True))
    codes, uniques = pd.factorize(small)
    counts = np.bincount(codes, minlength=len(uniques))
    stats["unique"] = len(uniques) if n_finite else 0
    stats["top"] = _top(uniques, counts, top, repeated_only=True)
    return _base(name, "numeric", series, n_missing, **stats)


def _moments(values: np.ndarray) -> dict[str, Any]:
    """Mean, std (ddof=1), min, max, and skew and excess kurtosis adjusted for sample size as pandas does."""
    n = len(values)
    if n == 0:
        return {}
    mean = float(values.mean())
    deviations = values - mean
    # Elementwise products and pairwise sums: BLAS dot is slower here (thread start-up on 1-D vectors).
    squared = deviations * deviations
    m2 = float(squared.sum()) / n
    out: dict[str, Any] = {"mean": mean, "min": float(values.min()), "max": float(values.max())}
    out["std"] = float(np.sqrt(m2 * n / (n - 1))) if n > 1 else None
    if m2 <= 1e-14 * max(mean * mean, 1e-300):
        return out  # constant (up to rounding): skew and kurtosis are undefined
    m3 = float(np.multiply(squared, deviations, out=deviations).sum()) / n
    m4 = float(np.multiply(squared, squared, out=squared).sum()) / n
    if n > 2:
        out["skew"] = float(m3 / m2**1.5 * np.sqrt(n * (n - 1)) / (n - 2))
    if n > 3:
        out["kurtosis"] = float(((n + 1) * (m4 / m2**2 - 3) + 6) * (n - 1) / ((n - 2) * (n - 3)))
    return out


def _datetime(name: Any, series: pd.Series, sample: pd.Series):
    key = datetime_ns(series)
    present = key[key != _NAT]
    small = datetime_ns(sample)
    stats: dict[str, Any] = {"unique": int(len(pd.unique(small[small != _NAT])))}
    if len(present):
        tz = series.dt.tz
        stats["earliest"], stats["latest"] = (_iso(v, tz) for v in (present.min(), present.max()))
    return _base(name, "datetime", series, len(key) - len(present), **stats)


def _iso(ns: int, tz: Any) -> str:
    moment = pd.Timestamp(int(ns), tz="UTC") if tz is not None else pd.Timestamp(int(ns))
    return (moment.tz_convert(tz) if tz is not None else moment).isoformat()


def _categorical(name: Any, kind: str, series: pd.Series, top: int, notes: list[str]):
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes, uniques = series.cat.codes.to_numpy().astype(np.int64), series.cat.categories
    else:
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
    counts = np.bincount(codes + 1, minlength=len(uniques) + 1)
    missing, counts = int(counts[0]), counts[1:]
    extra = 0
    if series.dtype == object:  # what memory_usage(deep=True) adds: each element's own size
        sizes = np.fromiter((sys.getsizeof(u) for u in uniques), dtype=np.int64, count=len(uniques))
        extra = int(sizes @ counts) + missing * _SIZEOF_NONE
    unique = int((counts > 0).sum())
    if unique > MAX_CATEGORIES:
        notes.append(f"{str(name)!r} has {unique:,} distinct values: charts show the most frequent ones and "
                     f"correlations fold all but the {MAX_CATEGORIES} most frequent into '(other)'.")
    if kind == "categorical" and looks_like_dates(series.iloc[:5000]):
        _date_note(name, series, notes)
    summary = _base(name, kind, series, missing, unique=unique, top=_top(uniques, counts, top))
    return summary, extra


def _text(name: Any, series: pd.Series, sample: pd.Series, notes: list[str]):
    missing = int(series.isna().sum())
    present = sample.dropna()
    codes, uniques = pd.factorize(present)
    extra = 0
    if series.dtype == object and len(present):
        sizes = np.fromiter((sys.getsizeof(v) for v in present.to_numpy()), dtype=np.int64, count=len(present))
        extra = int(sizes.mean() * (len(series) - missing)) + missing * _SIZEOF_NONE
    if looks_like_dates(present):
        _date_note(name, present, notes)
    else:
        lengths = present.astype(str).str.len()
        notes.append(f"{str(name)!r} looks like free text ({len(uniques):,} distinct values in {len(present):,} "
                     f"rows, {lengths.mean():.0f} characters on average): it has no top values or categories.")
    summary = _base(name, "text", series, missing, unique=len(uniques))
    return summary, extra


def _date_note(name: Any, series: pd.Series, notes: list[str]) -> None:
    examples = ", ".join(map(repr, date_formats(series)))
    notes.append(f"{str(name)!r} holds dates written as text ({examples}): it is summarised as plain values here; "
                 "convert it to a datetime column to see it over time.")


def _top(uniques: Any, counts: np.ndarray, top: int, repeated_only: bool = False) -> tuple[TopValue, ...]:
    total = int(counts.sum())
    if not total:
        return ()
    order = np.argsort(-counts, kind="stable")[:top]
    return tuple(TopValue(label_text(uniques[i]), int(counts[i]), float(counts[i] / total)) for i in order
                 if counts[i] > 0 and (counts[i] > 1 or not repeated_only))


def _column_notes(summary: ColumnSummary, series: pd.Series, notes: list[str]) -> None:
    name = repr(summary.name)
    if summary.kind == "empty":
        notes.append(f"{name} is missing in every row: there is nothing to summarise.")
    elif summary.kind in ("numeric", "datetime") and summary.min is not None and summary.min == summary.max:
        notes.append(f"{name} has the same value ({label_text(summary.min)}) in every row where it is present "
                     "(constant): it carries no information.")
    elif summary.kind in ("categorical", "boolean") and summary.unique == 1:
        notes.append(f"{name} has the same value ({summary.top[0].value}) in every row where it is present "
                     "(constant): it carries no information.")


def _schema_only(df: pd.DataFrame) -> Overview:
    summaries = []
    for name in df.columns:
        kind = dtype_kind(df[name].dtype) or "categorical"
        summaries.append(ColumnSummary(str(name), kind, str(df[name].dtype), 0, 0, 0.0))
    types: dict[str, int] = {}
    for s in summaries:
        types[s.kind] = types.get(s.kind, 0) + 1
    return Overview(0, df.shape[1], int(df.memory_usage(index=True, deep=True).sum()), False, types, 0, 0.0, 0, 0.0,
                    summaries, notes=["The dataset has no rows: only the column names and types can be shown."])

