"""Hyperparameter search: Optuna over a catalogue entry's search space, scored by cross-validation.

Each trial fits one pipeline per fold and reports the running mean after every fold, so a
``MedianPruner`` stops trials that are already worse than the median after their first fold.
The sampler is a seeded ``TPESampler``: the same data, settings and seed give the same trials.
A time budget is enforced between folds, not only between trials; a budget that ends before one
trial completes raises :class:`~core.platform.errors.ResourceError` saying how long one trial takes.

With a cluster executor (:mod:`core.platform.compute`) trials run in parallel on the workers: the
sampler proposes one batch of trials per free worker thread, each trial (all its folds, one thread)
is one task, the training rows are scattered to the workers once, and the batch's scores are told
back to the study before the next batch is asked for.  A whole trial runs in its task, so pruning
and the time budget apply between batches there, not between folds.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from core.ml.catalogue import Algorithm
from core.ml.config import TuningConfig, _jsonable
from core.ml.fitting import check_metric, fit_pipeline, greater_is_better, make_pipeline, score
from core.ml.preprocessing import ResolvedPreprocessing
from core.platform.errors import AtelierError, InvalidInputError, ResourceError
from core.platform.progress import Progress

if TYPE_CHECKING:
    from core.platform.compute import Executor

__all__ = ["TuningResult", "tune"]


@dataclass
class TuningResult:
    """Best parameters found, their cross-validated score, and one row per trial."""

    best_params: dict[str, Any]
    best_score: float
    metric: str
    trials: pd.DataFrame
    n_complete: int
    n_pruned: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (the trials table as a list of records)."""
        return {"best_params": {k: _jsonable(v) for k, v in self.best_params.items()},
                "best_score": float(self.best_score), "metric": self.metric, "n_complete": self.n_complete,
                "n_pruned": self.n_pruned, "seconds": round(self.seconds, 3),
                "trials": [{k: _jsonable(v) for k, v in row.items()} for row in self.trials.to_dict("records")]}


class _BudgetSpent(Exception):
    pass


def tune(
    entry: Algorithm,
    X: pd.DataFrame,
    y: pd.Series | None,
    kind: str,
    folds: list[tuple[np.ndarray, np.ndarray]],
    types: Mapping[str, str],
    resolved: ResolvedPreprocessing,
    config: TuningConfig,
    *,
    base_params: Mapping[str, Any] | None = None,
    seed: int = 0,
    n_jobs: int = 2,
    use_gpu: bool = False,
    positive_label: Any = None,
    callbacks: Progress | None = None,
    executor: Executor | None = None,
) -> TuningResult:
    """Search ``entry``'s space for the parameters with the best mean fold score.

    Parameters
    ----------
    X, y : training rows (``y`` is ``None`` for clustering, which scores on all of ``X``).
    folds : positions into ``X`` (see :func:`core.ml.splits.cv_folds`); ignored for clustering.
    base_params : fixed parameters the search space does not cover.
    executor : a cluster executor runs trials in parallel on its workers; ``None`` or a local one, here.

    Raises
    ------
    ResourceError
        The time budget ran out before any trial finished.
    InvalidInputError
        Every trial failed (the first error is quoted) or the metric does not suit the problem.
    """
    import optuna

    cb = callbacks or Progress()
    metric = check_metric(config.metric, kind)
    maximise = greater_is_better(metric)
    if kind == "clustering":
        folds = [(np.arange(len(X)), np.arange(len(X)))]
    started = time.perf_counter()
    deadline = started + config.timeout if config.timeout is not None else math.inf
    fold_seconds: list[float] = []
    n_trials = config.n_trials
    if not _has_space(entry, kind):
        cb.log(f"{entry.label} has no hyperparameters to tune: one trial with the defaults.")
        n_trials = 1

    def objective(trial: optuna.Trial) -> float:
        params = {**(base_params or {}), **entry.search_space(trial, kind)}
        scores: list[float] = []
        for step, (fit_rows, eval_rows) in enumerate(folds):
            cb.check_cancelled()
            if time.perf_counter() > deadline:
                trial.set_user_attr("stopped", "time budget")
                raise _BudgetSpent()
            fold_started = time.perf_counter()
            y_fit = None if y is None else y.iloc[fit_rows]
            try:
                pipeline, weigh, _ = make_pipeline(entry, kind, types, resolved, params, y=y_fit, seed=seed,
                                                   n_jobs=n_jobs, use_gpu=use_gpu)
                fit_pipeline(pipeline, X.iloc[fit_rows], y_fit, weigh=weigh)
                value = score(pipeline, X.iloc[eval_rows], None if y is None else y.iloc[eval_rows], kind, metric,
                              positive_label)
            except AtelierError:
                raise
            except Exception as exc:  # a parameter combination the library refuses: record it, try others
                trial.set_user_attr("error", f"{type(exc).__name__}: {exc}"[:300])
                raise optuna.TrialPruned() from exc
            fold_seconds.append(time.perf_counter() - fold_started)
            scores.append(value if not math.isnan(value) else (-math.inf if maximise else math.inf))
            running = float(np.mean(scores))
            trial.report(running, step)
            if config.pruning and math.isfinite(running) and trial.should_prune():
                trial.set_user_attr("stopped", f"pruned after fold {step + 1}")
                raise optuna.TrialPruned()
        return float(np.mean(scores))

    parallel = executor is not None and executor.distributed

    def after_trial(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        done = len(study.trials)
        fraction = done / n_trials if n_trials else (time.perf_counter() - started) / float(config.timeout or 1)
        state = trial.state.name.lower()
        value = f"{metric}={trial.value:.4f}" if trial.value is not None else trial.user_attrs.get("stopped", state)
        if "error" in trial.user_attrs:
            value = f"failed: {trial.user_attrs['error']}"
        cb.log(f"trial {trial.number + 1}: {value} {_short(trial.params)}")
        cb.progress(min(fraction, 1.0), f"Tuning {entry.label}: trial {done}" + (f" of {n_trials}" if n_trials else ""))
        if time.perf_counter() > deadline and not parallel:  # in parallel, the batch loop checks the budget
            study.stop()

    previous = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        study = optuna.create_study(
            direction="maximize" if maximise else "minimize",
            sampler=optuna.samplers.TPESampler(seed=seed),
            pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0)
            if config.pruning else optuna.pruners.NopPruner(),
        )
        if parallel:
            data = _TrialData(entry, X, y, kind, folds, dict(types), resolved, seed, use_gpu, metric, positive_label)
            _optimize_in_parallel(executor, study, data, base_params or {}, n_trials, deadline, cb, after_trial)
        else:
            study.optimize(objective, n_trials=n_trials, timeout=config.timeout, callbacks=[after_trial],
                           catch=(_BudgetSpent,))
    finally:
        optuna.logging.set_verbosity(previous)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE and math.isfinite(t.value)]
    if not complete:
        _raise_nothing_complete(study, entry, config, fold_seconds, len(folds))
    best = (max if maximise else min)(complete, key=lambda t: t.value)
    best_params = {**(base_params or {}), **entry.search_space(optuna.trial.FixedTrial(best.params), kind)}
    n_pruned = sum(t.state == optuna.trial.TrialState.PRUNED and "error" not in t.user_attrs for t in study.trials)
    return TuningResult(best_params, float(best.value), metric, _trials_table(study), len(complete), n_pruned,
                        time.perf_counter() - started)


@dataclass(frozen=True)
class _TrialData:
    """What every worker needs to run a trial (scattered once)."""

    entry: Algorithm
    X: pd.DataFrame
    y: pd.Series | None
    kind: str
    folds: list[tuple[np.ndarray, np.ndarray]]
    types: dict[str, str]
    resolved: ResolvedPreprocessing
    seed: int
    use_gpu: bool
    metric: str
    positive_label: Any


def _run_trial(params: dict[str, Any], data: _TrialData) -> dict[str, Any]:
    """One task: every fold of one trial on one thread; the running means, or the library's error."""
    maximise = greater_is_better(data.metric)
    scores, running, seconds = [], [], []
    for fit_rows, eval_rows in data.folds:
        started = time.perf_counter()
        y_fit = None if data.y is None else data.y.iloc[fit_rows]
        try:
            pipeline, weigh, _ = make_pipeline(data.entry, data.kind, data.types, data.resolved, params, y=y_fit,
                                               seed=data.seed, n_jobs=1, use_gpu=data.use_gpu)
            fit_pipeline(pipeline, data.X.iloc[fit_rows], y_fit, weigh=weigh)
            value = score(pipeline, data.X.iloc[eval_rows], None if data.y is None else data.y.iloc[eval_rows],
                          data.kind, data.metric, data.positive_label)
        except Exception as exc:  # a combination the library refuses: recorded on the trial
            return {"error": f"{type(exc).__name__}: {exc}"[:300], "running": running, "seconds": seconds}
        seconds.append(time.perf_counter() - started)
        scores.append(value if not math.isnan(value) else (-math.inf if maximise else math.inf))
        running.append(float(np.mean(scores)))
    return {"error": None, "running": running, "seconds": seconds}


def _optimize_in_parallel(executor: Executor, study: Any, data: _TrialData, base_params: Mapping[str, Any],
                          n_trials: int | None, deadline: float, cb: Progress, after_trial: Any) -> None:
    import optuna

    from core.platform.compute import TaskFailed

    slots = executor.slots()  # one trial per worker thread at a time
    while (n_trials is None or len(study.trials) < n_trials) and time.perf_counter() < deadline:
        cb.check_cancelled()
        batch = [study.ask() for _ in range(slots if n_trials is None else min(slots, n_trials - len(study.trials)))]
        params = [{**base_params, **data.entry.search_space(t, data.kind)} for t in batch]
        try:
            outcomes = executor.map(_run_trial, params, shared=data, check=cb.check_cancelled)
        except TaskFailed as failed:
            raise failed.error from failed
        for trial, outcome in zip(batch, outcomes, strict=True):
            for step, value in enumerate(outcome["running"]):
                trial.report(value, step)
            if outcome["error"] is not None:
                trial.set_user_attr("error", outcome["error"])
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
            else:
                study.tell(trial, outcome["running"][-1])
            after_trial(study, study.trials[trial.number])


class _Probe:
    """Stands in for a trial to see whether a search space asks for anything."""

    def suggest_float(self, name: str, low: float, high: float, **_: Any) -> float:
        return low

    def suggest_int(self, name: str, low: int, high: int, **_: Any) -> int:
        return low

    def suggest_categorical(self, name: str, choices: Any) -> Any:
        return choices[0]


def _has_space(entry: Algorithm, kind: str) -> bool:
    return bool(entry.search_space(_Probe(), kind))


def _raise_nothing_complete(study: Any, entry: Algorithm, config: TuningConfig, fold_seconds: list[float],
                            n_folds: int) -> None:
    errors = [t.user_attrs["error"] for t in study.trials if "error" in t.user_attrs]
    if errors and len(errors) == len(study.trials):
        raise InvalidInputError(
            f"Every tuning trial of {entry.label} failed; the first error was: {errors[0]}",
            hint="Check the data and the fixed parameters, or try another algorithm.",
        )
    per_fold = float(np.mean(fold_seconds)) if fold_seconds else None
    spent = f"one fold took {per_fold:.2f} s, so one trial of {n_folds} folds takes about {per_fold * n_folds:.1f} s" \
        if per_fold is not None else "not even one fold finished"
    needed = f"at least {math.ceil(per_fold * n_folds * 5)} s for a handful of trials" if per_fold else "more time"
    raise ResourceError(
        f"The tuning budget of {config.timeout:g} s is too small for one complete trial of {entry.label}: {spent}.",
        hint=f"Give {needed}, use fewer folds, or sample the data.",
    )


def _short(params: Mapping[str, Any]) -> str:
    if not params:
        return ""
    return "(" + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items()) + ")"


def _trials_table(study: Any) -> pd.DataFrame:
    rows = []
    for t in study.trials:
        seconds = (t.datetime_complete - t.datetime_start).total_seconds() if t.datetime_complete else None
        status = t.state.name.lower()
        if "error" in t.user_attrs:
            status = "failed"
        elif t.user_attrs.get("stopped") == "time budget":
            status = "stopped"
        rows.append({"trial": t.number + 1, "status": status, "value": t.value, "seconds": seconds,
                     "folds_run": len(t.intermediate_values), "note": t.user_attrs.get("error")
                     or t.user_attrs.get("stopped"), **{f"param_{k}": v for k, v in t.params.items()}})
    return pd.DataFrame(rows)
