"""Before a trial starts: will it fit in memory, and will it finish inside the time left?

Memory: the data is held ``DATA_COPIES`` times (:mod:`core.ml.estimate`), plus what the model
itself grows to: a forest keeps about two nodes per ``min_samples_leaf`` bootstrap rows per tree,
k-NN a copy of the encoded rows.  A configuration whose need passes ``MEMORY_HEADROOM`` of what is
free is skipped with the reason, never started.

Time: seconds per unit of work learned from the trials already run of the same algorithm (work
is rows × rounds or trees), or, before any, the measured prior of the portfolio default
(:func:`.recommend.prior_seconds`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from core.ml.estimate import DATA_COPIES, MEMORY_HEADROOM

__all__ = ["available_memory", "memory_problem", "predicted_seconds", "work_units"]

_NODE_BYTES = 72  # sklearn's Tree: one node record plus its value slot


def available_memory() -> int:
    import psutil

    return int(psutil.virtual_memory().available)


def memory_needed(algorithm: str, params: Mapping[str, Any], rows: int, data_bytes: float, n_classes: int) -> float:
    need = data_bytes * DATA_COPIES
    if algorithm in ("random_forest", "extra_trees"):
        trees = int(params.get("n_estimators", 100))
        leaf = max(int(params.get("min_samples_leaf", 1)), 1)
        need += trees * 2 * rows * 0.63 / leaf * (_NODE_BYTES + 8 * max(n_classes, 1))
    elif algorithm == "knn":
        need += data_bytes * 2
    return need


def memory_problem(algorithm: str, params: Mapping[str, Any], rows: int, data_bytes: float, n_classes: int,
                   available: int | None = None) -> str | None:
    """``None`` when the configuration fits, else the sentence saying why it was skipped."""
    available = available_memory() if available is None else available
    need = memory_needed(algorithm, params, rows, data_bytes, n_classes)
    if need <= MEMORY_HEADROOM * available:
        return None
    return (f"skipped: needs about {_mb(need)} on {rows:,} rows, more than {MEMORY_HEADROOM:.0%} of the "
            f"{_mb(available)} free")


def work_units(algorithm: str, params: Mapping[str, Any], rows: int) -> float:
    rounds = params.get("n_estimators") or params.get("max_iter") or 1
    if algorithm == "lightgbm" and int(rounds) >= 1000:
        rounds = 2.0 / float(params.get("learning_rate", 0.1))  # early stopping ends long before the cap
    return float(rows) * float(rounds) / 1000.0


def predicted_seconds(algorithm: str, params: Mapping[str, Any], rows: int, history: list[tuple[float, float]],
                      prior: float | None) -> float:
    """Seconds a trial should take: learned ``history`` of ``(work, seconds)`` first, then the prior."""
    work = work_units(algorithm, params, rows)
    if history:
        rate = float(np.max([s / max(w, 1e-9) for w, s in history]))  # the slowest seen: a fit cannot be stopped
        return rate * work
    return 0.0 if prior is None else float(prior)


def _mb(n: float) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"
