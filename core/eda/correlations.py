"""Correlation matrices: Pearson or Spearman between numeric columns, or associations between every column.

``method='associations'`` lets every column take part, each pair measured by what suits its kinds:

* numeric with numeric: Pearson (or Spearman, ``numeric_method``), signed, in [-1, 1];
* categorical with categorical: Cramér's V with Bergsma's (2013) bias correction, in [0, 1]
  (the plain V overstates association for many categories and few rows; ``cramers_v`` offers both);
* categorical with numeric: the correlation ratio eta, in [0, 1].

Datetimes count as numeric (time since 1970) there, booleans as categories; free text takes no
part.  A categorical column with more than ``max_categories`` values keeps its most frequent ones
and folds the rest into ``(other)``.  Missing values are left out pair by pair (pairwise complete);
Spearman ranks each column once over its present values (pandas re-ranks within every pair, which
differs slightly when values are missing, and is the same without them).
Above ``sample_rows`` rows everything is computed on a random row sample, which the result says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.data.types import MAX_CATEGORIES
from core.eda._common import (
    SAMPLE_ROWS,
    capped_categories,
    check_choice,
    check_columns,
    check_frame,
    check_positive,
    column_kind,
    datetime_ns,
    numeric_values,
    preview,
    sample_note,
    sample_positions,
    take,
)

__all__ = ["Correlations", "compute_correlations", "correlation_ratio", "cramers_v", "cramers_v_from_table"]

METHODS = ("pearson", "spearman", "associations")
NEAR_DUPLICATE = 0.95
_MIN_ROWS = 3
_PAIR_COLUMNS = ["column_a", "column_b", "value", "measure", "rows"]


@dataclass
class Correlations:
    """A square matrix of correlations or associations and its pairs, strongest first.

    ``measures`` names the measure of each cell (pearson, spearman, cramers_v, eta); ``pairs`` has
    one row per pair of columns (``column_a``, ``column_b``, ``value``, ``measure``, ``rows`` used)
    sorted by absolute value; pairs that could not be measured are left out and ``notes`` say why.
    """

    method: str
    matrix: pd.DataFrame
    measures: pd.DataFrame
    pairs: pd.DataFrame
    rows_used: int
    sampled_rows: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def near_duplicates(self) -> pd.DataFrame:
        """Pairs whose absolute value exceeds 0.95: one column nearly repeats the other."""
        return self.pairs[self.pairs["value"].abs() > NEAR_DUPLICATE].reset_index(drop=True)

    def strongest(self, top: int = 10) -> pd.DataFrame:
        """The ``top`` pairs with the largest absolute value."""
        return self.pairs.head(top).reset_index(drop=True)


def compute_correlations(
    df: pd.DataFrame,
    method: str = "pearson",
    *,
    columns: Sequence[Any] | None = None,
    numeric_method: str = "pearson",
    sample_rows: int = SAMPLE_ROWS,
    max_categories: int = MAX_CATEGORIES,
    seed: int = 0,
) -> Correlations:
    """Correlation (or association) between every pair of columns.

    Parameters
    ----------
    df : DataFrame
    method : {'pearson', 'spearman', 'associations'}
        Pearson and Spearman use numeric and boolean columns only; associations use every column
        (see the module docstring).
    columns : sequence, optional
        Restrict to these columns (default: all).
    numeric_method : {'pearson', 'spearman'}
        With ``method='associations'``: the measure between two numeric columns.
    sample_rows : int, default 100_000
        Above this many rows, compute on a random sample of this size.
    max_categories : int, default 50
        Categories kept per column for associations; the rest are folded into ``(other)``.
    seed : int, default 0

    Returns
    -------
    Correlations

    Raises
    ------
    InvalidInputError
        For a frame without rows or columns, an unknown column or method.
    """
    check_frame(df, "Correlations")
    check_choice("method", method, METHODS)
    check_choice("numeric_method", numeric_method, METHODS[:2])
    check_positive("sample_rows", sample_rows)
    check_positive("max_categories", max_categories)
    names = check_columns(df, list(columns), "column") if columns is not None else list(df.columns)
    positions = sample_positions(len(df), sample_rows, seed)
    notes = [sample_note(len(positions), len(df), seed, "Correlations")] if positions is not None else []
    numeric, categorical = _prepare(df, names, method, positions, max_categories, notes)
    used = [*numeric, *categorical]
    if len(used) < 2:
        notes.append(f"Correlations need at least two columns that vary; {len(used)} of the {len(names)} "
                     f"columns can take part{': ' + preview(used) if used else ''}.")
    measure = numeric_method if method == "associations" else method
    p, size = len(numeric), len(used)
    values = np.full((size, size), np.nan)
    kinds = np.full((size, size), measure, dtype=object)
    rows = np.zeros((size, size), dtype=np.int64)
    raw = np.column_stack(list(numeric.values())) if numeric else np.empty((0, 0))
    if numeric:
        ranked = pd.DataFrame(raw).rank(method="average").to_numpy() if measure == "spearman" else raw
        values[:p, :p], rows[:p, :p] = _pairwise_pearson(ranked)
    codes = list(categorical.values())
    for i, a in enumerate(codes):
        for j in range(i + 1, len(codes)):
            v, n = _cramers_v_codes(a, codes[j], True)
            values[p + i, p + j] = values[p + j, p + i] = v
            rows[p + i, p + j] = rows[p + j, p + i] = n
        kinds[p + i, p:] = kinds[p:, p + i] = "cramers_v"
        if numeric:
            eta, n = _eta_block(a, raw)
            values[p + i, :p] = values[:p, p + i] = eta
            rows[p + i, :p] = rows[:p, p + i] = n
            kinds[p + i, :p] = kinds[:p, p + i] = "eta"
    np.fill_diagonal(values, 1.0)
    order = [n for n in names if n in numeric or n in categorical]  # the dataset's column order
    matrix = pd.DataFrame(values, index=used, columns=used).loc[order, order]
    measures = pd.DataFrame(kinds, index=used, columns=used).loc[order, order]
    counts = pd.DataFrame(rows, index=used, columns=used).loc[order, order]
    pairs = _pairs(matrix, measures, counts)
    unmeasured = int(np.isnan(matrix.to_numpy()[np.triu_indices(len(used), 1)]).sum())
    if unmeasured:
        notes.append(f"{unmeasured} pair(s) share fewer than {_MIN_ROWS} rows with both values present (or "
                     "one side is constant there): they have no value.")
    _near_duplicate_notes(pairs, notes)
    return Correlations(method, matrix, measures, pairs, len(df) if positions is None else len(positions),
                        None if positions is None else len(positions), notes)


def _prepare(df, names, method, positions, max_categories, notes):
    """Numeric vectors and category codes of the columns that can take part, with notes on the rest."""
    numeric: dict[Any, np.ndarray] = {}
    categorical: dict[Any, np.ndarray] = {}
    skipped: dict[str, list[Any]] = {}
    for name in names:
        series = take(df[name], positions)
        kind = column_kind(series)
        if kind == "empty":
            skipped.setdefault("missing in every row", []).append(name)
        elif kind == "text":
            skipped.setdefault("free text", []).append(name)
        elif kind == "numeric" or (kind == "boolean" and method != "associations"):
            _keep_numeric(name, numeric_values(series), numeric, skipped)
        elif kind == "datetime" and method == "associations":
            ns = datetime_ns(series).astype(np.float64)
            ns[series.isna().to_numpy()] = np.nan
            _keep_numeric(name, ns, numeric, skipped)
        elif method != "associations":
            skipped.setdefault(f"{kind}, not numeric", []).append(name)
        else:
            cats = capped_categories(series, max_categories)
            if cats.distinct < 2:
                skipped.setdefault("constant", []).append(name)
                continue
            categorical[name] = cats.codes
            if cats.capped:
                notes.append(f"{str(name)!r} has {cats.distinct:,} distinct values: its {max_categories} most "
                             "frequent are kept and the rest counted together as '(other)'.")
    for reason, cols in skipped.items():
        hint = " (method='associations' includes them)" if reason.endswith("not numeric") else ""
        notes.append(f"Left out ({reason}){hint}: {preview(cols)}.")
    return numeric, categorical


def _keep_numeric(name: Any, values: np.ndarray, numeric: dict, skipped: dict) -> None:
    present = values[~np.isnan(values)]
    if len(present) and present.min() < present.max():
        numeric[name] = values
    else:
        skipped.setdefault("constant" if len(present) else "missing in every row", []).append(name)


def _pairwise_pearson(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pearson r for every pair of columns over the rows where both are present, and those row counts.

    Four matrix products give, per pair, the counts, sums, sums of squares and cross products over
    the shared rows; centring by each column's mean first keeps the one-pass formula accurate.
    """
    from threadpoolctl import threadpool_limits

    present = ~np.isnan(x)
    centred = np.where(present, x - np.nanmean(x, axis=0), 0.0)
    weights = present.astype(np.float64)
    # One BLAS thread: these products are small, and threaded OpenBLAS on two busy cores spins and
    # runs 5-10 times slower (measured: 0.06 s single-threaded against 0.3-2.4 s threaded).
    with threadpool_limits(1, user_api="blas"):
        rows = weights.T @ weights
        sums = centred.T @ weights  # [i, j]: sum of column i over rows where j is present too
        squares = (centred * centred).T @ weights
        cross = centred.T @ centred
    with np.errstate(divide="ignore", invalid="ignore"):
        safe = np.maximum(rows, 1)
        cov = cross - sums * sums.T / safe
        var_i = squares - sums**2 / safe
        r = cov / np.sqrt(var_i * var_i.T)
    r[(rows < _MIN_ROWS) | ~np.isfinite(r)] = np.nan
    return np.clip(r, -1.0, 1.0), rows.astype(np.int64)


def cramers_v_from_table(table: Any, *, bias_correction: bool = True) -> float:
    """Cramér's V of a contingency table (rows and columns that are all zero are dropped).

    With ``bias_correction`` (the default) it is Bergsma's corrected V:
    ``phi2c = max(0, phi2 - (k-1)(r-1)/(n-1))``, ``rc = r - (r-1)^2/(n-1)``, ``kc = k - (k-1)^2/(n-1)``,
    ``V = sqrt(phi2c / min(kc-1, rc-1))``; without it ``V = sqrt(phi2 / min(k-1, r-1))``.
    NaN when either side has a single category.
    """
    table = np.asarray(table, dtype=np.float64)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    n = table.sum()
    r, k = table.shape
    if r < 2 or k < 2 or n < 2:
        return float("nan")
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / n
    phi2 = float(((table - expected) ** 2 / expected).sum() / n)
    if not bias_correction:
        return float(np.sqrt(phi2 / min(k - 1, r - 1)))
    phi2c = max(0.0, phi2 - (k - 1) * (r - 1) / (n - 1))
    rc, kc = r - (r - 1) ** 2 / (n - 1), k - (k - 1) ** 2 / (n - 1)
    denominator = min(kc - 1, rc - 1)
    return float(np.sqrt(phi2c / denominator)) if denominator > 0 else float("nan")


def cramers_v(x: Any, y: Any, *, bias_correction: bool = True) -> float:
    """Cramér's V between two categorical sequences (rows with a missing value on either side are dropped)."""
    a, _ = pd.factorize(pd.Series(x), use_na_sentinel=True)
    b, _ = pd.factorize(pd.Series(y), use_na_sentinel=True)
    return _cramers_v_codes(np.asarray(a), np.asarray(b), bias_correction)[0]


def _cramers_v_codes(a: np.ndarray, b: np.ndarray, bias_correction: bool) -> tuple[float, int]:
    both = (a >= 0) & (b >= 0)
    a, b = a[both], b[both]
    if len(a) < _MIN_ROWS:
        return float("nan"), len(a)
    ka, kb = int(a.max()) + 1, int(b.max()) + 1
    table = np.bincount(a * kb + b, minlength=ka * kb).reshape(ka, kb)
    return cramers_v_from_table(table, bias_correction=bias_correction), len(a)


def correlation_ratio(categories: Any, values: Any) -> float:
    """The correlation ratio eta: how much of a numeric column's variance its categories explain (sqrt)."""
    codes, _ = pd.factorize(pd.Series(categories), use_na_sentinel=True)
    eta, _ = _eta_block(np.asarray(codes, dtype=np.int64), numeric_values(pd.Series(values))[:, None])
    return float(eta[0])


def _eta_block(codes: np.ndarray, block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """eta of one categorical column against every column of a numeric block, over rows where both are present.

    ``eta**2 = SS_between / SS_total``; per-category counts and sums of every numeric column come
    from one sparse product (one-hot categories transposed, times the block), not a loop per pair.
    """
    from scipy import sparse

    valid = codes >= 0
    present = ~np.isnan(block) & valid[:, None]
    x = np.where(present, block - np.nanmean(block, axis=0), 0.0)  # centred: sums of squares stay accurate
    k = int(codes.max()) + 1 if valid.any() else 1
    where = np.flatnonzero(valid)
    onehot = sparse.csr_matrix((np.ones(len(where)), (codes[where], where)), shape=(k, len(codes)))
    counts = np.asarray(onehot @ present.astype(np.float64))
    sums = np.asarray(onehot @ x)
    n = counts.sum(axis=0)
    squares = (x * x).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_part = sums.sum(axis=0) ** 2 / n
        between = np.where(counts > 0, sums**2 / np.maximum(counts, 1), 0.0).sum(axis=0) - mean_part
        total = squares - mean_part
        eta = np.sqrt(np.clip(between / total, 0.0, 1.0))
    eta[(n < _MIN_ROWS) | ~(total > 1e-12 * np.maximum(squares, 1e-300))] = np.nan
    return eta, n.astype(np.int64)


def _pairs(matrix: pd.DataFrame, measures: pd.DataFrame, counts: pd.DataFrame) -> pd.DataFrame:
    upper = np.triu_indices(len(matrix), 1)
    values = matrix.to_numpy()[upper]
    keep = ~np.isnan(values)
    names = np.asarray(matrix.index, dtype=object)
    pairs = pd.DataFrame({
        "column_a": names[upper[0]][keep], "column_b": names[upper[1]][keep], "value": values[keep],
        "measure": measures.to_numpy()[upper][keep], "rows": counts.to_numpy()[upper][keep],
    }, columns=_PAIR_COLUMNS)
    order = np.argsort(-np.abs(pairs["value"].to_numpy()), kind="stable")
    return pairs.iloc[order].reset_index(drop=True)


def _near_duplicate_notes(pairs: pd.DataFrame, notes: list[str], limit: int = 10) -> None:
    near = pairs[pairs["value"].abs() > NEAR_DUPLICATE]
    for row in near.head(limit).itertuples():
        notes.append(f"{str(row.column_a)!r} and {str(row.column_b)!r} are near duplicates ({row.measure} "
                     f"{row.value:.3f}): one of them adds little; consider keeping only one.")
    if len(near) > limit:
        notes.append(f"… and {len(near) - limit} more near-duplicate pairs (|value| > {NEAR_DUPLICATE}).")
