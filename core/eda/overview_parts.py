"""The overview's column statistics computed part by part and merged: no process holds the whole table.

Each task reads one Parquet piece (whole row groups) and returns, per column, its count of rows,
missing values and, for numeric columns, finite count, min, max, and the mean and sum of squared
deviations of the finite values (merged by Chan et al.'s update, so the merged mean and std are
those of every row up to floating-point rounding).  Counts, missing, min and max are exact.

Quartiles come from a uniform row sample: every piece keeps each row with the same probability
``sample_rows / rows``, so the union is a uniform sample of about ``sample_rows`` rows.  By the
Dvoretzky–Kiefer–Wolfowitz inequality the rank of a reported quartile is within
:func:`quantile_rank_bound` of its true rank (0.25, 0.5, 0.75) with probability 99.9 % (for
100,000 sampled rows: ±0.0062, i.e. the reported median lies between the 49.4th and 50.6th
percentiles of the full column).

Statistics are the same as :func:`core.eda.overview.describe_dataset`'s for numeric columns
(infinite values count as present and are left out of mean, std, min and max).  Runs on any
executor of :mod:`core.platform.compute`: in this process, or one task per piece on a cluster.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from core.data.types import dtype_kind
from core.eda._common import SAMPLE_ROWS
from core.platform.compute import Executor
from core.platform.errors import InvalidInputError

__all__ = ["PIECE_ROWS", "ColumnStats", "PartOverview", "overview_by_partition", "quantile_rank_bound"]

PIECE_ROWS = 1_000_000
CONFIDENCE = 0.999


def quantile_rank_bound(sampled: int, confidence: float = CONFIDENCE) -> float:
    """The DKW bound on the rank error of a quantile read from a uniform sample of ``sampled`` rows."""
    return math.sqrt(math.log(2 / (1 - confidence)) / (2 * sampled)) if sampled else 1.0


@dataclass
class ColumnStats:
    name: str
    kind: str
    count: int = 0  # present values, as ColumnSummary.count
    missing: int = 0
    finite: int = 0
    mean: float = 0.0
    m2: float = 0.0
    min: float | None = None
    max: float | None = None
    sample: np.ndarray | None = None  # numeric only: the piece's sampled finite values

    def merge(self, other: ColumnStats) -> None:
        self.count += other.count
        self.missing += other.missing
        if other.finite:
            n = self.finite + other.finite
            delta = other.mean - self.mean
            self.mean += delta * other.finite / n
            self.m2 += other.m2 + delta * delta * self.finite * other.finite / n
            self.finite = n
            self.min = other.min if self.min is None else min(self.min, other.min)
            self.max = other.max if self.max is None else max(self.max, other.max)
        if other.sample is not None:
            self.sample = other.sample if self.sample is None else np.concatenate([self.sample, other.sample])

    @property
    def std(self) -> float | None:
        return math.sqrt(self.m2 / (self.finite - 1)) if self.finite > 1 else None

    def quartiles(self) -> tuple[float, float, float] | None:
        if self.sample is None or not len(self.sample):
            return None
        return tuple(float(q) for q in np.quantile(self.sample, [0.25, 0.5, 0.75]))  # type: ignore[return-value]


@dataclass
class PartOverview:
    """The merged statistics: ``rows``, per-column :class:`ColumnStats`, and the sample behind quartiles."""

    rows: int
    columns: list[ColumnStats]
    pieces: int
    sampled_rows: int
    quantile_rank_error: float
    notes: list[str] = field(default_factory=list)

    def table(self) -> list[dict[str, Any]]:
        out = []
        for c in self.columns:
            q = c.quartiles()
            out.append({"name": c.name, "kind": c.kind, "count": c.count, "missing": c.missing,
                        "mean": c.mean if c.finite else None, "std": c.std, "min": c.min, "max": c.max,
                        "p25": q[0] if q else None, "p50": q[1] if q else None, "p75": q[2] if q else None})
        return out


@dataclass(frozen=True)
class _Piece:
    path: str
    row_groups: list[int]
    rows: int
    seed: int


def _piece_stats(piece: _Piece, keep: float) -> list[ColumnStats]:
    frame = pq.ParquetFile(piece.path).read_row_groups(piece.row_groups).to_pandas(split_blocks=True)
    rng = np.random.default_rng(piece.seed)
    picked = rng.random(len(frame)) < keep
    out = []
    for name in frame.columns:
        series = frame[name]
        kind = dtype_kind(series.dtype) or "categorical"
        if kind != "numeric":
            missing = int(series.isna().sum())
            out.append(ColumnStats(str(name), kind, len(series) - missing, missing))
            continue
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        finite_mask = np.isfinite(values)
        finite = values[finite_mask]
        missing = int(np.isnan(values).sum())
        stats = ColumnStats(str(name), kind, len(values) - missing, missing, len(finite))
        if len(finite):
            stats.mean = float(finite.mean())
            stats.m2 = float(((finite - stats.mean) ** 2).sum())
            stats.min, stats.max = float(finite.min()), float(finite.max())
        stats.sample = values[picked & finite_mask]
        out.append(stats)
    return out


def _pieces(files: list[Path], piece_rows: int) -> list[_Piece]:
    pieces: list[_Piece] = []
    for f in files:
        meta = pq.ParquetFile(f).metadata
        group: list[int] = []
        rows = 0
        for g in range(meta.num_row_groups):
            n = meta.row_group(g).num_rows
            if group and rows + n > piece_rows:
                pieces.append(_Piece(str(f), group, rows, len(pieces)))
                group, rows = [], 0
            group.append(g)
            rows += n
        if group:
            pieces.append(_Piece(str(f), group, rows, len(pieces)))
    return pieces


def overview_by_partition(files: list[Path], executor: Executor, *, piece_rows: int = PIECE_ROWS,
                          sample_rows: int = SAMPLE_ROWS, seed: int = 0, progress=None) -> PartOverview:
    """Column statistics of the Parquet ``files`` (a dataset version's parts), merged from one task per piece."""
    if not files:
        raise InvalidInputError("There are no Parquet files to describe.")
    pieces = [_Piece(p.path, p.row_groups, p.rows, seed * 1_000_003 + p.seed) for p in _pieces(files, piece_rows)]
    rows = sum(p.rows for p in pieces)
    keep = min(1.0, sample_rows / rows) if rows else 1.0
    done = (lambda k, n: progress(k / n, f"Described {k} of {n} partitions")) if progress else None
    results = executor.map(_piece_stats, pieces, shared=keep, on_done=done)
    merged = results[0] if results else []
    for more in results[1:]:
        for column, other in zip(merged, more, strict=True):
            column.merge(other)
    sampled = max((len(c.sample) for c in merged if c.sample is not None), default=0)
    bound = 0.0 if keep >= 1.0 else quantile_rank_bound(sampled)
    notes = [] if keep >= 1.0 else [
        f"Quartiles come from a uniform sample of about {sampled:,} of the {rows:,} rows: each is within "
        f"±{bound:.4f} of its rank with {CONFIDENCE:.1%} confidence. Everything else uses every row."]
    return PartOverview(rows, merged, len(pieces), sampled if keep < 1.0 else rows, bound, notes)


# -- the EDA page's overview for a version: merged by part where no process should hold it whole ----

BIG_ROWS = 5_000_000  # with a cluster set, a single-file version this big is described by row-group pieces


def uses_merged_overview(version: Any, executor: Executor) -> bool:
    """A version stored in parts, or a big one while a cluster is set, gets the merged overview."""
    from core.platform import parts

    return parts.is_partitioned(version.artifact_key) or (executor.distributed and version.n_rows >= BIG_ROWS)


def version_overview(ws: Any, version: Any, *, executor: Executor | None = None, progress=None):
    """The :class:`~core.eda.overview.Overview` of a dataset version, computed the cheapest honest way.

    Partitioned (or big, with a cluster): merged from one task per piece (:func:`overview_by_partition`),
    never holding the table in one process.  Otherwise the single-process :func:`describe_dataset`.
    """
    from core.data import datasets
    from core.eda.overview import describe_dataset
    from core.platform.compute import executor_for

    executor = executor or executor_for(ws.settings)
    if not uses_merged_overview(version, executor):
        return describe_dataset(datasets.load_frame(ws, version))
    files = datasets.parquet_files(ws, version)
    return as_overview(overview_by_partition(files, executor, progress=progress), files)


def as_overview(merged: PartOverview, files: list[Path]):
    """The merged statistics in the page's :class:`~core.eda.overview.Overview` shape, with what it leaves out."""
    from core.eda.overview import ColumnSummary, Overview

    rows = merged.rows
    summaries = []
    for c, row in zip(merged.columns, merged.table(), strict=True):
        numeric = c.kind == "numeric"
        summaries.append(ColumnSummary(
            name=c.name, kind=c.kind if c.count else "empty", dtype="", count=c.count, missing=c.missing,
            missing_pct=c.missing / rows if rows else 0.0,
            **({k: row[k] for k in ("mean", "std", "min", "p25", "p50", "p75", "max")} if numeric else {})))
    types: dict[str, int] = {}
    for s in summaries:
        types[s.kind] = types.get(s.kind, 0) + 1
    missing = sum(c.missing for c in merged.columns)
    cells = rows * len(merged.columns)
    memory = sum(pq.ParquetFile(f).metadata.row_group(g).total_byte_size  # uncompressed: close to memory
                 for f in files for g in range(pq.ParquetFile(f).metadata.num_row_groups))
    notes = [f"Described by {merged.pieces} partitions merged: counts, missing values, mean, std, min and max "
             "use every row; duplicates, distinct counts, top values, skew and kurtosis are not computed across "
             "partitions.", *merged.notes]
    return Overview(rows=rows, columns=len(merged.columns), memory_bytes=int(memory), memory_estimated=True,
                    types=types, missing_cells=missing, missing_cells_pct=missing / cells if cells else 0.0,
                    duplicate_rows=0, duplicate_rows_pct=0.0, column_summaries=summaries,
                    sampled_rows=merged.sampled_rows if merged.quantile_rank_error else None,
                    sampled_stats=("p25", "p50", "p75") if merged.quantile_rank_error else (), notes=notes)
