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

Time follows the real job's stages (:func:`core.ml.train.fit_candidate`; the arithmetic is
:mod:`core.ml.estimate_stages`), not "fits × one fit":
given ``cv_folds`` it adds each fold's fit on ``(k-1)/k`` of the training rows and its evaluation,
the final fit on the training rows (not all rows: the test share is held out), the evaluation on the
test rows, the prediction-speed timing, and, with ``explain``, the importances and SHAP summary,
timed on the sample with the job's own row caps (they do not grow with the data; a k-NN's predictions do grow
with its training rows, and so do the explanations' that call it).  Where the job trains on more rows than the
sample and the page's sample has more, boosters, forests and k-NN are timed at a second, larger size and grown
along the line through the two (:mod:`core.ml.estimate_sizes`): at 2,000 rows most of their cost is per call,
per tree or per round, not per row.  All of it is timed with the threads the job's fits will get, not the
sample's.  Folds run side by side as the job runs them (:func:`core.ml.cross_validation.fold_workers`), so the
growth of a fold beyond the sample's size is rounds of folds; the sample-sized part of each fold (the fit's
per-call work and a fold's dozen metric calls, measured, not derived from a prediction) does not overlap on
threads and counts once per fold, and the model's saving is timed too.  On titanic these had put logistic
regression's estimate at a third of the job (CV 0.07 s estimated, 0.21 s taken).  Left alone, the old "1 +
folds full fits" was 2-3× off both ways (issue 11: 37 s estimated for 97 s; 4.7 min for 141 s): it ignored the
SHAP and evaluation time, and scaled every fold to all rows.
:func:`corrected` then applies what this workspace's finished runs taught (actual ÷ estimated).
"""

from __future__ import annotations

import time
import tracemalloc
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.ml.catalogue import Algorithm, get_algorithm
from core.ml.config import PreprocessConfig
from core.ml.estimate_sizes import (
    bigger_fit,
    fit_at_two_sizes,
    sized_booster_fits,
    sized_knn_predicts,
)
from core.ml.estimate_stages import SampleFit, fold_sampling, job_stages
from core.ml.fitting import fit_pipeline
from core.ml.preprocessing import build_pipeline, resolve_preprocessing
from core.ml.problem import column_types
from core.platform.cores import thread_budget
from core.platform.errors import InvalidInputError

__all__ = ["Estimate", "SampleFit", "correction_factor", "corrected", "estimate_cost", "estimate_from",
           "measure_sample", "sample_fit_inputs", "stage_summary"]

SAMPLE_ROWS = 2000
REFIT_BELOW_S = 0.2  # a sample fit shorter than this is timed twice (see measure_sample)
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
    stages: Mapping[str, float] | None = None  # seconds per stage of the job, when estimated by stages

    def to_dict(self) -> dict[str, Any]:
        return {"seconds": float(self.seconds), "peak_bytes": int(self.peak_bytes),
                "fits_in_memory": bool(self.fits_in_memory), "reason": self.reason, "n_rows": int(self.n_rows),
                "sample_rows": int(self.sample_rows), "sample_seconds": float(self.sample_seconds),
                "stages": {k: float(v) for k, v in (self.stages or {}).items()}}


def fits_in_run(cv_folds: int, tuning: Mapping[str, Any] | None = None) -> int:
    """How many fits a training run makes: the final fit, one per cross-validation fold, and each
    tuning trial's folds (a trial bounded only by time counts as none: it stops when time is up)."""
    trials = int((tuning or {}).get("n_trials") or 0)
    return 1 + int(cv_folds or 0) + trials * int((tuning or {}).get("cv_folds") or 1)


def sample_fit_inputs(algorithm: str | Algorithm, kind: str, n_rows_full: int, test_size: float) -> tuple:
    """What of the run's settings a :class:`SampleFit` depends on (hashable): the estimator's defaults sized
    to the training rows, which the test share moves only across a size threshold."""
    entry = algorithm if isinstance(algorithm, Algorithm) else get_algorithm(algorithm)
    params = entry.default_params(kind, max(_train_rows(kind, n_rows_full, test_size), 1))
    return tuple(sorted((k, repr(v)) for k, v in params.items()))


def _train_rows(kind: str, n_rows_full: int, test_size: float) -> int:
    return int(n_rows_full * (1.0 - test_size)) if kind != "clustering" else int(n_rows_full)


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
    cv_folds: int | None = None,
    test_size: float = 0.2,
    explain: bool = False,
    tuning: Mapping[str, Any] | None = None,
) -> Estimate:
    """Estimate time and peak memory of training ``algorithm`` on ``n_rows_full`` rows.

    Parameters
    ----------
    algorithm : catalogue key or entry.
    X_sample, y_sample : a sample of the data (at most ``SAMPLE_ROWS`` rows are used); ``y_sample``
        is ``None`` for clustering.
    n_rows_full : rows the real training will use.
    kind : problem kind (detected from ``y_sample`` when omitted).
    n_fits : how many fits the run makes (1 + cross-validation folds, times tuning trials); used only
        without ``cv_folds``.
    available_bytes : memory to compare with (default: what psutil reports as available).
    cv_folds, test_size, explain, tuning : the run's settings; given ``cv_folds`` (0 for none), the time
        is the sum of the job's stages (see the module docstring) and ``stages`` holds each one.
    """
    fit = measure_sample(algorithm, X_sample, y_sample, n_rows_full, kind=kind, preprocessing=preprocessing,
                         seed=seed, n_jobs=n_jobs, available_bytes=available_bytes, test_size=test_size,
                         stages=cv_folds is not None, explain=explain)
    return estimate_from(fit, n_fits=n_fits, cv_folds=cv_folds, test_size=test_size, tuning=tuning)


def measure_sample(
    algorithm: str | Algorithm,
    X_sample: pd.DataFrame,
    y_sample: pd.Series | None,
    n_rows_full: int,
    *,
    kind: str | None = None,
    preprocessing: PreprocessConfig | None = None,
    seed: int = 0,
    n_jobs: int | None = None,
    available_bytes: int | None = None,
    test_size: float = 0.2,
    stages: bool = True,
    explain: bool = False,
) -> SampleFit:
    """The timed sample fit behind :func:`estimate_cost` (its parameters), without the run's folds and tuning.

    ``stages`` also times the evaluation and notes how many folds fit side by side; ``explain`` (with
    ``stages``, supervised kinds) also times the importances and the SHAP summary.
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
    train_rows = max(_train_rows(kind, n_rows_full, test_size), 1)
    # Timed with the threads the job's fits will get (the training rows' budget), not the sample's: a 2,000-row
    # sample gets one thread where a 40,000-row job gets the free cores, and on a quiet two-core machine the
    # one-thread timings put random forest, k-NN and LightGBM on 50,000 rows at 1.6-2x the job.
    n_jobs = n_jobs or thread_budget(train_rows, fresh=False)  # each algorithm's estimate: one reading serves all
    # The job's own estimator: defaults sized to the rows it will train on (smaller trees on small data),
    # and fitted as the job fits it (boosters stop early), so the sample fit grows the same model.
    estimator = entry.make(kind, seed=seed, n_jobs=n_jobs, n_rows=train_rows)
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
    from threadpoolctl import threadpool_limits

    try:
        # BLAS and OpenMP held to the fit's threads, as the job holds them (core.ml.train.fit_candidate): unheld,
        # logistic regression's solver spun two BLAS threads against a busy machine and its 0.02 s titanic fit
        # read 0.2-0.27 s, five folds of which put the estimate at 5x the job.
        with warnings.catch_warnings(), threadpool_limits(n_jobs):
            warnings.simplefilter("ignore")  # a sample fit's convergence chatter says nothing about the real run
            fit_pipeline(pipeline, X, y)
            fit_seconds = time.perf_counter() - started
            if fit_seconds < REFIT_BELOW_S and not trace:
                # One timing of a fit this short is at the mercy of the scheduler (a busy two-core laptop made a
                # 0.02 s fit read 0.16 s, and every fold of the estimate inherits it): the faster of two is the fit.
                started = time.perf_counter()
                fit_pipeline(pipeline, X, y)
                fit_seconds = min(fit_seconds, time.perf_counter() - started)
            predict_started = time.perf_counter()
            pipeline.predict(X)
            predict_seconds = time.perf_counter() - predict_started
        peak = max(tracemalloc.get_traced_memory()[1] - base_memory, 0) if trace else 0
    finally:
        if trace and not tracing:
            tracemalloc.stop()
    sized_fits = None
    # A second, larger size can be timed: the job trains on more rows than the sample, and the page's sample has them.
    two_sizes = stages and y is not None and train_rows > n and len(X_sample) >= 2 * n
    if two_sizes and entry.family == "boosting":
        try:
            sized_fits, predict_seconds = sized_booster_fits(pipeline, X_sample, y_sample, kind, n, train_rows, seed,
                                                              n_jobs)
        except Exception:  # e.g. one class among the rows drawn: the sample fit alone, scaled, answers
            fit_pipeline(pipeline, X, y)
    if two_sizes and fit_at_two_sizes(entry):
        try:
            sized_fits = ((n, float(fit_seconds)), bigger_fit(pipeline, X_sample, y_sample, kind, n, train_rows, seed,
                                                              n_jobs))
        except Exception:  # the sample fit alone, scaled, answers
            sized_fits = None
    sized_predicts = None
    if two_sizes and entry.family == "knn":
        try:
            big_fit, sized_predicts = sized_knn_predicts(pipeline, X, X_sample, y_sample, kind, n, train_rows, seed,
                                                          n_jobs)
            sized_fits = ((n, float(fit_seconds)), big_fit)  # its fit is mostly preprocessing: the line, as a booster's
        except Exception:  # the sample fit alone, scaled, answers
            sized_predicts = None
    if available_bytes is None:
        import psutil

        available_bytes = int(psutil.virtual_memory().available)
    measured = SampleFit(entry.key, kind, int(n_rows_full), n, float(fit_seconds), float(predict_seconds), trace,
                         int(peak), data_bytes, int(available_bytes), sized_fits=sized_fits,
                         sized_predicts=sized_predicts)
    if not stages:
        return measured
    from dataclasses import replace

    from core.ml.cross_validation import fold_workers
    from core.ml.evaluate import evaluate

    with warnings.catch_warnings(), threadpool_limits(n_jobs):
        warnings.simplefilter("ignore")
        started = time.perf_counter()
        evaluate(pipeline, X, y, kind, seed=seed)  # metrics, curves and calibration, as on the test rows
        evaluation_seconds = time.perf_counter() - started
        # A fold's own scores: on small data their fixed cost (a dozen metric calls) outweighs the predictions.
        started = time.perf_counter()
        fold_evaluation_seconds = 0.0
        if kind != "clustering":
            evaluate(pipeline, X, y, kind, curves=False)
            fold_evaluation_seconds = time.perf_counter() - started
        from core.ml.serialize import dump_model

        started = time.perf_counter()
        dump_model(pipeline)
        save_seconds = time.perf_counter() - started
        # The job fits folds side by side on the cores its fits leave free (issue 11: counting them one after
        # another put random forest and KNN at 2-3x the time taken): how many, for any number of folds.
        slots = fold_workers(_MANY_FOLDS, n_jobs, False) if kind != "clustering" else 1
        extra = {}
        if kind != "clustering":
            extra["fold_sampling"] = fold_sampling(train_rows)
        if explain and kind != "clustering":
            extra.update(_time_explanations(pipeline, X, y, kind, seed, n_rows_full - train_rows))
    from core.ml.evaluate import predicts_argmax

    passes = 1 if kind == "regression" or predicts_argmax(pipeline.steps[-1][1]) else 2
    return replace(measured, evaluation_seconds=evaluation_seconds, fold_slots=slots, score_passes=passes,
                   fold_evaluation_seconds=fold_evaluation_seconds, save_seconds=save_seconds, **extra)


_MANY_FOLDS = 1_000  # more folds than any run asks for: fold_workers then answers with the cores' limit alone


def estimate_from(fit: SampleFit, *, n_fits: int = 1, cv_folds: int | None = None, test_size: float = 0.2,
                  tuning: Mapping[str, Any] | None = None) -> Estimate:
    """The :class:`Estimate` for a run's settings from its :class:`SampleFit` (arithmetic only, no fit).

    ``cv_folds`` (0 for none) sums the job's stages, which needs a fit measured with ``stages``;
    otherwise the time is ``n_fits`` scaled fits and a prediction, as :func:`estimate_cost` documents.
    """
    entry = get_algorithm(fit.algorithm)
    n, n_rows_full = fit.sample_rows, fit.n_rows
    ratio = max(n_rows_full / n, 1.0)
    stages = None
    if cv_folds is None or fit.evaluation_seconds is None:
        # A 2k-row fit is dominated by fixed overhead; scaling all of it would overstate big-data time a
        # little, which is the safe side for a warning.
        seconds = (n_fits * (fit.fit_seconds * ratio ** entry.fit_exponent)
                   + fit.predict_seconds * ratio ** entry.predict_exponent)
    else:
        stages = job_stages(fit, entry, cv_folds=int(cv_folds), test_size=float(test_size), tuning=tuning)
        seconds = sum(stages.values())
    peak_bytes = int(fit.peak * ratio ** entry.memory_exponent + fit.data_bytes)
    available_bytes = fit.available_bytes
    fits = peak_bytes <= MEMORY_HEADROOM * available_bytes
    growth = {1.0: "linearly", 1.1: "slightly faster than linearly", 1.5: "faster than linearly",
              2.0: "quadratically"}.get(entry.fit_exponent, f"as rows^{entry.fit_exponent}")
    peaked = f"peaked at {_mb(fit.peak)}" if fit.traced else "was not traced (small data: its copies are the memory)"
    reason = (f"A fit on {n:,} rows took {fit.fit_seconds:.2f} s and {peaked}; {entry.label} time grows "
              f"{growth} with rows, so {n_rows_full:,} rows need about {_duration(seconds)} and {_mb(peak_bytes)}")
    if stages:
        reason += " (" + ", ".join(f"{_STAGE_WORDS[k]} {_duration(v)}" for k, v in stages.items() if v >= 0.05) + ")"
    reason += (f", within the {_mb(available_bytes)} available." if fits else
               f", more than {MEMORY_HEADROOM:.0%} of the {_mb(available_bytes)} available: sample the data or pick "
               "a lighter algorithm.")
    if entry.family == "boosting" and entry.key != "hist_gradient_boosting":
        reason += " (Memory allocated inside the native library is not counted.)"
    return Estimate(float(seconds), peak_bytes, bool(fits), reason, int(n_rows_full), n, float(fit.fit_seconds),
                    stages)


_STAGE_WORDS = {"tuning": "tuning", "cv": "cross-validation", "fit": "final fit", "evaluation": "evaluation",
                "save": "saving", "explain": "importances and SHAP"}


_STAGE_SHORT = {"tuning": "tuning", "cv": "CV", "fit": "fit", "evaluation": "eval", "save": "save", "explain": "SHAP"}


def stage_summary(stages: Mapping[str, float] | None, max_chars: int | None = None) -> str:
    """The stages in a few words (``CV 3.1 s · fit 0.6 s · SHAP 1.2 s``) for a table cell at 1280 px; the full
    reason says how each was found.

    Stages under 0.05 s are left out, so how many show depends on the machine's speed: with ``max_chars``
    the smallest of them go too, until the words fit (the biggest ones are what explains the total).
    """
    shown = {k: v for k, v in (stages or {}).items() if v >= 0.05}

    def words(keys: list[str]) -> str:
        return " · ".join(f"{_STAGE_SHORT.get(k, k)} {_duration(shown[k])}" for k in keys)

    keys = list(shown)
    while max_chars is not None and len(keys) > 1 and len(words(keys)) > max_chars:
        keys.remove(min(keys, key=shown.__getitem__))
    return words(keys) or "under 0.1 s"


def _time_explanations(pipeline: Any, X: pd.DataFrame, y: pd.Series | None, kind: str, seed: int,
                       test_rows: int) -> dict[str, Any]:
    """Importances and the SHAP summary, timed on the sample with the job's caps (see TrainConfig):
    :class:`SampleFit`'s ``importance`` and ``shap_seconds``.

    The importances permute the job's test rows, so no more rows than those are permuted: each of their many predict
    calls is part per call, part per row, and scaling the sample's 1,309 rows down to titanic's 262 by the rows put a
    k-NN's at a quarter of the job's (0.08 s against 0.3 s)."""
    from core.ml.config import TrainConfig
    from core.ml.explain import feature_importances, shap_summary

    caps = TrainConfig()
    importance, shap_seconds = (0.0, 1, 0), 0.0
    try:
        started = time.perf_counter()
        rows = min(len(X), caps.importance_rows, test_rows if test_rows > 0 else len(X))  # none held out: train rows
        _, method = feature_importances(pipeline, X.iloc[:rows], y.iloc[:rows], kind, max_rows=rows, seed=seed)
        importance = (time.perf_counter() - started, rows, caps.importance_rows if method == "permutation" else 0)
    except Exception:  # an explanation that fails in the job costs nothing either
        pass
    try:
        shap_seconds = float(shap_summary(pipeline, X, kind, max_rows=caps.shap_rows, seed=seed).seconds)
    except Exception:
        pass
    return {"importance": importance, "shap_seconds": shap_seconds}


def correction_factor(history: Sequence[tuple[float, float]], *, at_least: int = 1) -> float | None:
    """What to multiply a new estimate by: the median of ``actual / estimated`` over finished runs.

    ``history`` holds ``(estimated seconds, actual seconds)`` pairs of this workspace's runs of one
    algorithm (the raw estimates, before any correction).  Pairs under 0.2 s either way say more about
    timer noise than about the estimate and are left out; the factor is kept within 1/4 to 4, so one
    odd run (a loaded machine) cannot make the next estimate absurd.  ``None``: too little history.
    """
    ratios = [actual / estimated for estimated, actual in history
              if estimated and actual and estimated >= 0.2 and actual >= 0.2]
    if len(ratios) < at_least:
        return None
    return float(min(max(float(np.median(ratios)), 0.25), 4.0))


def corrected(estimate: Mapping[str, Any], factor: float | None, runs: int = 0) -> dict[str, Any]:
    """``estimate`` (an :meth:`Estimate.to_dict`) with ``seconds`` multiplied by ``factor``, and says so."""
    out = dict(estimate)
    out["raw_seconds"] = float(estimate["seconds"])
    if factor is None or abs(factor - 1.0) < 0.05:
        return out
    out["seconds"] = float(estimate["seconds"]) * factor
    out["reason"] = (f"{estimate['reason']} Multiplied by {factor:.2f}: what {runs} finished run(s) of it here "
                     "took against their estimates.")
    return out


def _mb(n: float) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
