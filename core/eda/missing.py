"""Missing values: how many per column, which columns go missing together, and the missingness matrix.

Counts and the co-missingness correlations use every row: the pairwise counts of rows where two
columns are both missing are popcounts of bit-packed missing masks (1 bit per cell).
The correlation of two missingness indicators (the phi coefficient) is 1 when the two columns are
always missing in the same rows.  The matrix figure draws a random sample of rows in their order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.eda._common import (
    Chart,
    check_frame,
    check_positive,
    preview,
    sample_positions,
)

__all__ = ["MissingValues", "missingness_figure", "summarize_missing"]

_TOGETHER = 0.5  # correlation of missingness above which two columns "go missing together"


@dataclass
class MissingValues:
    """Missing values per column and the column pairs whose values go missing together.

    ``per_column``: column, missing, missing_pct (sorted, most missing first).
    ``together``: column_a, column_b, correlation (phi of the two missingness indicators),
    both_missing (rows), sorted by correlation, strongest first.
    """

    rows: int
    missing_cells: int
    missing_cells_pct: float
    rows_with_missing: int
    per_column: pd.DataFrame
    together: pd.DataFrame
    notes: list[str] = field(default_factory=list)


def summarize_missing(df: pd.DataFrame, *, top: int = 20) -> MissingValues:
    """Count missing values per column and find the columns that go missing together.

    Parameters
    ----------
    df : DataFrame
    top : int, default 20
        How many column pairs to keep in ``together``.

    Returns
    -------
    MissingValues

    Raises
    ------
    InvalidInputError
        For a frame without rows or columns.
    """
    check_frame(df, "The missing-values summary")
    check_positive("top", top)
    n = len(df)
    names = list(df.columns)
    counts, both, rows_with_missing = _missing_counts(df)
    per_column = pd.DataFrame({"column": names, "missing": counts, "missing_pct": counts / n})
    per_column = per_column.sort_values("missing", ascending=False, kind="stable").reset_index(drop=True)
    notes: list[str] = []
    total = int(counts.sum())
    if total == 0:
        notes.append("No value is missing in any column.")
    full = [c for c, k in zip(names, counts, strict=True) if k == n]
    if full:
        notes.append(f"Missing in every row: {preview(full)}.")
    varying = [i for i, k in enumerate(counts) if 0 < k < n]
    together = _together(names, n, counts, both, varying, top)
    if len(varying) < 2 and total:
        notes.append("Fewer than two columns are missing in some rows but not all: no pair can go missing together.")
    strong = together[together["correlation"] >= _TOGETHER]
    for row in strong.head(5).itertuples():
        notes.append(f"{str(row.column_a)!r} and {str(row.column_b)!r} tend to be missing in the same rows "
                     f"(correlation {row.correlation:.2f}, both missing in {row.both_missing:,} rows).")
    return MissingValues(n, total, float(total / (n * len(names))), int(rows_with_missing), per_column, together,
                         notes)


def _missing_counts(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, int]:
    """Missing values per column, rows where each pair is missing together, and rows missing anything.

    Each column's missing mask is packed into bits; a pair's count is the popcount of the two
    masks ANDed, which is exact and far cheaper than a float matrix product over every row.
    """
    width = df.shape[1]
    counts = np.zeros(width, dtype=np.int64)
    packed: list[np.ndarray] = []
    for i in range(width):
        mask = df.iloc[:, i].isna().to_numpy()
        counts[i] = int(mask.sum())
        packed.append(_bits(mask))
    bits = np.vstack(packed)
    both = np.zeros((width, width), dtype=np.int64)
    with_missing = np.flatnonzero(counts)
    for a, i in enumerate(with_missing):
        others = with_missing[a:]
        both[i, others] = np.bitwise_count(bits[i] & bits[others]).sum(axis=1, dtype=np.int64)
        both[others, i] = both[i, others]
    any_missing = np.bitwise_or.reduce(bits[with_missing], axis=0) if len(with_missing) else bits[0] & 0
    return counts, both, int(np.bitwise_count(any_missing).sum(dtype=np.int64))


def _bits(mask: np.ndarray) -> np.ndarray:
    """A boolean mask as 64-bit words (zero-padded), for popcounts."""
    packed = np.packbits(mask)
    return np.pad(packed, (0, -len(packed) % 8)).view(np.uint64)


def _together(
    names: list, n: int, counts: np.ndarray, both: np.ndarray, varying: list[int], top: int
) -> pd.DataFrame:
    k = counts[varying].astype(np.float64)
    shared = both[np.ix_(varying, varying)]
    # phi from the 2x2 table of each pair: (n*n11 - n1*n2) / sqrt(n1*(n-n1)*n2*(n-n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = (n * shared - np.outer(k, k)) / np.sqrt(np.outer(k * (n - k), k * (n - k)))
    upper = np.triu_indices(len(varying), 1)
    labels = np.asarray(names, dtype=object)[varying]
    pairs = pd.DataFrame({
        "column_a": labels[upper[0]], "column_b": labels[upper[1]],
        "correlation": np.clip(phi[upper], -1, 1), "both_missing": np.rint(shared[upper]).astype(np.int64),
    })
    return pairs.sort_values("correlation", ascending=False, kind="stable").head(top).reset_index(drop=True)


def missingness_figure(df: pd.DataFrame, *, max_rows: int = 500, max_columns: int = 100, seed: int = 0) -> Chart:
    """The missingness matrix: rows (a sample, in order) down, columns across, missing cells dark.

    Parameters
    ----------
    df : DataFrame
    max_rows : int, default 500
        Above this many rows, draw a random sample of this size (kept in row order).
    max_columns : int, default 100
        Draw at most this many columns, those with the most missing values first.
    seed : int, default 0
    """
    check_frame(df, "The missingness matrix")
    check_positive("max_rows", max_rows)
    check_positive("max_columns", max_columns)
    notes: list[str] = []
    positions = sample_positions(len(df), max_rows, seed)
    frame = df if positions is None else df.iloc[positions]
    if positions is not None:
        notes.append(f"Showing a random sample of {max_rows:,} of the {len(df):,} rows, in their order (seed {seed}).")
    if df.shape[1] > max_columns:
        order = df.isna().sum().sort_values(ascending=False, kind="stable").index[:max_columns]
        frame = frame[[c for c in df.columns if c in set(order)]]
        notes.append(f"Showing the {max_columns} columns with the most missing values of {df.shape[1]}.")
    missing = frame.isna().to_numpy(dtype=np.int8)
    if not missing.any():
        notes.append("No value is missing in the rows shown.")
    labels = [str(c) for c in frame.columns]
    figure = go.Figure(go.Heatmap(
        z=missing, x=labels, y=np.arange(len(frame)), zmin=0, zmax=1, showscale=False, xgap=1,
        colorscale=[[0, "#e8eef7"], [1, "#1f3b73"]], customdata=np.asarray(frame.index.astype(str))[:, None]
        .repeat(len(labels), axis=1), hovertemplate="row %{customdata}<br>%{x}: %{z}<extra></extra>",
    ))
    title = "Missing values (dark = missing)" + (f", {len(frame):,} sampled rows" if positions is not None else "")
    figure.update_layout(title=title, yaxis={"autorange": "reversed", "title": "row", "showticklabels": False},
                         xaxis={"tickangle": -45}, margin={"t": 60})
    return Chart(figure, notes, None if positions is None else len(positions))
