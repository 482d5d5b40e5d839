"""The overview's column statistics computed part by part and merged: no process holds the whole table.

Each task reads one Parquet piece (whole row groups) and returns, per column, its count of rows,
missing values and, for numeric columns, finite count, min, max, and the mean and sum of squared
deviations of the finite values (merged by Chan et al.'s update, so the merged mean and std are
those of every row up to floating-point rounding).  Counts, missing, min and max are exact.

Skew and kurtosis come from the third and fourth central moments merged the same way (Pébay's
update): exact.  Distinct counts and top values merge each piece's value counts (exact) while a
column has at most :data:`EXACT_DISTINCT` distinct values; a more varied column's distinct count
is a HyperLogLog estimate (2¹⁶ registers of 64-bit hashes; linear counting up to 4 × 2¹⁶
distinct values, where the raw estimate is biased: standard error at most 0.69 %, so within
±:data:`DISTINCT_ERROR` = 2.1 % with about 99.7 % confidence), and its top values sum each piece's
:data:`TOP_KEEP` most frequent (their counts are lower bounds, and said so).  Duplicate rows are
exact (to 64-bit hash collisions, about n² / 2⁶⁵: one in 30,000 for 100M rows): every piece hashes
its rows and the distinct hashes are merged, one hash range per pass of at most
:data:`DUPLICATE_ROWS_PER_PASS` rows so the merging process never holds more than that many.

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
import pandas as pd
import pyarrow.parquet as pq

from core.data.types import dtype_kind
from core.eda._common import SAMPLE_ROWS, datetime_ns, hashable, label_text
from core.platform.compute import Executor
from core.platform.errors import InvalidInputError

__all__ = ["DISTINCT_ERROR", "PIECE_ROWS", "ColumnStats", "PartOverview", "overview_by_partition",
           "quantile_rank_bound"]

PIECE_ROWS = 1_000_000
CONFIDENCE = 0.999
EXACT_DISTINCT = 100_000  # value counts kept per column (per piece and merged) up to this many distinct values
PROBE_ROWS = 20_000  # numbers and times: more than 90 % distinct in this many rows means far more than EXACT_DISTINCT
TOP_KEEP = 1_000  # past that, each piece's most frequent values, summed for the top values
TOP = 5  # top values shown per column, as describe_dataset
HLL_BITS = 16
# Three standard errors of the worse of the two estimates: linear counting at its switch to the raw
# estimate, t = 4 registers' worth: sqrt(m (e^t - t - 1)) / (t m) = 0.69 % (raw HLL: 1.04 / sqrt(m) = 0.41 %).
DISTINCT_ERROR = 3 * math.sqrt((math.exp(4) - 5) / 2**HLL_BITS) / 4
DUPLICATE_ROWS_PER_PASS = 25_000_000  # row hashes the merging process holds at once (200 MB)


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
    m3: float = 0.0
    m4: float = 0.0
    min: float | None = None
    max: float | None = None
    sample: np.ndarray | None = None  # numeric only: the piece's sampled finite values
    counts: dict[Any, int] | None = field(default_factory=dict)  # exact value counts; None past EXACT_DISTINCT
    partial: dict[Any, int] | None = None  # past it: summed per-piece top counts (lower bounds)
    registers: np.ndarray | None = None  # past it: the HyperLogLog registers of the distinct values
    earliest: int | None = None  # datetime only: nanoseconds since 1970 (UTC for aware times)
    latest: int | None = None
    tz: str | None = None

    def merge(self, other: ColumnStats) -> None:
        self.count += other.count
        self.missing += other.missing
        if other.finite:
            self._merge_moments(other)
            self.min = other.min if self.min is None else min(self.min, other.min)
            self.max = other.max if self.max is None else max(self.max, other.max)
        if other.sample is not None:
            self.sample = other.sample if self.sample is None else np.concatenate([self.sample, other.sample])
        if other.earliest is not None:
            self.earliest = other.earliest if self.earliest is None else min(self.earliest, other.earliest)
            self.latest = other.latest if self.latest is None else max(self.latest, other.latest)  # type: ignore[type-var]
        self._merge_counts(other)

    def _merge_moments(self, other: ColumnStats) -> None:
        # Pébay (2008), "Formulas for robust, one-pass parallel computation of covariances and
        # arbitrary-order statistical moments", eq. 3.1: central sums of two sets from each set's own.
        a, b = self.finite, other.finite
        n = a + b
        d = other.mean - self.mean
        m2, m3 = self.m2, self.m3
        self.m4 += (other.m4 + d**4 * a * b * (a * a - a * b + b * b) / n**3
                    + 6 * d * d * (a * a * other.m2 + b * b * m2) / n**2 + 4 * d * (a * other.m3 - b * m3) / n)
        self.m3 += other.m3 + d**3 * a * b * (a - b) / n**2 + 3 * d * (a * other.m2 - b * m2) / n
        self.m2 += other.m2 + d * d * a * b / n
        self.mean += d * b / n
        self.finite = n

    def _merge_counts(self, other: ColumnStats) -> None:
        if self.counts is not None and other.counts is not None:
            for value, k in other.counts.items():  # dict order: first appearance, as describe_dataset's ties
                self.counts[value] = self.counts.get(value, 0) + k
            if len(self.counts) > EXACT_DISTINCT:
                self._overflow()
            return
        self._overflow()
        other._overflow()
        if self.partial is not None and other.partial is not None:
            for value, k in other.partial.items():
                self.partial[value] = self.partial.get(value, 0) + k
        else:  # a varied number column: its top values come from the sample
            self.partial = None
        self.registers = np.maximum(self.registers, other.registers)  # type: ignore[arg-type]

    def _overflow(self) -> None:
        """Trade exact counts for a HyperLogLog sketch and the most frequent values."""
        if self.counts is None:
            return
        dtype = {"numeric": np.float64, "datetime": np.int64}.get(self.kind, object)  # as the pieces hash them
        keys = np.fromiter(self.counts, dtype=dtype, count=len(self.counts))
        sketch = hll_registers(value_hashes(self.kind, keys))
        self.registers = sketch if self.registers is None else np.maximum(self.registers, sketch)
        self.partial = dict(sorted(self.counts.items(), key=lambda kv: -kv[1])[:TOP_KEEP])
        self.counts = None

    @property
    def std(self) -> float | None:
        return math.sqrt(self.m2 / (self.finite - 1)) if self.finite > 1 else None

    @property
    def unique(self) -> int | None:
        """Distinct present (for numbers: finite) values; a HyperLogLog estimate past EXACT_DISTINCT."""
        if self.counts is not None:
            return len(self.counts)
        return round(hll_estimate(self.registers))  # type: ignore[arg-type]

    def shape(self) -> tuple[float | None, float | None]:
        """Skew and excess kurtosis adjusted for sample size, as pandas (and describe_dataset) computes them."""
        n = self.finite
        m2, m3, m4 = self.m2 / n if n else 0.0, self.m3 / n if n else 0.0, self.m4 / n if n else 0.0
        if n < 3 or m2 <= 1e-14 * max(self.mean * self.mean, 1e-300):
            return None, None  # constant (up to rounding): undefined
        skew = m3 / m2**1.5 * math.sqrt(n * (n - 1)) / (n - 2)
        kurtosis = ((n + 1) * (m4 / m2**2 - 3) + 6) * (n - 1) / ((n - 2) * (n - 3)) if n > 3 else None
        return skew, kurtosis

    def top(self, k: int = TOP) -> list[tuple[str, int, float]]:
        """The ``k`` most frequent values as (text, count, share of present values); numbers only if repeated.

        A varied numeric column's come from the quartile sample, as :func:`describe_dataset`'s do.
        """
        total = self.finite if self.kind == "numeric" else self.count
        if self.counts is None and self.partial is None and self.sample is not None:
            codes, values = pd.factorize(self.sample)
            counts, total = np.bincount(codes, minlength=len(values)), len(self.sample)
        else:
            chosen = self.counts if self.counts is not None else self.partial or {}
            values = list(chosen)
            counts = np.fromiter(chosen.values(), dtype=np.int64, count=len(chosen))
        order = np.argsort(-counts, kind="stable")[:k]  # stable: ties keep first appearance, as describe_dataset
        return [(label_text(values[i]), int(counts[i]), float(counts[i] / total)) for i in order
                if total and counts[i] > 0 and (counts[i] > 1 or self.kind != "numeric")]

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
    duplicate_rows: int = 0

    def table(self) -> list[dict[str, Any]]:
        out = []
        for c in self.columns:
            q = c.quartiles()
            skew, kurtosis = c.shape() if c.kind == "numeric" else (None, None)
            out.append({"name": c.name, "kind": c.kind, "count": c.count, "missing": c.missing, "unique": c.unique,
                        "mean": c.mean if c.finite else None, "std": c.std, "min": c.min, "max": c.max,
                        "p25": q[0] if q else None, "p50": q[1] if q else None, "p75": q[2] if q else None,
                        "skew": skew, "kurtosis": kurtosis, "top": c.top(), "exact_counts": c.counts is not None})
        return out


def value_hashes(kind: str, values: np.ndarray) -> np.ndarray:
    """64-bit hashes of present values that depend on the value alone (the same in every piece).

    Numbers and times: their bits through the splitmix64 finalizer (a few vector operations;
    pandas' hash_array takes twice as long); anything else: pandas' ``hash_array``.
    """
    if kind in ("numeric", "datetime"):
        bits = (values + 0.0 if kind == "numeric" else values).view(np.uint64)  # + 0.0: -0.0 hashes as 0.0
        z = bits + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))
    return pd.util.hash_array(np.asarray(values, dtype=object))


def hll_registers(hashes: np.ndarray) -> np.ndarray:
    """HyperLogLog registers (Flajolet et al., 2007) of 64-bit value hashes.

    The first :data:`HLL_BITS` bits pick a register; it keeps the largest position of the first
    set bit among the other 48 (exact through float64's frexp, which holds 53 bits).
    """
    rest_bits = 64 - HLL_BITS
    index = (hashes >> np.uint64(rest_bits)).astype(np.int64)
    rest = (hashes & np.uint64((1 << rest_bits) - 1)).astype(np.float64)
    rank = (rest_bits + 1 - np.frexp(rest)[1]).astype(np.uint8)  # frexp(0) gives 0: rank rest_bits + 1
    registers = np.zeros(2**HLL_BITS, dtype=np.uint8)
    np.maximum.at(registers, index, rank)
    return registers


def hll_estimate(registers: np.ndarray) -> float:
    """The distinct count the registers stand for: linear counting up to 4 m distinct, the raw estimate above.

    The paper switches at 2.5 m; the raw estimate is still biased up by about 2 % there (measured on
    2¹⁶ registers), so linear counting, whose error only grows to 0.69 % by 4 m, is kept longer.
    """
    m = len(registers)
    empty = int((registers == 0).sum())
    if empty and m * math.log(m / empty) <= 4 * m:
        return m * math.log(m / empty)
    return 0.7213 / (1 + 1.079 / m) * m * m / float(np.ldexp(1.0, -registers.astype(np.int64)).sum())


@dataclass(frozen=True)
class _Piece:
    path: str
    row_groups: list[int]
    rows: int
    seed: int


@dataclass(frozen=True)
class _Pass:
    keep: float  # each row's chance to join the quartile sample
    passes: int  # duplicate counting: this pass keeps the row hashes h with h % passes == which
    which: int = 0


@dataclass
class _PieceResult:
    columns: list[ColumnStats]
    rows: int  # rows whose hash falls in this pass's range
    hashes: np.ndarray  # their distinct row hashes


_MISSING = np.uint64(0x5BD1E9955BD1E995)  # a missing value's hash in the row hashes
_ROW = np.uint64(0x100000001B3)  # odd: (h ^ column) * _ROW keeps every column's bits


def _row_hashes(frame: pd.DataFrame, plan: _Pass, columns: list[np.ndarray] | None = None) -> tuple[int, np.ndarray]:
    """The distinct row hashes of this pass's range, from each column's value hashes (missing: one constant)."""
    columns = columns if columns is not None else [_column_hashes(hashable(frame[c]))[1] for c in frame.columns]
    hashes = np.zeros(len(frame), dtype=np.uint64)
    for column in columns:
        hashes ^= column
        hashes *= _ROW
    if plan.passes > 1:
        hashes = hashes[hashes % np.uint64(plan.passes) == plan.which]
    return len(hashes), _sorted_unique(hashes)


def _column_hashes(series: pd.Series) -> tuple[str, np.ndarray]:
    kind = dtype_kind(series.dtype) or "categorical"
    if kind == "numeric":
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return kind, np.where(np.isnan(values), _MISSING, value_hashes(kind, values))
    if kind == "datetime":
        missing = series.isna().to_numpy()
        return kind, np.where(missing, _MISSING, value_hashes(kind, datetime_ns(series)))
    codes, uniques = pd.factorize(series)
    return kind, np.append(value_hashes(kind, np.asarray(uniques, dtype=object)), _MISSING)[codes]  # -1: missing


def _sorted_unique(hashes: np.ndarray) -> np.ndarray:
    """``np.unique`` for uint64, by one sort (np.unique itself is ten times slower on a million hashes)."""
    hashes = np.sort(hashes)
    return hashes[np.concatenate([[True], hashes[1:] != hashes[:-1]])] if len(hashes) else hashes


def _piece_hashes(piece: _Piece, plan: _Pass) -> tuple[int, np.ndarray]:
    """A later pass's task: only the piece's distinct row hashes in that pass's range."""
    return _row_hashes(_read(piece), plan)


def _read(piece: _Piece) -> pd.DataFrame:
    return pq.ParquetFile(piece.path).read_row_groups(piece.row_groups).to_pandas(split_blocks=True)


def _piece_stats(piece: _Piece, plan: _Pass) -> _PieceResult:
    frame = _read(piece)
    rng = np.random.default_rng(piece.seed)
    picked = rng.random(len(frame)) < plan.keep
    out, columns = [], []
    for name in frame.columns:  # each column hashed once: for its distinct count and for the row hashes
        series = hashable(frame[name])  # lists or dicts in cells are counted as their text, as describe_dataset
        kind = dtype_kind(series.dtype) or "categorical"
        if kind == "datetime":
            ns = datetime_ns(series)
            present_mask = ~series.isna().to_numpy()
            present = ns[present_mask]
            hashes = value_hashes(kind, present)
            stats = ColumnStats(str(name), kind, len(present), len(ns) - len(present),
                                tz=str(series.dt.tz or "") or None)
            if len(present):
                stats.earliest, stats.latest = int(present.min()), int(present.max())
            _count_values(stats, present, hashes)  # int64 keys: float64 would merge nearby nanoseconds
            columns.append(_with_missing(hashes, present_mask))
        elif kind == "numeric":
            values = series.to_numpy(dtype=np.float64, na_value=np.nan)
            finite_mask = np.isfinite(values)
            finite = values[finite_mask]
            missing_mask = np.isnan(values)
            stats = ColumnStats(str(name), kind, len(values) - int(missing_mask.sum()), int(missing_mask.sum()),
                                len(finite))
            if len(finite):
                stats.mean = float(finite.mean())
                deviations = finite - stats.mean
                squared = deviations * deviations
                stats.m2 = float(squared.sum())
                stats.m3 = float((squared * deviations).sum())
                stats.m4 = float((squared * squared).sum())
                stats.min, stats.max = float(finite.min()), float(finite.max())
            stats.sample = values[picked & finite_mask]
            hashes = value_hashes(kind, values)
            _count_values(stats, finite, hashes[finite_mask])
            columns.append(np.where(missing_mask, _MISSING, hashes))
        else:
            codes, uniques = pd.factorize(series)
            counts = np.bincount(codes + 1, minlength=len(uniques) + 1)
            stats = ColumnStats(str(name), kind, len(series) - int(counts[0]), int(counts[0]))
            unique_hashes = value_hashes(kind, np.asarray(uniques, dtype=object))
            _keep_counts(stats, uniques, counts[1:], unique_hashes)
            columns.append(np.append(unique_hashes, _MISSING)[codes])
        out.append(stats)
    rows, hashes = _row_hashes(frame, plan, columns)
    return _PieceResult(out, rows, hashes)


def _with_missing(present_hashes: np.ndarray, present_mask: np.ndarray) -> np.ndarray:
    out = np.full(len(present_mask), _MISSING, dtype=np.uint64)
    out[present_mask] = present_hashes
    return out


def _count_values(stats: ColumnStats, values: np.ndarray, hashes: np.ndarray) -> None:
    """Numbers and times: exact value counts, unless the column is nearly all distinct (then the sketch alone).

    Counting is a hash table of every value, most of a piece's time on a continuous column; one
    nearly all distinct in :data:`PROBE_ROWS` evenly spaced rows has far more than EXACT_DISTINCT.
    """
    if len(values) > PROBE_ROWS:
        if len(pd.unique(values[:: len(values) // PROBE_ROWS][:PROBE_ROWS])) > 0.9 * PROBE_ROWS:
            stats.counts, stats.partial, stats.registers = None, None, hll_registers(hashes)
            return
    codes, uniques = pd.factorize(values)
    counts = np.bincount(codes, minlength=len(uniques))
    _keep_counts(stats, uniques, counts, None)
    if stats.counts is None:
        stats.registers = hll_registers(hashes)


def _keep_counts(stats: ColumnStats, uniques: Any, counts: np.ndarray, unique_hashes: np.ndarray | None) -> None:
    """Exact counts in order of first appearance, or past EXACT_DISTINCT the sketch and the top ones."""
    if len(uniques) <= EXACT_DISTINCT:
        stats.counts = {k: v for k, v in zip(np.asarray(uniques).tolist(), counts.tolist(), strict=True) if v}
        return
    stats.counts = None
    if unique_hashes is not None:
        stats.registers = hll_registers(unique_hashes)
    top = np.argsort(-counts, kind="stable")[:TOP_KEEP]
    stats.partial = dict(zip(np.asarray(uniques)[top].tolist(), counts[top].tolist(), strict=True))


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
    passes = max(1, math.ceil(rows / DUPLICATE_ROWS_PER_PASS))
    done = (lambda k, n: progress(k / n / passes, f"Described {k} of {n} partitions")) if progress else None
    results = executor.map(_piece_stats, pieces, shared=_Pass(keep, passes), on_done=done)
    merged = results[0].columns if results else []
    for more in results[1:]:
        for column, other in zip(merged, more.columns, strict=True):
            column.merge(other)
    distinct_rows = _distinct([(r.rows, r.hashes) for r in results])
    for which in range(1, passes):  # the other hash ranges, one at a time: bounded memory here
        step = (lambda k, n, w=which: progress((w + k / n) / passes, f"Counted duplicates, pass {w + 1} "
                                               f"of {passes}: {k} of {n} partitions")) if progress else None
        distinct_rows += _distinct(executor.map(_piece_hashes, pieces, shared=_Pass(keep, passes, which),
                                                on_done=step))
    sampled = max((len(c.sample) for c in merged if c.sample is not None), default=0)
    bound = 0.0 if keep >= 1.0 else quantile_rank_bound(sampled)
    notes = [] if keep >= 1.0 else [
        f"Quartiles come from a uniform sample of about {sampled:,} of the {rows:,} rows: each is within "
        f"±{bound:.4f} of its rank with {CONFIDENCE:.1%} confidence. Everything else uses every row."]
    return PartOverview(rows, merged, len(pieces), sampled if keep < 1.0 else rows, bound, notes,
                        duplicate_rows=rows - distinct_rows)


def _distinct(parts: list[tuple[int, np.ndarray]]) -> int:
    """Distinct row hashes over the pieces' own distinct hashes (one hash range)."""
    return len(_sorted_unique(np.concatenate([h for _, h in parts]))) if parts else 0


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
    """The merged statistics in the page's :class:`~core.eda.overview.Overview` shape, with what is estimated."""
    from core.eda.overview import ColumnSummary, Overview, TopValue

    rows = merged.rows
    summaries = []
    for c, row in zip(merged.columns, merged.table(), strict=True):
        numeric = c.kind == "numeric"
        stats: dict[str, Any] = {k: row[k] for k in ("mean", "std", "min", "p25", "p50", "p75", "max", "skew",
                                                     "kurtosis")} if numeric else {}
        if c.kind == "datetime" and c.earliest is not None:
            stats["earliest"], stats["latest"] = (_iso(v, c.tz) for v in (c.earliest, c.latest))
        summaries.append(ColumnSummary(
            name=c.name, kind=c.kind if c.count else "empty", dtype="", count=c.count, missing=c.missing,
            missing_pct=c.missing / rows if rows else 0.0, unique=row["unique"] if c.count or numeric else 0,
            top=tuple(TopValue(*t) for t in row["top"]) if c.kind != "datetime" else (), **stats))
    types: dict[str, int] = {}
    for s in summaries:
        types[s.kind] = types.get(s.kind, 0) + 1
    missing = sum(c.missing for c in merged.columns)
    cells = rows * len(merged.columns)
    memory = sum(pq.ParquetFile(f).metadata.row_group(g).total_byte_size  # uncompressed: close to memory
                 for f in files for g in range(pq.ParquetFile(f).metadata.num_row_groups))
    notes = [f"Described by {merged.pieces} partitions merged: counts, missing values, duplicate rows, mean, std, "
             "min, max, skew and kurtosis use every row.", *merged.notes]
    estimated = [c.name for c in merged.columns if c.counts is None]
    if estimated:
        notes.append(f"{', '.join(map(repr, estimated))} have more than {EXACT_DISTINCT:,} distinct values: their "
                     f"distinct count is estimated (HyperLogLog, within ±{DISTINCT_ERROR:.1%} with 99.7% confidence).")
    bounded = [c.name for c in merged.columns if c.counts is None and c.partial is not None]
    sampled_top = [c.name for c in merged.columns if c.counts is None and c.partial is None and c.kind == "numeric"]
    if bounded:
        notes.append(f"Top values of {', '.join(map(repr, bounded))} sum each partition's {TOP_KEEP:,} most "
                     "frequent: their counts are lower bounds.")
    if sampled_top:
        notes.append(f"Top values of {', '.join(map(repr, sampled_top))} come from the quartile sample.")
    sampled = ("p25", "p50", "p75") if merged.quantile_rank_error else ()
    return Overview(rows=rows, columns=len(merged.columns), memory_bytes=int(memory), memory_estimated=True,
                    types=types, missing_cells=missing, missing_cells_pct=missing / cells if cells else 0.0,
                    duplicate_rows=merged.duplicate_rows,
                    duplicate_rows_pct=merged.duplicate_rows / rows if rows else 0.0, column_summaries=summaries,
                    sampled_rows=merged.sampled_rows if sampled else None, sampled_stats=sampled, notes=notes)


def _iso(ns: int, tz: str | None) -> str:
    moment = pd.Timestamp(int(ns), tz="UTC") if tz else pd.Timestamp(int(ns))
    return (moment.tz_convert(tz) if tz else moment).isoformat()
