"""Train a candidate model end to end: the one entry point the training job calls.

``train_candidate(df, config)`` detects the problem, picks features, drops rows without a
target, splits, optionally tunes, cross-validates, fits on the train rows, evaluates on the test
rows, explains, measures, serialises, and returns everything in a :class:`TrainResult`.
``train_many`` prepares the data once (:mod:`core.ml.prepared`) and trains several algorithms,
recording a failure in that algorithm's result and going on with the others.  Progress, log
lines and cancel checks go through three plain callables, so a job's context plugs straight in::

    train_candidate(df, config, progress=ctx.progress, log=ctx.log, check_cancelled=ctx.check_cancelled)

The input frame is never modified.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from core.data.target import CLASSIFICATION_KINDS, ProblemDetection
from core.ml.catalogue import get_algorithm
from core.ml.config import TrainConfig, _jsonable
from core.ml.cross_validation import cross_validate
from core.ml.evaluate import evaluate
from core.ml.explain import ShapSummary, feature_importances, shap_summary
from core.ml.fitting import fit_pipeline, make_pipeline, quietly
from core.ml.prepared import PreparedData, prepare_data
from core.ml.preprocessing import resolve_preprocessing
from core.ml.serialize import dump_model, library_versions, sha256_hex
from core.ml.splits import cv_folds
from core.ml.tuning import TuningResult, tune
from core.platform.cores import thread_budget
from core.platform.errors import AtelierError, InvalidInputError, JobCancelledError
from core.platform.progress import Progress

__all__ = ["TrainResult", "train_candidate", "train_many"]


@dataclass
class TrainResult:
    """Everything one training run produced; ``to_dict`` gives the JSON model card part.

    ``pipeline`` takes raw rows with the original column names; ``model_bytes`` is it saved with
    :func:`core.ml.serialize.dump_model` and ``model_sha256`` their checksum.  ``train_frame``
    holds the training rows' features (for :func:`core.models.training_stats.build_reference`), and
    ``reference`` what ``train_many``'s ``describe_rows`` made of them while the test rows were
    evaluated.  A failed algorithm in :func:`train_many` has ``status == "failed"`` and the message
    in ``error``.
    """

    algorithm: str
    label: str
    kind: str
    problem: ProblemDetection
    status: str = "ok"
    error: str | None = None
    pipeline: Any = None
    params: dict[str, Any] = field(default_factory=dict)
    preprocessing: dict[str, Any] = field(default_factory=dict)
    features: list[str] = field(default_factory=list)
    feature_types: dict[str, str] = field(default_factory=dict)
    target: str | None = None
    classes: list[Any] | None = None
    split: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    cv: dict[str, dict[str, Any]] = field(default_factory=dict)
    curves: dict[str, Any] = field(default_factory=dict)
    importances: dict[str, float] = field(default_factory=dict)
    importance_method: str = "none"
    shap: ShapSummary | None = None
    tuning: TuningResult | None = None
    timings: dict[str, float] = field(default_factory=dict)
    model_bytes: bytes | None = None
    model_sha256: str | None = None
    model_size_bytes: int = 0
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    library_versions: dict[str, str] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)
    train_frame: pd.DataFrame | None = field(default=None, repr=False)
    reference: dict[str, Any] | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: everything but the pipeline, its bytes and the training frame."""
        return {
            "algorithm": self.algorithm, "label": self.label, "kind": self.kind, "problem": self.problem.to_dict(),
            "status": self.status, "error": self.error, "params": {k: _jsonable(v) for k, v in self.params.items()},
            "preprocessing": self.preprocessing, "features": list(self.features), "feature_types": self.feature_types,
            "target": self.target, "classes": None if self.classes is None else [_jsonable(c) for c in self.classes],
            "split": self.split, "metrics": self.metrics, "cv": self.cv, "curves": self.curves,
            "importances": self.importances, "importance_method": self.importance_method,
            "shap": None if self.shap is None else self.shap.to_dict(),
            "tuning": None if self.tuning is None else self.tuning.to_dict(), "timings": self.timings,
            "model_sha256": self.model_sha256, "model_size_bytes": self.model_size_bytes, "notes": self.notes,
            "warnings": self.warnings, "library_versions": self.library_versions, "config": self.config,
        }


def train_candidate(
    df: pd.DataFrame,
    config: TrainConfig,
    *,
    progress: Callable[..., None] | None = None,
    log: Callable[[str], None] | None = None,
    check_cancelled: Callable[[], None] | None = None,
) -> TrainResult:
    """Train ``config.algorithm`` on ``df`` and return the fitted pipeline with its evaluation.

    Parameters
    ----------
    df : the dataset (never modified).
    config : target, features, algorithm, split, preprocessing, tuning, seed.
    progress, log, check_cancelled : ``progress(fraction, message)``, ``log(line)`` and a
        ``check_cancelled()`` that raises :class:`~core.platform.errors.JobCancelledError`.

    Raises
    ------
    InvalidInputError, ResourceError
        Bad input or a tuning budget too small; the message says what to change.
    JobCancelledError
        Raised by ``check_cancelled`` between steps.
    """
    cb = Progress.of(progress, log, check_cancelled)
    get_algorithm(config.algorithm)  # an unknown key fails before the data work
    cb.step(0.0, "Preparing the data")
    prepared = prepare_data(df, config, cb)
    return fit_candidate(prepared, config.algorithm, cb.scaled(0.05, 1.0))


def train_many(
    df: pd.DataFrame,
    config: TrainConfig,
    algorithms: Sequence[str],
    *,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    progress: Callable[..., None] | None = None,
    log: Callable[[str], None] | None = None,
    check_cancelled: Callable[[], None] | None = None,
    on_result: Callable[[TrainResult], None] | None = None,
    executor: Any = None,
    describe_rows: Callable[[pd.DataFrame], dict[str, Any]] | None = None,
) -> list[TrainResult]:
    """Train several algorithms on the same prepared data; one failing does not stop the others.

    ``params`` gives per-algorithm parameters (``{"knn": {"n_neighbors": 15}}``) replacing
    ``config.params`` for that algorithm.  ``on_result(result)`` is called as each algorithm
    finishes (to save it at once, so a cancel keeps it).  Cancelling stops everything.
    ``describe_rows(X_train)`` (the model's reference statistics) runs on a thread while each model's
    test rows are evaluated; its answer is the result's ``reference``.
    """
    cb = Progress.of(progress, log, check_cancelled)
    if not algorithms:
        raise InvalidInputError("Choose at least one algorithm to train.")
    entries = [get_algorithm(key) for key in algorithms]
    cb.step(0.0, "Preparing the data")
    prepared = prepare_data(df, config, cb)
    for entry in entries:
        entry.estimator_class(prepared.kind)  # an algorithm that cannot do this kind is a choice to fix first
    results = []
    span = 0.95 / len(entries)
    for i, entry in enumerate(entries):
        sub = cb.scaled(0.05 + i * span, 0.05 + (i + 1) * span)
        chosen = prepared if params is None or entry.key not in params else replace(
            prepared, config=replace(prepared.config, params=dict(params[entry.key])))
        cb.log(f"— {entry.label} —")
        try:
            results.append(fit_candidate(chosen, entry.key, sub, executor=executor, describe_rows=describe_rows))
        except JobCancelledError:
            raise
        except Exception as exc:  # recorded on that algorithm's result; the others go on
            results.append(failed_result(entry, prepared, exc, chosen.config, cb))
        if on_result is not None:
            on_result(results[-1])
    cb.progress(1.0, "Done")
    return results


def failed_result(entry: Any, prepared: PreparedData, exc: Exception, config: TrainConfig,
                  cb: Progress) -> TrainResult:
    """One algorithm's failure as its result (logged), so the other algorithms go on."""
    message = str(exc) if isinstance(exc, AtelierError) else f"{type(exc).__name__}: {exc}"
    if not message.startswith(entry.label):
        message = f"{entry.label} failed: {message}"
    cb.log(message)
    return TrainResult(entry.key, entry.label, prepared.kind, prepared.problem, status="failed", error=message,
                       features=list(prepared.features), target=prepared.target,
                       warnings=list(prepared.warnings), config=config.to_dict())


def fit_candidate(prepared: PreparedData, algorithm: str, callbacks: Progress | None = None, *,
                  executor: Any = None,
                  describe_rows: Callable[[pd.DataFrame], dict[str, Any]] | None = None) -> TrainResult:
    """Tune (optionally), cross-validate, fit, evaluate, explain and save one algorithm on prepared data.

    ``executor`` (a cluster one, from :mod:`core.platform.compute`) runs the tuning trials on its workers.
    ``describe_rows`` summarises the training rows beside the evaluation, as in :func:`train_many`.
    """
    cb = callbacks or Progress()
    config, kind, seed = prepared.config, prepared.kind, int(prepared.config.seed)
    entry = get_algorithm(algorithm)
    entry.estimator_class(kind)
    resolved, notes = resolve_preprocessing(config.preprocessing, entry.family, kind, entry.handles_missing)
    notes = [*prepared.notes, *notes]
    for line in notes:
        cb.log(line)
    X_train, y_train = prepared.X_train, prepared.y_train
    params = dict(config.params)
    entry.make(kind, params)  # unknown parameters fail here, before any work
    started = time.perf_counter()
    timings: dict[str, float] = {}
    n_jobs = config.n_jobs or thread_budget(len(X_train))  # one place decides: see core.platform.cores
    common = {"seed": seed, "n_jobs": n_jobs, "use_gpu": config.use_gpu}
    tuning = None
    if config.tuning is not None:
        cb.step(0.0, f"Tuning {entry.label}")
        folds = [] if kind == "clustering" else cv_folds(prepared.split, prepared.y, config.tuning.cv_folds, seed)
        tuning = tune(entry, X_train, y_train, kind, folds, prepared.types, resolved, config.tuning,
                      base_params=params, positive_label=config.positive_label, callbacks=cb.scaled(0.0, 0.5),
                      executor=executor, **common)
        params = tuning.best_params
        timings["tuning_seconds"] = tuning.seconds
        cb.log(f"Best {tuning.metric} {tuning.best_score:.4f} with {params}")
    from threadpoolctl import threadpool_limits

    # BLAS and OpenMP too (logistic regression's solver, HistGradientBoosting: no n_jobs of their own), so
    # folds side by side on threads use their n_jobs each and no more: see core.platform.cores.
    with library_errors(entry, config.use_gpu), threadpool_limits(n_jobs):
        cv = {}
        if prepared.folds:
            cv_started = time.perf_counter()
            cv = cross_validate(prepared, entry, resolved, params, cb.scaled(0.5, 0.7), common)
            timings["cv_seconds"] = time.perf_counter() - cv_started
        fitting = f"Fitting {entry.label} on {len(X_train):,} rows with {n_jobs} thread{'s' if n_jobs > 1 else ''}"
        cb.step(0.7, fitting)
        cb.log(fitting)  # the thread count is what explains a slow fit on a busy machine
        pipeline, weigh, build_notes = make_pipeline(entry, kind, prepared.types, resolved, params, y=y_train, **common)
        notes += build_notes
        fit_started = time.perf_counter()
        notes += fit_pipeline(pipeline, X_train, y_train, weigh=weigh, log=cb.log)
        timings["train_seconds"] = time.perf_counter() - fit_started
        cb.step(0.85, "Evaluating on the test rows")
        # The reference statistics need only the training rows: on a thread, they fill the core that the
        # evaluation's single-threaded parts (preprocessing the test rows, the metrics' sorts) leave idle.
        # (The leakage screen stays before the fit: on a thread beside it, racing LightGBM's OpenMP team on
        # two cores, it saved nothing measurable in the warm worker's jobs.)
        describing = _beside(describe_rows, X_train)
        X_eval, y_eval = (X_train, y_train) if kind == "clustering" else (prepared.X_test, prepared.y_test)
        evaluation, lines = quietly(lambda: evaluate(pipeline, X_eval, y_eval, kind,
                                                     positive_label=config.positive_label, seed=seed), cb.log)
        notes += evaluation.notes + lines
        if kind == "clustering" and evaluation.metrics.get("n_clusters", 0) < 2:
            advice = " and marked rows as noise: raise eps or lower min_samples." if entry.key == "dbscan" else "."
            notes.append(f"{entry.label} found fewer than two clusters{advice}")
        reference = _answer(describing)  # before the predict-speed probe, which must have the cores to itself
        timings["predict_seconds_per_1000"] = predict_seconds_per_1000(pipeline, X_eval if len(X_eval) else X_train)
    cb.step(0.9, "Saving and explaining")
    model_bytes = dump_model(pipeline)
    importances, method, shap = {}, "none", None
    if config.explain:
        # Held to the fit's threads as well: unheld, k-NN's brute-force distances (OpenMP, BLAS) spun two threads
        # against a busy two-core machine and titanic's permutation importance took 5-6 s instead of 1.3 s.
        with threadpool_limits(n_jobs):
            importances, method, shap, explain_notes = explain_fitted(pipeline, prepared, config, cb)
        notes += explain_notes
        timings["explain_seconds"] = shap.seconds if shap is not None else 0.0
    timings["total_seconds"] = time.perf_counter() - started
    cb.progress(1.0, f"{entry.label} done")
    classes = [c for c in np.asarray(pipeline.classes_).tolist()] if kind in CLASSIFICATION_KINDS else None
    return TrainResult(
        entry.key, entry.label, kind, prepared.problem, pipeline=pipeline, params=params,
        preprocessing=resolved.to_dict(), features=list(prepared.features), feature_types=dict(prepared.types),
        target=prepared.target, classes=classes, split=prepared.split.describe(config.split),
        metrics=evaluation.metrics, cv=cv, curves=evaluation.curves, importances=importances,
        importance_method=method, shap=shap, tuning=tuning, timings={k: float(v) for k, v in timings.items()},
        model_bytes=model_bytes, model_sha256=sha256_hex(model_bytes), model_size_bytes=len(model_bytes),
        notes=list(dict.fromkeys(notes)), warnings=list(prepared.warnings), library_versions=library_versions(),
        config={**config.to_dict(), "algorithm": entry.key}, train_frame=X_train, reference=reference,
    )


def _beside(function: Callable[[pd.DataFrame], Any] | None, frame: pd.DataFrame) -> Future | None:
    """``function(frame)`` started on a thread of its own (``None`` without a function)."""
    if function is None:
        return None
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="beside-evaluation")
    try:
        return pool.submit(function, frame)
    finally:
        pool.shutdown(wait=False)  # the thread ends with its one task


def _answer(task: Future | None) -> Any:
    """A task's answer; ``None`` without one, or when it failed (the caller's own path then redoes it and
    reports the failure where it always did)."""
    try:
        return None if task is None else task.result()
    except Exception:
        return None


@contextmanager
def library_errors(entry: Any, use_gpu: bool) -> Iterator[None]:
    """Turn a library's own exception during fitting or predicting into a message for the user."""
    try:
        yield
    except AtelierError:
        raise
    except Exception as exc:
        hint = ("The GPU could not be used: turn GPU training off in the settings." if use_gpu and entry.gpu
                else "Check the algorithm's parameters and the data, or try another algorithm.")
        raise InvalidInputError(f"{entry.label} failed: {type(exc).__name__}: {exc}", hint=hint) from exc


def predict_seconds_per_1000(pipeline: Any, X: pd.DataFrame) -> float:
    """Seconds the pipeline takes to predict 1,000 rows (the better of two timings of ``X``'s first 1,000)."""
    rows = X.iloc[:1000]
    best = float("inf")
    for _ in range(2):
        started = time.perf_counter()
        quietly(lambda: pipeline.predict(rows))
        best = min(best, time.perf_counter() - started)
    return best / max(len(rows), 1) * 1000


def explain_fitted(pipeline: Any, prepared: PreparedData, config: TrainConfig, cb: Progress) -> tuple[
        dict[str, float], str, ShapSummary | None, list[str]]:
    """``(importances, method, SHAP summary, notes)`` of a fitted pipeline; a failure is a note, never an error."""
    notes: list[str] = []
    importances: dict[str, float] = {}
    method, shap = "none", None
    X_eval = prepared.X_test if len(prepared.split.test) else prepared.X_train
    y_eval = prepared.y_test if len(prepared.split.test) else prepared.y_train
    try:
        (importances, method), lines = quietly(lambda: feature_importances(
            pipeline, X_eval, y_eval, prepared.kind, max_rows=config.importance_rows, seed=config.seed))
    except Exception as exc:  # an explanation failing must not cost the user the model
        notes.append(f"Feature importances could not be computed: {type(exc).__name__}: {exc}")
    cb.step(0.95, "Computing SHAP values")
    try:
        shap, lines = quietly(lambda: shap_summary(pipeline, prepared.X_train, prepared.kind,
                                                   max_rows=config.shap_rows, seed=config.seed))
    except Exception as exc:
        notes.append(f"The SHAP summary could not be computed: {type(exc).__name__}: {exc}")
    for line in notes:
        cb.log(line)
    return importances, method, shap, notes
