"""Outliers: per numeric column by the IQR rule and by z-score, across columns by an isolation forest.

* IQR: a value below ``Q1 - k*IQR`` or above ``Q3 + k*IQR`` (k = 1.5); quartiles by linear
  interpolation (numpy's default), from a random sample above ``sample_rows`` rows, while the
  values beyond the fences are counted in every row.
* z-score: ``|x - mean| / std > 3`` with the sample standard deviation (ddof=1), over every row.
* Isolation forest (scikit-learn, 100 trees, fixed seed): fitted on a random sample of
  ``forest_rows`` rows of the numeric columns, missing values filled with each column's median.
  ``contamination`` (default 0.01) is the share of rows it calls outliers: the threshold is set
  on the fitted sample.  scikit-learn's 'auto' threshold is accepted too, but on a few Gaussian
  columns it flags a fifth of the rows.  ``detect_outliers`` scores the fitted sample only;
  ``outlier_rows`` scores every row.

``outlier_rows`` returns the rows to drop so the page can save a new version without them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.eda._common import (
    SAMPLE_ROWS,
    check_choice,
    check_columns,
    check_frame,
    check_positive,
    column_kind,
    numeric_values,
    preview,
    sample_positions,
)
from core.platform.errors import InvalidInputError

__all__ = ["OutlierRows", "OutlierSummary", "detect_outliers", "outlier_rows"]

METHODS = ("iqr", "zscore", "isolation_forest")
_FOREST_ROWS = 10_000
CONTAMINATION = 0.01
_SCORE_BLOCK = 100_000


@dataclass
class OutlierSummary:
    """Outliers of every numeric column and of the rows as a whole.

    ``per_column``: column, q1, q3, low_fence, high_fence, iqr_outliers, iqr_pct, mean, std,
    z_outliers, z_pct.  ``extreme_rows``: row (index label), column, value, z: the values furthest
    from their column's mean, largest ``|z|`` first.  ``forest_rows``: row, score (lower is more
    anomalous) for the most anomalous rows of the forest's sample; ``forest_outliers`` counts the
    sample rows the forest calls outliers (``None`` when no forest ran).
    """

    rows: int
    per_column: pd.DataFrame
    extreme_rows: pd.DataFrame
    forest_rows: pd.DataFrame | None = None
    forest_outliers: int | None = None
    forest_sample: int | None = None
    sampled_rows: int | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class OutlierRows:
    """The rows one method calls outliers: a boolean ``mask`` aligned with the frame's index."""

    method: str
    mask: pd.Series
    notes: list[str] = field(default_factory=list)

    @property
    def index(self) -> pd.Index:
        """Index labels of the outlier rows (pass to ``df.drop`` to keep the rest)."""
        return self.mask.index[self.mask.to_numpy()]

    @property
    def count(self) -> int:
        return int(self.mask.sum())


def detect_outliers(
    df: pd.DataFrame,
    *,
    columns: Sequence[Any] | None = None,
    iqr_factor: float = 1.5,
    z_threshold: float = 3.0,
    forest: bool = True,
    sample_rows: int = SAMPLE_ROWS,
    forest_rows: int = _FOREST_ROWS,
    contamination: float | str = CONTAMINATION,
    top: int = 20,
    seed: int = 0,
) -> OutlierSummary:
    """Count outliers per numeric column (IQR and z-score) and across columns (isolation forest).

    Parameters
    ----------
    df : DataFrame
    columns : sequence, optional
        Numeric columns to check (default: every numeric column).
    iqr_factor : float, default 1.5
    z_threshold : float, default 3.0
    forest : bool, default True
        Also run the isolation forest.
    sample_rows : int, default 100_000
        Above this many rows, quartiles come from a random sample of this size.
    forest_rows : int, default 10_000
        Rows the forest is fitted on and, here, applied to.
    contamination : float in (0, 0.5] or 'auto', default 0.01
        Share of rows the forest calls outliers.
    top : int, default 20
        How many extreme values and anomalous rows to list.
    seed : int, default 0

    Returns
    -------
    OutlierSummary

    Raises
    ------
    InvalidInputError
        For a frame without rows or columns, an unknown column or a parameter out of range.
    """
    check_frame(df, "Outlier detection")
    _check_params(iqr_factor, z_threshold, contamination)
    for name, value in (("sample_rows", sample_rows), ("forest_rows", forest_rows), ("top", top)):
        check_positive(name, value)
    notes: list[str] = []
    usable = _numeric_columns(df, columns, notes)
    positions = sample_positions(len(df), sample_rows, seed)
    records, extremes = [], []
    for name, values in usable.items():
        stats = _column_stats(values, positions, iqr_factor, z_threshold)
        records.append({"column": name, **{k: v for k, v in stats.items() if k != "z"}})
        z = stats.pop("z")
        if stats["iqr"] == 0:
            notes.append(f"{str(name)!r} has an interquartile range of 0 (half its values are the same): the IQR "
                         "rule calls every other value an outlier; the z-score is a better guide here.")
        distance = np.nan_to_num(np.abs(z), nan=-1.0)
        k = min(top, len(distance))
        worst = np.argpartition(-distance, k - 1)[:k]  # a full sort of a million values would take ~0.1 s
        extremes += [{"row": df.index[i], "column": name, "value": values[i], "z": z[i]} for i in worst
                     if np.isfinite(z[i])]
    per_column = pd.DataFrame.from_records(records, columns=[
        "column", "q1", "q3", "iqr", "low_fence", "high_fence", "iqr_outliers", "iqr_pct", "mean", "std",
        "z_outliers", "z_pct"])
    extreme_rows = pd.DataFrame.from_records(extremes, columns=["row", "column", "value", "z"])
    extreme_rows = extreme_rows.reindex(extreme_rows["z"].abs().sort_values(ascending=False).index).head(top)
    summary = OutlierSummary(len(df), per_column, extreme_rows.reset_index(drop=True),
                             sampled_rows=None if positions is None else len(positions), notes=notes)
    if positions is not None:
        notes.insert(0, f"Quartiles come from a random sample of {len(positions):,} of the {len(df):,} rows "
                        f"(seed {seed}); outliers beyond them are counted in every row.")
    if forest and usable:
        _forest_summary(df, usable, forest_rows, contamination, top, seed, summary)
    return summary


def outlier_rows(
    df: pd.DataFrame,
    method: str = "iqr",
    *,
    columns: Sequence[Any] | None = None,
    iqr_factor: float = 1.5,
    z_threshold: float = 3.0,
    sample_rows: int = SAMPLE_ROWS,
    forest_rows: int = _FOREST_ROWS,
    contamination: float | str = CONTAMINATION,
    seed: int = 0,
) -> OutlierRows:
    """The rows that ``method`` calls outliers, to drop when saving a new version.

    A row is an outlier when any checked column's value is (IQR, z-score), or when the isolation
    forest, scoring every row, says so.  Missing values are never outliers.  Parameters as in
    :func:`detect_outliers`; ``method`` is one of 'iqr', 'zscore', 'isolation_forest'.
    """
    check_frame(df, "Outlier detection")
    check_choice("method", method, METHODS)
    _check_params(iqr_factor, z_threshold, contamination)
    check_positive("sample_rows", sample_rows)
    check_positive("forest_rows", forest_rows)
    notes: list[str] = []
    usable = _numeric_columns(df, columns, notes)
    mask = np.zeros(len(df), dtype=bool)
    if method == "isolation_forest" and usable:
        model, matrix = _fit_forest(usable, len(df), forest_rows, contamination, seed)
        for start in range(0, len(df), _SCORE_BLOCK):
            mask[start : start + _SCORE_BLOCK] = model.predict(matrix(slice(start, start + _SCORE_BLOCK))) == -1
    elif usable:
        positions = sample_positions(len(df), sample_rows, seed)
        for values in usable.values():
            stats = _column_stats(values, positions, iqr_factor, z_threshold)
            if method == "iqr":
                mask |= (values < stats["low_fence"]) | (values > stats["high_fence"])
            else:
                mask |= np.abs(stats["z"]) > z_threshold
    if not usable:
        notes.append("No numeric column to check: no row is an outlier.")
    return OutlierRows(method, pd.Series(mask, index=df.index, name="outlier"), notes)


# ------------------------------------------------------------------ internals


def _check_params(iqr_factor: float, z_threshold: float, contamination: float | str) -> None:
    check_positive("iqr_factor", iqr_factor, integer=False)
    check_positive("z_threshold", z_threshold, integer=False)
    if contamination != "auto" and not (isinstance(contamination, float | int) and 0 < contamination <= 0.5):
        raise InvalidInputError(f"The 'contamination' parameter must be 'auto' or a share in (0, 0.5]; "
                                f"got {contamination!r}.")


def _numeric_columns(df: pd.DataFrame, columns: Sequence[Any] | None, notes: list[str]) -> dict[Any, np.ndarray]:
    names = check_columns(df, list(columns), "column") if columns is not None else list(df.columns)
    usable: dict[Any, np.ndarray] = {}
    skipped: dict[str, list[Any]] = {}
    for name in names:
        dtype = df[name].dtype
        if not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            if columns is not None:  # asked for by name: say why it is not checked
                skipped.setdefault(f"{column_kind(df[name])}, not numeric", []).append(name)
            continue
        values = numeric_values(df[name])
        present = values[~np.isnan(values)]
        if len(present) < 2 or present.min() == present.max():
            reason = "constant" if len(present) > 1 else "fewer than two values" if len(present) else "no value"
            skipped.setdefault(reason, []).append(name)
        else:
            usable[name] = values
    for reason, cols in skipped.items():
        notes.append(f"No outliers for ({reason}): {preview(cols)}.")
    return usable


def _column_stats(values: np.ndarray, positions: np.ndarray | None, factor: float, threshold: float) -> dict:
    present = values[~np.isnan(values)]
    small = values[positions] if positions is not None else values
    small = small[~np.isnan(small)]
    q1, q3 = (float(q) for q in np.quantile(small if len(small) else present, [0.25, 0.75]))
    low, high = q1 - factor * (q3 - q1), q3 + factor * (q3 - q1)
    mean, std = float(present.mean()), float(present.std(ddof=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (values - mean) / std if std > 0 else np.full(len(values), np.nan)
    iqr_count = int(((present < low) | (present > high)).sum())
    z_count = int((np.abs(z) > threshold).sum())
    n = len(values)
    return {"q1": q1, "q3": q3, "iqr": q3 - q1, "low_fence": low, "high_fence": high, "iqr_outliers": iqr_count,
            "iqr_pct": iqr_count / n, "mean": mean, "std": std, "z_outliers": z_count, "z_pct": z_count / n, "z": z}


def _fit_forest(usable: dict[Any, np.ndarray], n: int, forest_rows: int, contamination: float | str, seed: int):
    """An isolation forest fitted on a row sample, and a function giving any slice of rows as its input."""
    from sklearn.ensemble import IsolationForest

    positions = sample_positions(n, forest_rows, seed)
    columns = list(usable.values())
    medians = np.array([np.nanmedian(v if positions is None else v[positions]) for v in columns])

    def matrix(rows: Any) -> np.ndarray:
        block = np.column_stack([v[rows] for v in columns])
        return np.where(np.isnan(block), medians, block)

    fit_rows = positions if positions is not None else slice(None)
    model = IsolationForest(n_estimators=100, contamination=contamination, random_state=seed).fit(matrix(fit_rows))
    return model, matrix


def _forest_summary(df: pd.DataFrame, usable: dict, forest_rows: int, contamination: float | str, top: int,
                    seed: int, summary: OutlierSummary) -> None:
    model, matrix = _fit_forest(usable, len(df), forest_rows, contamination, seed)
    positions = sample_positions(len(df), forest_rows, seed)
    rows = positions if positions is not None else np.arange(len(df))
    scores = model.score_samples(matrix(rows))
    flagged = scores < model.offset_
    order = np.argsort(scores, kind="stable")[:top]
    summary.forest_rows = pd.DataFrame({"row": df.index[rows[order]], "score": scores[order]})
    summary.forest_outliers, summary.forest_sample = int(flagged.sum()), len(rows)
    where = f"a random sample of {len(rows):,} rows" if positions is not None else f"all {len(rows):,} rows"
    summary.notes.append(
        f"Isolation forest over {len(usable)} numeric column(s), fitted on and applied to {where}: "
        f"{int(flagged.sum()):,} ({flagged.mean():.1%}) look anomalous"
        + (f" (contamination {contamination}: the threshold keeps about that share)." if contamination != "auto"
           else ".")
        + (" Saving without outliers scores every row." if positions is not None else "")
    )
