"""How long training an algorithm on the full data will take, and whether it fits in memory.

A quick fit on a sample (2,000 rows by default) is timed and its peak Python-visible memory is
measured with tracemalloc; both are scaled to the full row count by the catalogue entry's
growth exponents (about linear for trees and linear models, quadratic for kernel SVMs and for
agglomerative clustering's memory).  The memory figure adds the data itself and is compared with
``psutil.virtual_memory().available``.  It is an estimate: native libraries (XGBoost, LightGBM)
allocate outside tracemalloc's view, so their peaks are underestimated; the reason says so.

Tracing allocations slows a Python-heavy fit several times over (a random forest on titanic: 1.4 s
traced against 0.3 s), and an estimate must never cost more than the training it estimates.  So
memory is traced only when it can matter: when the data's copies would exceed
:data:`TRACE_ABOVE_BYTES` or the algorithm's memory grows faster than its rows.  Otherwise the
sample fit runs untraced and the peak is the data's copies alone.
"""

from __future__ import annotations

import time
import tracemalloc
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.ml.catalogue import Algorithm, get_algorithm
from core.ml.config import PreprocessConfig
from core.ml.preprocessing import build_pipeline, resolve_preprocessing
from core.ml.problem import column_types
from core.platform.cores import thread_budget
from core.platform.errors import InvalidInputError

__all__ = ["Estimate", "estimate_cost"]

SAMPLE_ROWS = 2000
MEMORY_HEADROOM = 0.8  # plan on using at most this share of what is free
DATA_COPIES = 3.0  # raw frame, encoded frame, the library's own copy
TRACE_ABOVE_BYTES = 256 * 2**20


@dataclass(frozen=True)
class Estimate:
    """Predicted seconds and peak bytes for training on ``n_rows`` rows, and whether that fits."""

    seconds: float
    peak_bytes: int
    fits_in_memory: bool
    reason: str
    n_rows: int = 0
    sample_rows: int = 0
    sample_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"seconds": float(self.seconds), "peak_bytes": int(self.peak_bytes),
                "fits_in_memory": bool(self.fits_in_memory), "reason": self.reason, "n_rows": int(self.n_rows),
                "sample_rows": int(self.sample_rows), "sample_seconds": float(self.sample_seconds)}


def fits_in_run(cv_folds: int, tuning: Mapping[str, Any] | None = None) -> int:
    """How many fits a training run makes: the final fit, one per cross-validation fold, and each
    tuning trial's folds (a trial bounded only by time counts as none: it stops when time is up)."""
    trials = int((tuning or {}).get("n_trials") or 0)
    return 1 + int(cv_folds or 0) + trials * int((tuning or {}).get("cv_folds") or 1)


def estimate_cost(
    algorithm: str | Algorithm,
    X_sample: pd.DataFrame,
    y_sample: pd.Series | None,
    n_rows_full: int,
    *,
    kind: str | None = None,
    preprocessing: PreprocessConfig | None = None,
    n_fits: int = 1,
    seed: int = 0,
    n_jobs: int | None = None,
    available_bytes: int | None = None,
) -> Estimate:
    """Estimate time and peak memory of training ``algorithm`` on ``n_rows_full`` rows.

    Parameters
    ----------
    algorithm : catalogue key or entry.
    X_sample, y_sample : a sample of the data (at most ``SAMPLE_ROWS`` rows are used); ``y_sample``
        is ``None`` for clustering.
    n_rows_full : rows the real training will use.
    kind : problem kind (detected from ``y_sample`` when omitted).
    n_fits : how many fits the run makes (1 + cross-validation folds, times tuning trials).
    available_bytes : memory to compare with (default: what psutil reports as available).
    """
    from core.data.target import detect_problem
    from core.ml.problem import clean_target

    entry = algorithm if isinstance(algorithm, Algorithm) else get_algorithm(algorithm)
    if n_rows_full < 1 or len(X_sample) < 2:
        raise InvalidInputError(
            f"An estimate needs at least 2 sample rows and a positive full row count; got {len(X_sample)} and "
            f"{n_rows_full}."
        )
    kind = kind or detect_problem(y_sample).kind
    rows = np.arange(len(X_sample))
    if len(rows) > SAMPLE_ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(len(rows), SAMPLE_ROWS, replace=False))
    X = X_sample.iloc[rows]
    y = None
    if y_sample is not None and kind != "clustering":
        labelled = y_sample.iloc[rows]
        keep = labelled.notna().to_numpy()
        X = X[keep]
        y, _ = clean_target(labelled[keep], kind)
    resolved, _ = resolve_preprocessing(preprocessing or PreprocessConfig(), entry.family, kind, entry.handles_missing)
    n_jobs = n_jobs or thread_budget(len(X))
    estimator = entry.make(kind, seed=seed, n_jobs=n_jobs)
    pipeline, _ = build_pipeline(column_types(X, (preprocessing or PreprocessConfig()).column_types), resolved,
                                 estimator, kind, y=y, seed=seed, n_jobs=n_jobs)
    n = len(X)
    ratio = max(n_rows_full / n, 1.0)
    data_bytes = float(X.memory_usage(deep=True).sum()) * ratio * DATA_COPIES
    trace = data_bytes > TRACE_ABOVE_BYTES or entry.memory_exponent > 1.0
    tracing = tracemalloc.is_tracing()
    if trace and not tracing:
        tracemalloc.start()
    if trace:
        tracemalloc.reset_peak()
    base_memory = tracemalloc.get_traced_memory()[0] if trace else 0
    started = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a sample fit's convergence chatter says nothing about the real run
            pipeline.fit(X, y)
            fit_seconds = time.perf_counter() - started
            predict_started = time.perf_counter()
            pipeline.predict(X)
            predict_seconds = time.perf_counter() - predict_started
        peak = max(tracemalloc.get_traced_memory()[1] - base_memory, 0) if trace else 0
    finally:
        if trace and not tracing:
            tracemalloc.stop()
    # A 2k-row fit is dominated by fixed overhead; scaling all of it would overstate big-data time a little,
    # which is the safe side for a warning.
    seconds = n_fits * (fit_seconds * ratio ** entry.fit_exponent) + predict_seconds * ratio ** entry.predict_exponent
    peak_bytes = int(peak * ratio ** entry.memory_exponent + data_bytes)
    if available_bytes is None:
        import psutil

        available_bytes = int(psutil.virtual_memory().available)
    fits = peak_bytes <= MEMORY_HEADROOM * available_bytes
    growth = {1.0: "linearly", 1.1: "slightly faster than linearly", 1.5: "faster than linearly",
              2.0: "quadratically"}.get(entry.fit_exponent, f"as rows^{entry.fit_exponent}")
    peaked = f"peaked at {_mb(peak)}" if trace else "was not traced (small data: its copies are the memory)"
    reason = (f"A fit on {n:,} rows took {fit_seconds:.2f} s and {peaked}; {entry.label} time grows "
              f"{growth} with rows, so {n_rows_full:,} rows need about {_duration(seconds)} and {_mb(peak_bytes)}")
    reason += (f", within the {_mb(available_bytes)} available." if fits else
               f", more than {MEMORY_HEADROOM:.0%} of the {_mb(available_bytes)} available: sample the data or pick "
               "a lighter algorithm.")
    if entry.family == "boosting" and entry.key != "hist_gradient_boosting":
        reason += " (Memory allocated inside the native library is not counted.)"
    return Estimate(float(seconds), peak_bytes, bool(fits), reason, int(n_rows_full), n, float(fit_seconds))


def _mb(n: float) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
