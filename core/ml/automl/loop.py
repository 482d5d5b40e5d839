"""The AutoML search loop: trials within the budget, cheapest promising ones first.

Each trial is one :func:`~.trials.fit_trial` on the fitting rows, scored on a validation split held
out of the training rows, or, under :data:`~.trials.CV_BELOW` training rows, cross-validated over
all of them (:mod:`.state` prepared both, and left the leak suspects out); the test rows are never
seen.  The order of work:

1. LightGBM's shipped defaults, the floor every search must clear;
2. every recommended algorithm's low-cost starting point, in the order of :func:`.recommend.recommend`;
3. the portfolio of strong known defaults of the algorithms still in the race;
4. for an imbalanced classification, the leader again with balanced class weights (validation decides);
5. seeded TPE search (Optuna ask/tell, one study per algorithm) over the leading algorithms'
   data-size-aware spaces; algorithms far behind the leader get no more trials (pruned).

Big tables grow their fitting sample as the budget is spent.  Before each trial the memory guard
and the time guard (:mod:`.guard`) skip what would not fit or not finish, with the reason.  What
follows the loop (the ensemble, the refit) is :mod:`.search`'s.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from core.ml.automl.ensemble import CANDIDATES
from core.ml.automl.guard import memory_problem, predicted_seconds, work_units
from core.ml.automl.recommend import prior_seconds
from core.ml.automl.spaces import LIGHTGBM_DEFAULTS, SPECS
from core.ml.automl.state import AutoMLConfig, SearchState
from core.ml.automl.trials import FOLDS, PATIENCE, TrialConfig, TrialRecord, fit_trial
from core.platform.errors import JobCancelledError
from core.platform.progress import Progress

__all__ = ["FIRST_SAMPLE", "GROW_ABOVE", "Done", "Search"]

GROW_ABOVE = 50_000  # fitting rows above which trials start on a sample that grows with the budget
FIRST_SAMPLE = 20_000
KEEP_PIPELINES = 8
PORTFOLIO_ALGORITHMS = 4
KEEP_FOLD_PIPELINES = 1  # cross-validated trials hold a model per fold: keep only the leader's


class Search:
    """The loop's state: trials so far, per-algorithm studies and timings, kept models."""

    def __init__(self, state: SearchState, config: AutoMLConfig, cb: Progress, deadline: float, started: float,
                 previous: list[TrialRecord], on_trial: Callable[[TrialRecord, list[TrialRecord], bool], None] | None,
                 available_memory: int | None, fail: Callable[[TrialConfig], None] | None) -> None:
        self.state, self.config, self.cb = state, config, cb
        self.data = state.data
        self.deadline, self.started = deadline, started
        self.records: list[TrialRecord] = list(previous)
        self.seen = {r.config.key() for r in previous} | {r.asked for r in previous if r.asked}
        self.on_trial, self.available_memory, self.fail = on_trial, available_memory, fail
        self.history: dict[str, list[tuple[float, float]]] = {}
        self.pipelines: dict[int, Any] = {}
        self.predictions: dict[int, np.ndarray] = {}
        self.studies: dict[str, Any] = {}
        self.skipped: set[str] = set()
        self.slowdown: list[float] = []  # each finished trial's seconds over its prior
        self.order = [r.algorithm for r in state.recommendations]
        for r in previous:
            if r.status == "ok":
                self.history.setdefault(r.config.algorithm, []).append(
                    (work_units(r.config.algorithm, r.config.params, r.config.sample_rows or len(self.data.X_fit)),
                     r.seconds))

    # -- bookkeeping ------------------------------------------------------------------
    def left(self) -> float:
        return self.deadline - time.perf_counter()

    def sign(self) -> float:
        return 1.0 if self.data.maximise else -1.0

    def ok(self, full_only: bool = False) -> list[TrialRecord]:
        rows = [r for r in self.records if r.status == "ok" and r.score is not None and math.isfinite(r.score)
                and (not full_only or r.config.sample_rows is None)]
        return sorted(rows, key=lambda r: (-self.sign() * r.score, r.number))

    def best_by_algorithm(self) -> dict[str, float]:
        best: dict[str, float] = {}
        for r in self.ok():
            best.setdefault(r.config.algorithm, r.score)
        return best

    def sample_rows(self) -> int | None:
        n = len(self.data.X_fit)
        if n <= GROW_ABOVE:
            return None
        spent = 1.0 - max(self.left(), 0.0) / max(self.config.budget, 1e-9)
        rows = FIRST_SAMPLE * 4 ** int(3 * spent)
        return None if rows >= n else int(rows)

    # -- one trial --------------------------------------------------------------------
    def run(self, config: TrialConfig) -> TrialRecord | None:
        if config.key() in self.seen:
            return None
        if self.config.max_trials is not None and len(self.records) >= self.config.max_trials:
            return None
        self.seen.add(config.key())
        rows = config.sample_rows or len(self.data.X_fit)
        number = len(self.records) + 1
        model_rows = rows  # the folds' models, together, each on (k-1)/k of the rows
        if self.data.cross_validated:
            model_rows = int(rows * (FOLDS - 1) / FOLDS * len(self.data.folds))
        problem = memory_problem(config.algorithm, config.params, model_rows,
                                 self.state.profile.data_bytes * rows / max(len(self.data.X_fit), 1),
                                 self.state.profile.n_classes or 1, self.available_memory)
        if problem is None:
            expected = predicted_seconds(config.algorithm, config.params, rows, self.history.get(config.algorithm, []),
                                         self._prior(config, rows))
            if expected > self.left():
                problem = f"skipped: expected to take {expected:.1f} s, {max(self.left(), 0):.1f} s left"
        if problem is not None:
            record = TrialRecord(number, config, "skipped", error=problem, finished_at=self.elapsed(),
                                 asked=config.key())
            self.cb.log(f"trial {number} {config.algorithm}: {problem}")
            return self._add(record)
        self.cb.check_cancelled()
        try:
            if self.fail is not None:
                self.fail(config)
            outcome = fit_trial(self.data, config, deadline=self.deadline)
        except JobCancelledError:
            raise
        except Exception as exc:  # one configuration failing never ends the search
            message = f"{type(exc).__name__}: {exc}"[:300]
            self.cb.log(f"trial {number} {config.algorithm} failed: {message}")
            return self._add(TrialRecord(number, config, "failed", error=message, finished_at=self.elapsed(),
                                         asked=config.key()))
        score = outcome.metrics.get(self.data.metric)
        score = float(score) if score is not None and math.isfinite(score) else None
        ran = replace(config, params={**config.params, **outcome.params})
        record = TrialRecord(number, ran, "ok" if score is not None else "failed", score, outcome.seconds,
                             outcome.metrics, None if score is not None else f"no {self.data.metric} on validation",
                             self.elapsed(), config.key(), self.data.n_jobs)
        self.seen.add(ran.key())
        self.history.setdefault(config.algorithm, []).append((work_units(config.algorithm, _fitted(config, ran), rows),
                                                              outcome.seconds))
        prior = self._prior(config, rows, measured_only=True)
        if prior:
            self.slowdown.append(outcome.seconds / prior)
        if record.status == "ok":
            self.predictions[number] = outcome.predictions
            if outcome.pipeline is not None:
                self.pipelines[number] = outcome.pipeline
        best = self.ok()
        lead = f"; best {best[0].score:.4f} ({best[0].config.algorithm})" if best else ""
        self.cb.log(f"trial {number} {config.algorithm} ({config.origin}): {self.data.metric} "
                    f"{score if score is None else round(score, 5)} in {outcome.seconds:.2f} s{lead}")
        self._add(record)
        self._forget()  # once the record is in: it may be one of the candidates to keep
        return record

    def _prior(self, config: TrialConfig, rows: int, measured_only: bool = False) -> float | None:
        # the priors measured the first portfolio default: scale by this configuration's work (never up for a start),
        # then by how much slower than the calibration this machine runs now (a shared machine: 3x and more)
        spec = SPECS[config.algorithm]
        measured = prior_seconds(config.algorithm, self.data.task, rows)
        if measured is None:
            return None
        if self.data.cross_validated:  # the priors timed one fit; a trial fits one per fold
            measured *= len(self.data.folds)
        reference = dict(spec.portfolio[0] if spec.portfolio else spec.start)
        ratio = work_units(config.algorithm, config.params, rows) / max(work_units(config.algorithm, reference, rows),
                                                                        1e-9)
        seconds = measured * (min(ratio, 1.0) if config.origin == "start" else ratio)
        if measured_only:
            return seconds
        slowdown = float(np.clip(np.median(self.slowdown), 0.5, 10.0)) if self.slowdown else 1.0
        return seconds * slowdown

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def _add(self, record: TrialRecord) -> TrialRecord:
        self.records.append(record)
        spent = min(max(self.elapsed() / max(self.config.budget, 1e-9), 0.0), 1.0)
        self.cb.progress(0.05 + 0.85 * spent, f"{len(self.records)} trials")
        if self.on_trial is not None:
            self.on_trial(record, self.records, self.data.maximise)
        return record

    def candidates(self) -> list[TrialRecord]:
        """The ensemble's candidates, best first: the best trial of every algorithm (different models
        make errors an average can cancel), then the best of the rest, :data:`CANDIDATES` in all."""
        ranked = self.ok(full_only=True)
        leaders: dict[str, TrialRecord] = {}
        for r in ranked:
            leaders.setdefault(r.config.algorithm, r)
        chosen = {r.number for r in leaders.values()}
        rest = [r for r in ranked if r.number not in chosen]
        picked = {r.number for r in [*leaders.values(), *rest][:max(CANDIDATES, len(leaders))]}
        return [r for r in ranked if r.number in picked]

    def _forget(self) -> None:
        keep = {r.number for r in self.candidates()}
        for number in list(self.predictions):
            if number not in keep:
                self.predictions.pop(number, None)
        keep = KEEP_FOLD_PIPELINES if self.data.cross_validated else KEEP_PIPELINES
        keep_models = {r.number for r in self.ok(full_only=True)[:keep]}
        for number in list(self.pipelines):
            if number not in keep_models:
                self.pipelines.pop(number, None)

    # -- the phases -------------------------------------------------------------------
    def search(self) -> None:
        sample = self.sample_rows()
        if "lightgbm" in self.order:  # the library's defaults first: the floor every search must clear
            self._try(TrialConfig("lightgbm", dict(LIGHTGBM_DEFAULTS), "none", sample, "portfolio"))
        for key in self.order:
            self._try(TrialConfig(key, dict(SPECS[key].start), "none", sample, "start"))
        contenders = self.contenders(loose=True)
        depth = max((len(SPECS[k].portfolio) for k in contenders), default=0)
        for i in range(depth):
            for key in contenders:
                if i < len(SPECS[key].portfolio):
                    self._try(TrialConfig(key, dict(SPECS[key].portfolio[i]), "none", self.sample_rows(), "portfolio"))
        best = self.ok()
        # class weights move every probability away from the class shares the test rows will have: under
        # log-loss that costs on every row, so only ranking metrics (ROC-AUC and the like) try them
        if self.state.profile.imbalanced and best and self.data.metric != "log_loss":
            lead = best[0].config
            self._try(TrialConfig(lead.algorithm, dict(self._asked(lead)), "class_weight", lead.sample_rows,
                                  "imbalance"))
        self._tpe()

    def _asked(self, config: TrialConfig) -> Mapping[str, Any]:
        # what was asked for, not what early stopping kept: the same question with another weighting
        spec = SPECS[config.algorithm]
        if spec.early_stopping:
            return {**config.params, "n_estimators": spec.fixed.get("n_estimators", config.params["n_estimators"])}
        return config.params

    def _try(self, config: TrialConfig) -> None:
        if self.left() <= 0 or (self.config.max_trials is not None and len(self.records) >= self.config.max_trials):
            raise Done()
        self.cb.check_cancelled()
        self.run(config)

    def contenders(self, loose: bool = False) -> list[str]:
        """Algorithms still in the race, best first: the leader and those close to it (the rest are pruned).

        ``loose`` (for the portfolio, after only the cheap starting points): the best
        :data:`PORTFOLIO_ALGORITHMS`, however far behind; a starting point says little about
        what an algorithm's strong defaults reach.
        """
        best = self.best_by_algorithm()
        if not best:
            return [k for k in self.order if k not in self.skipped]
        ranked = sorted(best, key=lambda k: -self.sign() * best[k])
        if loose:
            return [k for k in ranked if k not in self.skipped][:PORTFOLIO_ALGORITHMS]
        lead = best[ranked[0]]
        spread = abs(lead) * 0.05 + 1e-9 if self.data.metric != "roc_auc" else 0.03
        close = [k for k in ranked if abs(best[k] - lead) <= spread][:3]
        for key in ranked:
            if key not in close and key not in self.skipped:
                self.skipped.add(key)
                self.cb.log(f"{key}: no more trials (best {best[key]:.4f}, leader {lead:.4f}): pruned")
        return close

    def _tpe(self) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.ERROR)
        turn = 0
        idle = 0
        while True:
            contenders = [k for k in self.contenders() if SPECS[k].space]
            if not contenders:
                return
            key = contenders[0] if turn % 2 == 0 or len(contenders) == 1 else contenders[1 + (turn // 2) % (
                len(contenders) - 1)]
            turn += 1
            study = self._study(key)
            rows = self.sample_rows()
            trial = study.ask()
            params = SPECS[key].sample(trial, rows or len(self.data.X_fit))
            before = len(self.records)
            self._try(TrialConfig(key, params, self._imbalance(key), rows, "search"))
            record = self.records[-1] if len(self.records) > before else None
            if record is None:
                idle += 1
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                if idle > 20:
                    return
                continue
            idle = 0
            if record.status == "ok":
                study.tell(trial, record.score)
            else:
                study.tell(trial, state=optuna.trial.TrialState.FAIL)
                if record.status == "skipped" and all(
                        r.status == "skipped" for r in self.records[-3:]):
                    return  # nothing more fits in the time left

    def _imbalance(self, key: str) -> str:
        weighted = [r for r in self.ok() if r.config.algorithm == key]
        return weighted[0].config.imbalance if weighted else "none"

    def _study(self, key: str) -> Any:
        import optuna

        if key in self.studies:
            return self.studies[key]
        spec = SPECS[key]
        study = optuna.create_study(direction="maximize" if self.data.maximise else "minimize",
                                    sampler=optuna.samplers.TPESampler(seed=self.config.seed, n_startup_trials=4))
        distributions = spec.distributions(len(self.data.X_fit))
        for r in self.records:  # a resumed run hands its finished trials back to the sampler
            if r.config.algorithm != key or r.status != "ok":
                continue
            values = {k: r.config.params[k] for k in distributions if k in r.config.params}
            if len(values) != len(distributions) or not all(_inside(d, values[k]) for k, d in distributions.items()):
                continue
            study.add_trial(optuna.trial.create_trial(params=values, distributions=distributions, value=r.score))
        self.studies[key] = study
        return study


class Done(Exception):
    """The budget or the trial limit is spent: the search ends here."""


def _fitted(asked: TrialConfig, ran: TrialConfig) -> Mapping[str, Any]:
    """The parameters a trial's time paid for: an early-stopped booster kept ``n_estimators`` rounds but fitted
    :data:`~.trials.PATIENCE` more (timing by the kept rounds alone overrated the next trial several times)."""
    if not SPECS[asked.algorithm].early_stopping or "n_estimators" not in asked.params:
        return ran.params
    rounds = min(int(asked.params["n_estimators"]), int(ran.params["n_estimators"]) + PATIENCE)
    return {**ran.params, "n_estimators": rounds}


def _inside(distribution: Any, value: Any) -> bool:
    """Whether ``value`` lies in an Optuna distribution (a start's ``"sqrt"`` in a float range does not)."""
    try:
        return bool(distribution._contains(distribution.to_internal_repr(value)))
    except (TypeError, ValueError):
        return False
