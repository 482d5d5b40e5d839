"""Cross-validation of one algorithm on prepared data, its folds side by side on threads when cores are free."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from typing import Any

import numpy as np

from core.ml.evaluate import evaluate
from core.ml.fitting import fit_pipeline, make_pipeline
from core.ml.prepared import PreparedData
from core.platform.cores import free_cores
from core.platform.progress import Progress

__all__ = ["cross_validate", "fold_workers"]


def fold_workers(folds: int, threads_per_fit: int, explicit_threads: bool) -> int:
    """How many cross-validation folds to fit side by side: the free cores a fit's threads leave.

    A small fit gets one thread (:func:`core.platform.cores.thread_budget`), so on an idle two-core
    laptop one core would sit still through five folds; folds then run on threads of this process
    (the libraries release the GIL while they fit).  An explicit ``n_jobs`` keeps folds one at a time.
    """
    if folds < 2 or explicit_threads:
        return 1
    return max(1, min(folds, free_cores() // max(threads_per_fit, 1)))


def cross_validate(prepared: PreparedData, entry: Any, resolved: Any, params: dict[str, Any], cb: Progress,
                   common: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Mean, spread and per-fold values of every metric over ``prepared.folds`` (``common``: seed, threads, GPU)."""
    X_train, y_train = prepared.X_train, prepared.y_train
    total = len(prepared.folds)

    def one_fold(fold: tuple[np.ndarray, np.ndarray]) -> dict[str, float]:
        fit_rows, eval_rows = fold
        y_fit = y_train.iloc[fit_rows]
        pipeline, weigh, _ = make_pipeline(entry, prepared.kind, prepared.types, resolved, params, y=y_fit, **common)
        fit_pipeline(pipeline, X_train.iloc[fit_rows], y_fit, weigh=weigh, capture=False)
        return evaluate(pipeline, X_train.iloc[eval_rows], y_train.iloc[eval_rows], prepared.kind,
                        positive_label=prepared.config.positive_label, curves=False).metrics  # fold curves: unused

    workers = fold_workers(total, common["n_jobs"], prepared.config.n_jobs is not None)
    # A fold's warnings are dropped (the final fit reports its own); one filter for every thread.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if workers == 1:
            per_fold = []
            for i, fold in enumerate(prepared.folds):
                cb.step(i / total, f"Cross-validation fold {i + 1} of {total}")
                per_fold.append(one_fold(fold))
        else:
            per_fold = folds_side_by_side(one_fold, prepared.folds, workers, cb)
    names = [m for m in per_fold[0] if all(m in fold for fold in per_fold)]
    return {m: {"mean": float(np.mean([f[m] for f in per_fold])), "std": float(np.std([f[m] for f in per_fold])),
                "folds": [float(f[m]) for f in per_fold]} for m in names}


def folds_side_by_side(one_fold: Callable[[Any], dict[str, float]], folds: list, workers: int,
                        cb: Progress) -> list[dict[str, float]]:
    """``one_fold`` on every fold, ``workers`` at a time; results in fold order, cancel checked as each ends."""
    cb.step(0.0, f"Cross-validation: {len(folds)} folds, {workers} at a time")
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="cv-fold") as pool:
        pending = {pool.submit(one_fold, fold): i for i, fold in enumerate(folds)}
        results: dict[int, dict[str, float]] = {}
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    results[pending.pop(future)] = future.result()
                cb.step(len(results) / len(folds), f"Cross-validation: {len(results)} of {len(folds)} folds done")
        except BaseException:
            for future in pending:
                future.cancel()  # folds not started yet; those running finish on their own
            raise
    return [results[i] for i in range(len(folds))]
