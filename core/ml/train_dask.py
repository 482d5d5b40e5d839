"""Training on a dataset version's Parquet parts through a cluster executor (LightGBM and XGBoost on Dask).

:func:`train_many_partitioned` is :func:`core.ml.train.train_many` for data no process holds whole:

1. **Survey** (one task per part): a uniform row sample of about :data:`SAMPLE_ROWS` rows and the
   exact target classes.  The sample decides everything before the first fit (problem kind,
   features, column types) exactly as :func:`core.ml.prepared.prepare_data` does, and the
   preprocessing steps are fitted on it (medians, category codes: statistics a sample of that size
   pins down).
2. **LightGBM and XGBoost** train on every training row through their own Dask interfaces
   (``lightgbm.DaskLGBMClassifier``/``Regressor``, ``xgboost.dask``): each part is read, split
   into train and test rows by a seeded per-part draw, transformed by the fitted preprocessing and
   kept in worker memory; the library trains on the workers holding them.  LightGBM's
   worker-to-worker links get ``machines=`` with a free port per worker (several workers on one
   host cannot share one listen port); threads per fit are the workers' threads (one per worker in
   the default ``LocalCluster`` set-up), so fits do not oversubscribe.
3. The fitted booster is copied back as the plain local estimator (``to_local()``, XGBoost's saved
   model) and put in the usual pipeline, so the registry, Predict page and API serve it unchanged.
   Test metrics come from up to :data:`EVAL_ROWS` test rows gathered from every part, returned by
   the same task that prepares the part's training rows (after the survey, each part is read once).
   Rounds: LightGBM's Dask interface cannot stop early (LightGBM issues #3712, #6351), so the
   round count comes from an early-stopped fit on the survey sample, the single-process fit's
   way (:func:`core.ml.fitting.fit_pipeline`); XGBoost's Dask interface stops early itself, on a
   seeded 10% of the training rows held out on the workers.  The card's params and notes say how
   many rounds were used.
4. **Other algorithms** have no Dask interface: they train on the sample, with a note saying so.

Tuning (when asked) runs on the sample, its trials in parallel on the workers
(:func:`core.ml.tuning.tune` with the executor).  The executor comes from
:mod:`core.platform.compute`; this module never imports Dask itself.
"""

from __future__ import annotations

import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from core.data.target import CLASSIFICATION_KINDS
from core.ml.catalogue import get_algorithm
from core.ml.config import TrainConfig
from core.ml.evaluate import evaluate
from core.ml.fitting import STOPPING_ROUNDS, VALIDATION_SHARE, fit_pipeline, make_pipeline, quietly
from core.ml.prepared import PreparedData, prepare_data
from core.ml.preprocessing import resolve_preprocessing
from core.ml.problem import tidy_labels
from core.ml.serialize import dump_model, library_versions, sha256_hex
from core.ml.splits import Split
from core.ml.train import (
    TrainResult,
    explain_fitted,
    failed_result,
    fit_candidate,
    library_errors,
    predict_seconds_per_1000,
)
from core.ml.tuning import tune
from core.platform.compute import Executor, TaskFailed
from core.platform.errors import AtelierError, InvalidInputError, JobCancelledError
from core.platform.progress import Progress

__all__ = ["AUTO_ROWS", "DISTRIBUTED_ALGORITHMS", "EVAL_ROWS", "PIECE_ROWS", "SAMPLE_ROWS", "cluster_notice",
           "offers_cluster", "train_many_partitioned", "uses_cluster"]

DISTRIBUTED_ALGORITHMS = frozenset({"lightgbm", "xgboost"})
SAMPLE_ROWS = 200_000  # the survey sample: preprocessing statistics, and the other algorithms' data
EVAL_ROWS = 200_000  # test rows gathered to the client for metrics (AUC's error at 200k rows: ~0.001)
AUTO_ROWS = 1_000_000  # a single-file version this big trains on the cluster when one is set
_LABEL = "__atelier_label__"


def uses_cluster(config: TrainConfig, executor: Executor, *, rows: int, partitioned: bool) -> bool:
    """Whether this run trains through the cluster: ``config.distributed``, else a cluster and big data."""
    if config.distributed is False:
        return False
    if config.distributed and not executor.distributed:
        raise InvalidInputError("Distributed training needs a Dask cluster, and none is set.",
                                hint="Set ATELIER_DASK_SCHEDULER, or turn distributed training off.")
    return executor.distributed and (bool(config.distributed) or partitioned or rows >= AUTO_ROWS)


def offers_cluster(settings: Any, version: Any) -> bool:
    """Whether the Train page offers "Train on the cluster": a scheduler is set and ``version`` is in parts or big."""
    from core.platform import parts

    return bool(settings.dask_scheduler) and (parts.is_partitioned(version.artifact_key)
                                              or version.n_rows >= AUTO_ROWS)


def cluster_notice(algorithms: Sequence[str], rows: int) -> str:
    """What training on the cluster does with each chosen algorithm, in words for the page."""
    everything = [get_algorithm(k).label for k in algorithms if k in DISTRIBUTED_ALGORITHMS]
    sampled = [get_algorithm(k).label for k in algorithms if k not in DISTRIBUTED_ALGORITHMS]
    said = []
    if everything:
        verb = "trains" if len(everything) == 1 else "train"
        said.append(f"{' and '.join(everything)} {verb} on all {rows:,} rows through the Dask interface"
                    f"{'s' if len(everything) > 1 else ''}.")
    if sampled:
        how = (f"trained on a uniform sample of {SAMPLE_ROWS:,} rows, with a note on the result" if rows > SAMPLE_ROWS
               else f"trained in one task on all {rows:,} rows (no more than the {SAMPLE_ROWS:,}-row sample)")
        said.append(f"{', '.join(sampled)} {'has' if len(sampled) == 1 else 'have'} no Dask interface: {how}.")
    return " ".join(said)


PIECE_ROWS = 1_000_000  # rows per task: a big single-file version is cut into pieces of whole row groups


@dataclass(frozen=True)
class _Part:
    index: int
    path: str
    rows: int
    row_groups: tuple[int, ...]

    def read(self, columns: list[str] | None = None) -> pd.DataFrame:
        return pq.ParquetFile(self.path).read_row_groups(list(self.row_groups), columns=columns).to_pandas()


def _pieces(files: Sequence[Path], piece_rows: int) -> list[_Part]:
    """One task's rows each: whole row groups, at most about ``piece_rows`` rows, never across files."""
    pieces: list[_Part] = []
    for f in files:
        meta = pq.ParquetFile(f).metadata
        groups: list[int] = []
        rows = 0
        for g in range(meta.num_row_groups):
            n = meta.row_group(g).num_rows
            if groups and rows + n > piece_rows:
                pieces.append(_Part(len(pieces), str(f), rows, tuple(groups)))
                groups, rows = [], 0
            groups.append(g)
            rows += n
        if groups:
            pieces.append(_Part(len(pieces), str(f), rows, tuple(groups)))
    return pieces


@dataclass(frozen=True)
class _Survey:
    keep: float
    seed: int
    target: str | None


@dataclass(frozen=True)
class _Spec:
    """What every worker needs to turn a part into model rows (scattered once)."""

    head: Any  # the fitted preprocessing steps
    features: list[str]
    target: str
    kind: str
    classes: list[Any] | None
    encode_labels: bool  # XGBoost learns classes 0..k-1
    test_size: float
    seed: int
    keep_test: float  # share of the test rows sent back for metrics


_Tested = tuple[pd.DataFrame, pd.Series, int]  # a part's kept test rows, their target, its test-row count


def _survey_part(part: _Part, survey: _Survey) -> tuple[pd.DataFrame, dict[Any, int] | None]:
    frame = part.read()
    rng = np.random.default_rng([survey.seed, part.index, 1])
    sample = frame[rng.random(len(frame)) < survey.keep]
    counts = None
    if survey.target is not None and survey.target in frame.columns:
        kept = frame[survey.target].dropna()
        if not pd.api.types.is_float_dtype(kept.dtype) or len(kept.unique()) <= 1000:  # regression: no counts
            counts = {k: int(v) for k, v in tidy_labels(kept).value_counts().items()} if len(kept) else {}
    return sample, counts


def _labelled(part: _Part, spec: _Spec) -> tuple[pd.DataFrame, pd.Series, np.ndarray]:
    """The part's rows with a target, their cleaned target and which of them are test rows."""
    frame = part.read([*spec.features, spec.target])
    frame = frame[frame[spec.target].notna()]
    y = frame[spec.target]
    y = tidy_labels(y) if spec.kind in CLASSIFICATION_KINDS else pd.to_numeric(y, errors="coerce").astype(np.float64)
    test = np.random.default_rng([spec.seed, part.index, 2]).random(len(frame)) < spec.test_size
    return frame[spec.features], y, test


def _part_rows(part: _Part, spec: _Spec) -> tuple[pd.DataFrame, _Tested]:
    """One task, one read of the part: its training rows as the model sees them (plus the label column),
    and a uniform share of its test rows (raw, for the pipeline) with how many test rows it has."""
    X, y, test = _labelled(part, spec)
    keep = test & (np.random.default_rng([spec.seed, part.index, 3]).random(len(X)) < spec.keep_test)
    tested = (X[keep], y[keep], int(test.sum()))
    X, y = X[~test], y[~test]
    if spec.classes is not None:
        known = y.isin(spec.classes).to_numpy()
        X, y = X[known], y[known]
    out = spec.head.transform(X).reset_index(drop=True)
    labels = np.searchsorted(np.asarray(spec.classes), y.to_numpy()) if spec.encode_labels else y.to_numpy()
    out[_LABEL] = labels
    return out, tested


def train_many_partitioned(
    files: Sequence[Path],
    executor: Executor,
    config: TrainConfig,
    algorithms: Sequence[str],
    *,
    progress: Callable[..., None] | None = None,
    log: Callable[[str], None] | None = None,
    check_cancelled: Callable[[], None] | None = None,
    on_result: Callable[[TrainResult], None] | None = None,
    sample_rows: int | None = None,
) -> list[TrainResult]:
    """Train ``algorithms`` on the Parquet parts ``files`` (a dataset version's), one result per algorithm."""
    cb = Progress.of(progress, log, check_cancelled)
    sample_rows = sample_rows or SAMPLE_ROWS
    if not algorithms:
        raise InvalidInputError("Choose at least one algorithm to train.")
    entries = [get_algorithm(key) for key in algorithms]
    items = _pieces(files, PIECE_ROWS)
    total = sum(p.rows for p in items)
    if not total:
        raise InvalidInputError("Training needs a table with rows; the data given is empty.")
    cb.step(0.0, f"Sampling {min(sample_rows, total):,} of {total:,} rows from {len(items)} parts")
    survey = _Survey(min(1.0, sample_rows / total), int(config.seed), config.target)
    surveyed = _mapped(executor, _survey_part, items, survey, cb)
    sample = pd.concat([s for s, _ in surveyed], ignore_index=True)
    prepared = prepare_data(sample, config, cb)
    classes = None
    if prepared.kind in CLASSIFICATION_KINDS:
        counts: dict[Any, int] = {}
        for _, part_counts in surveyed:
            for label, n in (part_counts or {}).items():
                counts[label] = counts.get(label, 0) + n
        classes = sorted(counts, key=lambda v: (str(type(v)), v))
    for entry in entries:
        entry.estimator_class(prepared.kind)
    results = []
    span = 0.95 / len(entries)
    for i, entry in enumerate(entries):
        sub = cb.scaled(0.05 + i * span, 0.05 + (i + 1) * span)
        cb.log(f"— {entry.label} —")
        try:
            if entry.key in DISTRIBUTED_ALGORITHMS and prepared.kind != "clustering":
                result = _fit_distributed(prepared, entry, items, classes, executor, sub, total)
            else:
                result = _fit_on_sample(prepared, entry, executor, sub, len(sample), total)
        except JobCancelledError:
            raise
        except Exception as exc:  # recorded on that algorithm's result; the others go on
            result = failed_result(entry, prepared, exc, config, cb)
        results.append(result)
        if on_result is not None:
            on_result(result)
    cb.progress(1.0, "Done")
    return results


def _mapped(executor: Executor, fn: Callable[..., Any], items: list[_Part], shared: Any, cb: Progress) -> list[Any]:
    try:
        return executor.map(fn, items, shared=shared, check=cb.check_cancelled)
    except TaskFailed as failed:
        if isinstance(failed.error, AtelierError):
            raise failed.error from failed
        raise InvalidInputError(f"Part {failed.index + 1} of {len(items)} could not be read: {failed.error}",
                                hint="Nothing was trained. Re-import the data, or train without the cluster.") \
            from failed.error


def _fit_on_sample(prepared: PreparedData, entry: Any, executor: Executor, cb: Progress, sampled: int,
                   total: int) -> TrainResult:
    note = (f"{entry.label} has no Dask interface: trained on a uniform sample of {sampled:,} of the "
            f"{total:,} rows (LightGBM and XGBoost train on every row).") if sampled < total else ""
    if note:
        cb.log(note)
    result = fit_candidate(prepared, entry.key, cb, executor=executor)
    if note:
        result.notes.append(note)
    return result


def _fit_distributed(prepared: PreparedData, entry: Any, items: list[_Part], classes: list[Any] | None,
                     executor: Executor, cb: Progress, total: int) -> TrainResult:
    config, kind, seed = prepared.config, prepared.kind, int(prepared.config.seed)
    resolved, notes = resolve_preprocessing(config.preprocessing, entry.family, kind, entry.handles_missing)
    notes = [*prepared.notes, *notes]
    if config.split.kind not in ("auto", "random", "stratified"):
        notes.append(f"The {config.split.kind} split is not available across parts: test rows are a seeded "
                     f"random {config.split.test_size:.0%} of each part.")
    params = dict(config.params)
    entry.make(kind, params)  # unknown parameters fail here, before any work
    started = time.perf_counter()
    timings: dict[str, float] = {}
    threads = executor.threads_per_worker() if executor.distributed else 1
    tuning = None
    if config.tuning is not None:
        cb.step(0.0, f"Tuning {entry.label} on the sample")
        folds = _sample_folds(prepared, config.tuning.cv_folds, seed)
        tuning = tune(entry, prepared.X_train, prepared.y_train, kind, folds, prepared.types, resolved, config.tuning,
                      base_params=params, positive_label=config.positive_label, callbacks=cb.scaled(0.0, 0.4),
                      seed=seed, n_jobs=1, use_gpu=config.use_gpu, executor=executor)
        params = tuning.best_params
        timings["tuning_seconds"] = tuning.seconds
    pipeline, _weigh, build_notes = make_pipeline(entry, kind, prepared.types, resolved, params, y=prepared.y_train,
                                                  seed=seed, n_jobs=threads, use_gpu=config.use_gpu)
    if "resample" in pipeline.named_steps or resolved.imbalance == "class_weight" and entry.key == "xgboost":
        cb.log(f"{entry.label}: resampling and class weights need every row in one process; training on the sample.")
        return _fit_on_sample(prepared, entry, executor, cb, len(prepared.X), total)
    notes += build_notes
    head = pipeline[:-1]
    survey_rounds = None
    if entry.key == "lightgbm":
        cb.step(0.4, "Fitting the preprocessing and choosing the rounds on the sample")
        survey_rounds = _survey_rounds(pipeline, prepared, cb)  # fits ``head`` too
    else:
        cb.step(0.4, "Fitting the preprocessing on the sample")
        quietly(lambda: head.fit(prepared.X_train, prepared.y_train), cb.log)
    eval_rows = int(EVAL_ROWS)
    spec = _Spec(head, list(prepared.features), str(prepared.target), kind, classes, entry.key == "xgboost" and
                 classes is not None, float(config.split.test_size), seed,
                 min(1.0, eval_rows / max(1.0, total * config.split.test_size)))
    with library_errors(entry, config.use_gpu):
        cb.step(0.45, f"Preparing {len(items)} parts on the cluster")
        meta = _meta(prepared, spec)
        fit_started = time.perf_counter()
        model, train_rows, gathered = _fit_booster(entry, kind, pipeline.steps[-1][1], spec, items, meta, executor,
                                                   cb)
        timings["train_seconds"] = time.perf_counter() - fit_started
        pipeline.steps[-1] = ("model", model)
        rounds = survey_rounds or _stopped_rounds(model)
        if rounds is not None:
            params = {**params, "n_estimators": rounds}
            how = (f"an early-stopped fit on the survey sample's {len(prepared.X_train):,} training rows "
                   f"(LightGBM's Dask interface cannot stop early)" if survey_rounds else
                   f"early stopping on a held-out {VALIDATION_SHARE:.0%} of the training rows")
            notes.append(f"Boosting rounds: {rounds}, chosen by {how}.")
            cb.log(f"{entry.label}: {rounds} boosting rounds, chosen by {how}.")
        cb.step(0.8, "Evaluating on the test rows")
        X_test = pd.concat([g[0] for g in gathered], ignore_index=True)
        y_test = pd.concat([g[1] for g in gathered], ignore_index=True)
        test_rows = sum(g[2] for g in gathered)
        evaluation, lines = quietly(lambda: evaluate(pipeline, X_test, y_test, kind,
                                                     positive_label=config.positive_label, seed=seed), cb.log)
        notes += evaluation.notes + lines
        timings["predict_seconds_per_1000"] = predict_seconds_per_1000(pipeline, X_test if len(X_test)
                                                                        else prepared.X_train)
    notes.append(f"Trained on the cluster: {train_rows:,} training rows in {len(items)} parts; test metrics on "
                 f"{len(X_test):,} of the {test_rows:,} test rows.")
    cb.step(0.9, "Saving and explaining")
    model_bytes = dump_model(pipeline)
    importances, method, shap = {}, "none", None
    if config.explain:
        shown = _shown(prepared, X_test, y_test)
        importances, method, shap, explain_notes = explain_fitted(pipeline, shown, config, cb)
        notes += explain_notes
        timings["explain_seconds"] = shap.seconds if shap is not None else 0.0
    timings["total_seconds"] = time.perf_counter() - started
    cb.progress(1.0, f"{entry.label} done")
    return TrainResult(
        entry.key, entry.label, kind, prepared.problem, pipeline=pipeline, params=params,
        preprocessing=resolved.to_dict(), features=list(prepared.features), feature_types=dict(prepared.types),
        target=prepared.target, classes=None if classes is None else list(np.asarray(pipeline.classes_).tolist()),
        split={"kind": "random by part", "test_size": float(config.split.test_size), "seed": seed,
               "n_train": int(train_rows), "n_test": int(test_rows), "n_evaluated": len(X_test),
               "parts": len(items)},
        metrics=evaluation.metrics, curves=evaluation.curves, importances=importances, importance_method=method,
        shap=shap, tuning=tuning, timings={k: float(v) for k, v in timings.items()}, model_bytes=model_bytes,
        model_sha256=sha256_hex(model_bytes), model_size_bytes=len(model_bytes), notes=list(dict.fromkeys(notes)),
        warnings=list(prepared.warnings), library_versions=library_versions(),
        config={**config.to_dict(), "algorithm": entry.key}, train_frame=prepared.X_train,
    )


def _survey_rounds(pipeline: Any, prepared: PreparedData, cb: Progress) -> int | None:
    """Fit ``pipeline`` on the sample's training rows as the single-process fit does (early stopping on a
    held-out 10%), and set its booster's ``n_estimators`` to the round that fit kept; ``None`` when it did
    not stop early (too few rows), leaving the configured count.

    The count is used as it is, not scaled up for the full data: more rows support somewhat more rounds
    at the same learning rate (at 1M rows the one-process fit keeps 113, the 200k sample 73), but no rule
    ties the two closely, and past the sample's best round the metric barely moves while every round costs
    a pass over every row (the benchmark's test AUC: 0.9478 with 73 rounds and with all 200).
    """
    quietly(lambda: fit_pipeline(pipeline, prepared.X_train, prepared.y_train, capture=False), cb.log)
    booster = pipeline.steps[-1][1]
    best = int(getattr(booster, "best_iteration_", 0) or 0)
    if not best:
        return None
    booster.set_params(n_estimators=best)
    return best


def _stopped_rounds(model: Any) -> int | None:
    """The rounds an XGBoost model kept after stopping early (its best round, counted from one), else ``None``."""
    inner = getattr(model, "estimator_", model)
    try:
        best = inner.get_booster().attributes().get("best_iteration")
    except AttributeError:  # LightGBM has no get_booster: nothing to read
        return None
    return None if best is None else int(best) + 1


def _meta(prepared: PreparedData, spec: _Spec) -> pd.DataFrame:
    """The empty frame with the model rows' columns and dtypes (Dask's ``meta``), from a few sample rows."""
    head = prepared.X_train.iloc[:20]
    out = spec.head.transform(head).reset_index(drop=True)
    y = prepared.y_train.iloc[:20]
    out[_LABEL] = np.searchsorted(np.asarray(spec.classes), y.to_numpy()) if spec.encode_labels else y.to_numpy()
    return out.iloc[:0]


def _sample_folds(prepared: PreparedData, folds: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from core.ml.splits import cv_folds

    return cv_folds(prepared.split, prepared.y, folds, seed)


def _shown(prepared: PreparedData, X_test: pd.DataFrame, y_test: pd.Series) -> PreparedData:
    """Sample training rows and gathered test rows as one PreparedData, for the explanations."""
    X = pd.concat([prepared.X_train, X_test], ignore_index=True)
    y = pd.concat([prepared.y_train, y_test], ignore_index=True)
    n = len(prepared.X_train)
    return replace(prepared, X=X, y=y, split=Split("random", np.arange(n), np.arange(n, len(X))), folds=[])


def _fit_booster(entry: Any, kind: str, local: Any, spec: _Spec, items: list[_Part], meta: pd.DataFrame,
                 executor: Executor, cb: Progress) -> tuple[Any, int, list[_Tested]]:
    """Fit the booster on every part's training rows: the plain local estimator, the row count, and each part's
    test rows (read by the same task as its training rows, so each part is read once here)."""
    if not executor.distributed:  # no cluster (tests, or distributed=False paths): the same rows, in this process
        read = [_part_rows(p, spec) for p in items]
        frame = pd.concat([r[0] for r in read], ignore_index=True)
        X, y = frame.drop(columns=[_LABEL]), frame[_LABEL]
        tested = [r[1] for r in read]
        if spec.encode_labels:
            model = local.estimator.fit(X, y)
            return _label_wrapped(local, model, spec), len(frame), tested
        return local.fit(X, y), len(frame), tested
    frame, sides = executor.frame(_part_rows, items, shared=spec, meta=meta, sides=True)
    try:
        with executor.waiting():  # a job running on a worker gives its thread back while the cluster works
            executor.wait(frame, cb.check_cancelled)
            tested = executor.gather(sides)  # small (EVAL_ROWS in all): fetched now, freed before the fit
            executor.release(sides)
            rows = int(executor.compute(frame.map_partitions(len).sum()))
            cb.step(0.55, f"Fitting {entry.label} on {rows:,} rows on the cluster")
            if entry.key == "lightgbm":
                X, y = frame.drop(columns=[_LABEL]), frame[_LABEL]
                model = _lightgbm_on(executor, kind, local, X, y, spec.classes)
            else:
                model = _xgboost_on(executor, kind, local, frame, spec)
        cb.check_cancelled()
    except TaskFailed as failed:
        raise InvalidInputError(f"Part {failed.index + 1} of {len(items)} could not be prepared: {failed.error}",
                                hint="Nothing was trained. Check that part, or train without the cluster.") \
            from failed.error
    finally:
        executor.release(frame)
        executor.release(sides)
    return model, rows, tested


def _lightgbm_on(executor: Any, kind: str, local: Any, X: Any, y: Any, classes: list[Any] | None) -> Any:
    import lightgbm

    params = {k: v for k, v in local.get_params().items() if k not in ("n_jobs", "num_threads")}
    cls = lightgbm.DaskLGBMRegressor if kind == "regression" else lightgbm.DaskLGBMClassifier
    model = cls(client=executor.client, machines=",".join(executor.listen_addresses()), **params)
    with warnings.catch_warnings():  # threads follow each worker's own (the scheduler's) thread count
        warnings.filterwarnings("ignore", message="Parameter (n_jobs|num_threads) will be ignored")
        model.fit(X, y)
    fitted = model.to_local()
    if kind != "regression" and sorted(map(str, fitted.classes_)) != sorted(map(str, classes)):
        # each worker encodes the labels it holds; the model keeps the first worker's encoding
        raise InvalidInputError(
            f"LightGBM's workers did not all see every class ({len(fitted.classes_)} of {len(classes)}).",
            hint="A class is too rare to reach every worker: train without the cluster, or on fewer workers.")
    return fitted


def _xgboost_on(executor: Any, kind: str, local: Any, frame: Any, spec: _Spec) -> Any:
    from xgboost import dask as dxgb

    inner = local.estimator if spec.encode_labels else local
    params = {k: v for k, v in inner.get_params().items() if k not in ("n_jobs", "nthread")}
    cls = dxgb.DaskXGBRegressor if kind == "regression" else dxgb.DaskXGBClassifier
    # XGBoost's Dask interface stops early as one process does: a seeded 10% of each part's training rows
    # is watched (the test rows stay unseen) and the booster keeps its best round
    model = cls(**{**params, "early_stopping_rounds": STOPPING_ROUNDS})
    model.client = executor.client
    fit, held = frame.random_split([1 - VALIDATION_SHARE, VALIDATION_SHARE], random_state=spec.seed)
    model.fit(fit.drop(columns=[_LABEL]), fit[_LABEL],
              eval_set=[(held.drop(columns=[_LABEL]), held[_LABEL])], verbose=False)
    with tempfile.TemporaryDirectory() as tmp:  # the saved model carries the sklearn attributes too
        path = Path(tmp) / "model.json"
        model.save_model(path)
        plain = type(inner)(**inner.get_params())  # no early_stopping_rounds: a refit needs no validation set
        plain.load_model(path)
    return _label_wrapped(local, plain, spec) if spec.encode_labels else plain


def _label_wrapped(wrapper: Any, fitted: Any, spec: _Spec) -> Any:
    """A fitted LabelEncodedClassifier around a booster that learnt classes 0..k-1 (as a local fit leaves it)."""
    wrapper.classes_ = np.asarray(spec.classes)
    wrapper.estimator_ = fitted
    wrapper.n_features_in_ = int(getattr(fitted, "n_features_in_", 0))
    return wrapper
