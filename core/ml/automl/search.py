"""The AutoML run: the best model this data allows within a wall-time budget.

:func:`run_automl` prepares the search (:mod:`.state`), runs the loop of trials (:mod:`.loop`),
then keeps a greedy weighted ensemble if it beats the best single model on validation, and
refits the winner on all training rows when the time left allows (an early-stopped booster with its
rounds grown by the rows it gains: :func:`.refit.refit_config`).  Cancelling ends the search and
keeps the best so far; the refit and what follows still run.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.ml.automl.ensemble import CANDIDATES, select_ensemble
from core.ml.automl.loop import FIRST_SAMPLE, GROW_ABOVE, Done, Search
from core.ml.automl.receipt import Receipt, Winner, hardware_summary, receipt_repeats
from core.ml.automl.recommend import prior_seconds
from core.ml.automl.refit import refit_config, rows_per_fit
from core.ml.automl.state import AutoMLConfig, SearchState, prepare_search
from core.ml.automl.trials import FOLDS, SearchData, TrialConfig, TrialRecord, fit_trial, metric_of, metrics_of
from core.ml.ensemble import ensemble_pipeline
from core.ml.evaluate import Evaluation, evaluate
from core.ml.fitting import quietly
from core.ml.serialize import library_versions
from core.platform.errors import JobCancelledError, ResourceError
from core.platform.progress import Progress

__all__ = ["AutoMLResult", "minimum_budget", "run_automl"]

FIXED_SECONDS = 1.0  # evaluation on the test rows, saving and registering: kept back from the search


@dataclass
class AutoMLResult:
    """A finished search: the receipt, the final pipeline, its test evaluation and the data state."""

    receipt: Receipt
    pipeline: Any
    evaluation: Evaluation
    state: SearchState
    refitted: bool
    cancelled: bool
    notes: list[str]
    elapsed: float
    predictions: dict[int, np.ndarray]  # validation predictions of the best trials (kept for resume)


def minimum_budget(state: SearchState, setup_seconds: float) -> float:
    """Seconds below which not even the cheapest configuration and the final steps fit."""
    rows = min(len(state.data.X_fit), FIRST_SAMPLE) if len(state.data.X_fit) > GROW_ABOVE else len(state.data.X_fit)
    times = [prior_seconds(r.algorithm, state.data.task, rows) or 0.0 for r in state.recommendations]
    cheapest = min(times) if times else 0.0
    fits = len(state.data.folds) if state.data.cross_validated else 1
    return setup_seconds + (fits + 2) * cheapest + FIXED_SECONDS  # one trial, the refit and a margin of one fit


def run_automl(
    df: pd.DataFrame,
    config: AutoMLConfig,
    *,
    run_id: str = "",
    dataset: Mapping[str, Any] | None = None,
    callbacks: Progress | None = None,
    on_trial: Callable[[TrialRecord, list[TrialRecord], bool], None] | None = None,
    previous: Receipt | None = None,
    started: float | None = None,
    available_memory: int | None = None,
    fail: Callable[[TrialConfig], None] | None = None,
    predictions: Mapping[int, np.ndarray] | None = None,
    screen_key: Hashable | None = None,
) -> AutoMLResult:
    """Search for the best model of ``config.target`` within ``config.budget`` seconds.

    Parameters
    ----------
    df : the dataset (never modified).
    previous : the receipt of the run to continue (resume): its trials are kept and none is repeated.
    started : ``time.perf_counter()`` when the budget started (the job's submit time), default now.
    available_memory : bytes the memory guard compares with (default: what is free).
    fail : test hook called before each trial; raising from it fails that trial.
    predictions : validation predictions of ``previous``'s best trials (so a resumed run can ensemble them).
    screen_key : names ``df``'s data for the leakage screen's memo, so the search's screen and the data
        preparation's warnings screen each column once (:func:`core.eda.leakage_memo.screen_features`).

    Raises
    ------
    ResourceError
        The budget is too small for one cheap fit; the message suggests one.
    InvalidInputError
        A target that cannot be learnt (all missing, a single class), no feature left.
    """
    cb = callbacks or Progress()
    started = time.perf_counter() if started is None else started
    deadline = started + float(config.budget)
    cb.step(0.0, "Preparing the data")
    state = prepare_search(df, config, cb, previous.excluded if previous is not None else None,
                           screen_key=screen_key, repeats=receipt_repeats(previous))
    setup = time.perf_counter() - started
    needed = minimum_budget(state, setup)
    prior_ok = previous is not None and previous.winner is not None
    if config.budget < needed and not prior_ok:
        suggest = int(max(10, 5 * math.ceil(needed * 3 / 5)))
        raise ResourceError(
            f"A budget of {config.budget:g} s is too small: preparing {len(df):,} rows took {setup:.1f} s and one "
            f"cheap fit plus the final steps need about {needed:.1f} s.",
            hint=f"Give at least {suggest} s (--budget {suggest}).")
    reserve = max(FIXED_SECONDS, config.reserve * config.budget)
    search = Search(state, config, cb, deadline - reserve, started, previous.trials if previous else [], on_trial,
                     available_memory, fail)
    search.predictions.update({int(k): v for k, v in (predictions or {}).items()
                               if len(v) == len(state.data.y_val)})
    for r in state.recommendations[:3]:
        cb.log(f"recommended #{r.rank} {r.label}: {r.why}")
    cancelled = False
    try:
        search.search()
    except Done:
        pass
    except JobCancelledError:
        cancelled = True
        cb.log("cancelled: keeping the best model so far")
    ok = search.ok(full_only=True) or search.ok()
    if not ok:
        failures = [r.error for r in search.records if r.error]
        raise ResourceError(
            f"No trial finished within the budget of {config.budget:g} s"
            + (f"; the first problem was: {failures[0]}" if failures else "") + ".",
            hint=f"Give more time (at least {int(max(10, needed * 3))} s) or fewer rows.")
    winner, members, notes = _choose(search, ok, config)
    cb.progress(0.92, "Refitting the winner on every training row")  # no cancel check: keep the best
    best = ok[0]
    if len(members) > 1 and config.refit and best.number in search.pipelines and \
            not all(m.number in search.pipelines for m in members) and \
            _refit_seconds(search, members) > deadline - time.perf_counter() - FIXED_SECONDS:
        # the members must be refitted (cross-validated trials keep only the leader's models) and time is short
        notes.append("No time left to refit the ensemble's members on every row: the best single model is kept.")
        winner = Winner([best.number], [best.config], [1.0], dict(best.metrics), float(best.score))
        members = [best]
    pipeline, refitted, more = _final(search, winner, members, config, deadline)
    notes += more
    cb.progress(0.96, "Evaluating on the test rows")
    prepared = state.prepared
    evaluation, _ = quietly(lambda: evaluate(pipeline, prepared.X_test, prepared.y_test, prepared.kind,
                                             seed=config.seed))
    receipt = Receipt(
        run_id, dict(dataset or {}), config.target, prepared.kind, state.data.metric, state.data.maximise, config.seed,
        {**prepared.split.describe(prepared.config.split), "n_fit": int(len(state.fit_rows)),
         "n_validation": int(len(state.val_rows)), "validation_seed": config.seed + 1,
         "validation_size": config.validation_size,
         "validation": _validation_words(state.data), "cv_repeats": state.data.repeats,
         "threads": state.data.n_jobs},
        [str(f) for f in prepared.features], state.excluded, config.to_dict(),
        [*(previous.sessions if previous else []),
         {"budget": float(config.budget), "elapsed": time.perf_counter() - started, "trials": len(search.records)
          - (len(previous.trials) if previous else 0), "cancelled": cancelled, "refitted": refitted}],
        library_versions(), hardware_summary(), search.records, winner,
        [r.to_dict() for r in state.recommendations])
    return AutoMLResult(receipt, pipeline, evaluation, state, refitted, cancelled, notes,
                        time.perf_counter() - started, dict(search.predictions))


def _validation_words(data: SearchData) -> str:
    if not data.cross_validated:
        return "hold-out"
    repeats = f", repeated {data.repeats} times" if data.repeats > 1 else ""
    return f"{len(data.folds) // max(data.repeats, 1)}-fold cross-validation{repeats}"


def _choose(search: Search, ok: list[TrialRecord],
            config: AutoMLConfig) -> tuple[Winner, list[TrialRecord], list[str]]:
    data = search.data
    best = ok[0]
    classes = _classes(search, best)
    single = Winner([best.number], [best.config], [1.0], dict(best.metrics), float(best.score))
    pool = [r for r in search.candidates() if r.number in search.predictions]
    if not pool or pool[0].number != best.number:  # the best single model first (fitted on a sample, say)
        pool = [r for r in ok if r.number in search.predictions][:CANDIDATES]
    if not config.ensemble or len(pool) < 2:
        return single, [best], []
    predictions = [search.predictions[r.number] for r in pool]
    choice = select_ensemble(predictions, lambda p: metric_of(data, p, classes), data.maximise)
    if choice is None:
        return single, [best], ["The ensemble did not beat the best single model on validation."]
    members = [pool[i] for i in choice.members]
    blended = sum(w * predictions[i] for i, w in zip(choice.members, choice.weights, strict=True))
    metrics = metrics_of(data, blended, classes)
    if search.sign() * metrics[data.metric] <= search.sign() * best.score + 1e-12:
        return single, [best], ["The ensemble did not beat the best single model on validation."]
    search.cb.log(f"ensemble of {len(members)} models: {data.metric} {metrics[data.metric]:.5f} "
                  f"(best single {best.score:.5f})")
    return (Winner([m.number for m in members], [m.config for m in members], list(choice.weights), metrics,
                   float(metrics[data.metric])), members, [])


def _classes(search: Search, record: TrialRecord) -> np.ndarray | None:
    if search.data.task != "classification":
        return None
    pipeline = search.pipelines.get(record.number)
    if pipeline is not None:
        return np.asarray(pipeline.classes_)
    return np.unique(np.asarray(search.data.y_fit))


def _refit_seconds(search: Search, members: list[TrialRecord]) -> float:
    """About how long refitting ``members`` on every training row takes, from their trials' times."""
    data = search.data
    growth = len(search.state.prepared.X_train) / max(len(data.X_fit), 1)
    if data.cross_validated:  # a trial's time is its folds' fits, each on (k-1)/k of the rows
        growth = FOLDS / (FOLDS - 1) / len(data.folds)
    return sum(m.seconds for m in members) * growth * 1.15


def _final(search: Search, winner: Winner, members: list[TrialRecord], config: AutoMLConfig,
           deadline: float) -> tuple[Any, bool, list[str]]:
    """The winner refitted on all training rows when time allows, else as the search fitted it."""
    data, prepared = search.data, search.state.prepared
    X_all, y_all = prepared.X_train, prepared.y_train
    needed = _refit_seconds(search, members)
    left = deadline - time.perf_counter() - FIXED_SECONDS
    have = all(m.number in search.pipelines for m in members)
    refit = config.refit and (needed <= left or not have)
    notes = []
    fitted = []
    for m in members:
        if refit:
            fitted.append(fit_trial(data, refit_config(m, len(X_all), rows_per_fit(data)), early_stopping=False,
                                    X=X_all, y=y_all).pipeline)
        else:
            fitted.append(search.pipelines[m.number])
    if not refit:
        notes.append(f"Not refitted on every training row: that needs about {needed:.1f} s and {max(left, 0):.1f} s "
                     "were left; the model is the one fitted on the search's fitting rows.")
    if len(fitted) == 1:
        return fitted[0], refit, notes
    return ensemble_pipeline(fitted, winner.weights, data.task, background=X_all), refit, notes
