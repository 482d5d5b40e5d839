"""The AutoML search: the best model this data allows within a wall-time budget.

Order of work (each trial is one :func:`~.trials.fit_trial` on the fitting rows, scored on a
validation split held out of the training rows, or, under :data:`~.trials.CV_BELOW` training
rows, cross-validated over all of them; the test rows are never seen by the search):

1. leak suspects from :func:`core.eda.leakage.screen_leakage` are left out (unless kept) and listed;
2. every recommended algorithm's low-cost starting point, in the order of :func:`.recommend.recommend`;
3. the portfolio of strong known defaults of the algorithms still in the race;
4. for an imbalanced classification, the leader again with balanced class weights (validation decides);
5. seeded TPE search (Optuna ask/tell, one study per algorithm) over the leading algorithms'
   data-size-aware spaces; algorithms far behind the leader get no more trials (pruned).

Big tables grow their fitting sample as the budget is spent.  Before each trial the memory guard
and the time guard (:mod:`.guard`) skip what would not fit or not finish, with the reason.  Then
a greedy weighted ensemble is kept if it beats the best single model on validation, and the
winner is refitted on all training rows when the time left allows (an early-stopped booster with its
rounds grown by the rows it gains: :func:`.refit.refit_config`).  Cancelling ends the search
and keeps the best so far; the refit and what follows still run.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from core.data.target import CLASSIFICATION_KINDS, detect_problem
from core.eda.leakage_memo import screen_features
from core.ml.automl.ensemble import CANDIDATES, select_ensemble
from core.ml.automl.guard import memory_problem, predicted_seconds, work_units
from core.ml.automl.profile import DataProfile, profile_data
from core.ml.automl.receipt import Receipt, Winner, hardware_summary, receipt_repeats
from core.ml.automl.recommend import Recommendation, prior_seconds, recommend
from core.ml.automl.refit import refit_config, rows_per_fit
from core.ml.automl.spaces import LIGHTGBM_DEFAULTS, SPECS
from core.ml.automl.trials import (
    CV_BELOW,
    FOLDS,
    PATIENCE,
    SearchData,
    TrialConfig,
    TrialRecord,
    cv_repeats,
    fit_trial,
    make_folds,
    metric_of,
    metrics_of,
)
from core.ml.config import SplitConfig, TrainConfig
from core.ml.ensemble import ensemble_pipeline
from core.ml.evaluate import Evaluation, evaluate
from core.ml.fitting import check_metric, greater_is_better, quietly
from core.ml.prepared import PreparedData, prepare_data
from core.ml.problem import select_features
from core.ml.serialize import library_versions
from core.ml.splits import split_rows
from core.platform.cores import thread_budget
from core.platform.errors import InvalidInputError, JobCancelledError, ResourceError
from core.platform.progress import Progress

__all__ = ["AutoMLConfig", "AutoMLResult", "SearchState", "prepare_search", "recommend_for", "run_automl"]

AUTOML_METRIC = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}
GROW_ABOVE = 50_000  # fitting rows above which trials start on a sample that grows with the budget
FIRST_SAMPLE = 20_000
FIXED_SECONDS = 1.0  # evaluation on the test rows, saving and registering: kept back from the search
KEEP_PIPELINES = 8
PORTFOLIO_ALGORITHMS = 4
KEEP_FOLD_PIPELINES = 1  # cross-validated trials hold a model per fold: keep only the leader's


@dataclass(frozen=True)
class AutoMLConfig:
    """What the user chose: target, budget in seconds, metric, seed, and the search's switches.

    ``keep_suspects`` keeps the features the leakage screen suspects (left out by default);
    ``algorithms`` limits the search to some catalogue keys; ``reserve`` is the share of the budget
    kept for the final refit, evaluation and registration; ``n_jobs`` (threads per fit) defaults to
    :func:`core.platform.cores.thread_budget` of the fitting rows, measured once when the run starts.
    """

    target: str
    budget: float
    metric: str | None = None
    seed: int = 0
    algorithms: Sequence[str] | None = None
    keep_suspects: bool = False
    features: Sequence[str] | None = None
    roles: Mapping[str, str] = field(default_factory=dict)
    n_jobs: int | None = None
    test_size: float = 0.2
    validation_size: float = 0.2
    ensemble: bool = True
    refit: bool = True
    reserve: float = 0.12
    max_trials: int | None = None

    def __post_init__(self) -> None:
        if not (isinstance(self.budget, int | float) and math.isfinite(self.budget) and self.budget > 0):
            raise InvalidInputError(f"The time budget must be a positive number of seconds. Got {self.budget!r}.")
        if self.n_jobs is not None and self.n_jobs < 1:
            raise InvalidInputError(f"n_jobs must be at least 1. Got {self.n_jobs}.")
        unknown = sorted(set(self.algorithms or ()) - set(SPECS))
        if unknown:
            raise InvalidInputError(f"AutoML does not search {unknown[0]!r}.",
                                    hint=f"It searches: {', '.join(sorted(SPECS))}.")

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "budget": float(self.budget), "metric": self.metric, "seed": self.seed,
                "algorithms": None if self.algorithms is None else list(self.algorithms),
                "keep_suspects": self.keep_suspects, "features": None if self.features is None else list(self.features),
                "roles": dict(self.roles), "n_jobs": self.n_jobs, "test_size": self.test_size,
                "validation_size": self.validation_size, "ensemble": self.ensemble, "refit": self.refit,
                "reserve": self.reserve, "max_trials": self.max_trials}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AutoMLConfig:
        return cls(**dict(data))


@dataclass
class SearchState:
    """The data side of a run: prepared rows, the validation split, the profile and the ranking."""

    prepared: PreparedData
    data: SearchData
    profile: DataProfile
    recommendations: list[Recommendation]
    excluded: list[dict[str, str]]
    fit_rows: np.ndarray  # positions in the training rows
    val_rows: np.ndarray


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


def prepare_search(df: pd.DataFrame, config: AutoMLConfig, cb: Progress,
                   excluded: list[dict[str, str]] | None = None, *,
                   screen_key: Hashable | None = None, repeats: int | None = None) -> SearchState:
    """Leakage screen, features, split, validation rows, profile and ranking: all before the first trial.

    ``excluded`` (from a receipt) replaces the screen so a resumed or replayed run uses the same features;
    ``repeats`` (from a receipt) how often the cross-validation drew its folds (default: by the rows,
    :func:`~.trials.cv_repeats`).
    ``screen_key`` names ``df``'s data, so the screen here, the one in the data preparation and the
    Train page's warnings are one (:func:`core.eda.leakage_memo.screen_features`).
    """
    if config.target not in df.columns:
        raise InvalidInputError(f"The target column {config.target!r} is not in the data; its columns are "
                                f"{', '.join(map(str, df.columns[:20]))}.")
    features = select_features(df, config.target, config.features, config.roles)
    if excluded is None:
        excluded = []
        y_raw = df[config.target]
        if y_raw.notna().any():
            kind = detect_problem(y_raw).kind
            if kind in CLASSIFICATION_KINDS or kind == "regression":
                checks, _ = quietly(lambda: screen_features(df, config.target, kind, features, key=screen_key,
                                                            seed=config.seed))
                excluded = [{"feature": str(c.feature), "reason": c.short_message} for c in checks if c.suspect]
        if config.keep_suspects:
            for item in excluded:
                cb.log(f"kept although suspected of leakage: {item['reason']}")
            excluded = []
    for item in excluded:
        cb.log(f"left out as a leak suspect: {item['reason']}")
    dropped = {item["feature"] for item in excluded}
    kept = [f for f in features if str(f) not in dropped]
    if not kept:
        raise InvalidInputError("Every feature is a leak suspect, so nothing is left to learn from.",
                                hint="Keep the suspects (--keep-suspects) if you are sure they are known in time.")
    train_config = TrainConfig(target=config.target, features=kept, roles=dict(config.roles),
                               split=SplitConfig(test_size=config.test_size, seed=config.seed), seed=config.seed,
                               n_jobs=config.n_jobs, explain=False)
    prepared = prepare_data(df, train_config, cb, screen_key=screen_key)
    if prepared.kind == "clustering":
        raise InvalidInputError("AutoML needs a target to predict; clustering is not searched.")
    X_train, y_train = prepared.X_train, prepared.y_train
    metric = check_metric(config.metric or AUTOML_METRIC.get(prepared.kind), prepared.kind)
    task = "classification" if prepared.kind in CLASSIFICATION_KINDS else "regression"
    if len(X_train) < CV_BELOW:  # small: every row validates once a repeat (seeded folds: a replay sees the same)
        folds = make_folds(y_train, task, config.seed + 1,
                           repeats=cv_repeats(len(X_train)) if repeats is None else repeats)
        fit_rows = val_rows = np.arange(len(X_train))
        data = SearchData(X_train, y_train, X_train, y_train, prepared.kind, dict(prepared.types), metric,
                          greater_is_better(metric), config.seed, config.n_jobs or thread_budget(len(X_train)),
                          folds=folds)
    else:
        inner = split_rows(X_train, y_train, prepared.kind, SplitConfig(test_size=config.validation_size,
                                                                        seed=config.seed + 1))
        fit_rows, val_rows = inner.train, inner.test
        data = SearchData(X_train.iloc[fit_rows], y_train.iloc[fit_rows], X_train.iloc[val_rows],
                          y_train.iloc[val_rows], prepared.kind, dict(prepared.types), metric,
                          greater_is_better(metric), config.seed, config.n_jobs or thread_budget(len(fit_rows)))
    profile = profile_data(data.X_fit, data.y_fit, prepared.kind, prepared.types)
    ranking = recommend(profile, list(config.algorithms) if config.algorithms else None)
    if not ranking:
        raise InvalidInputError(f"No algorithm AutoML searches suits this {prepared.kind} problem with "
                                f"{profile.rows:,} rows.", hint="Allow more algorithms.")
    return SearchState(prepared, data, profile, ranking, excluded, fit_rows, val_rows)


def recommend_for(df: pd.DataFrame, config: AutoMLConfig, total_rows: int | None = None, *,
                  screen_key: Hashable | None = None) -> tuple[list[Recommendation], list[dict[str, str]]]:
    """The ranking (and the leak suspects) for ``df``, a sample of a table of ``total_rows`` rows.

    ``screen_key`` names ``df``'s data: its leakage screen is then kept for the next feature set.
    """
    state = prepare_search(df, config, Progress(), screen_key=screen_key)
    profile = state.profile
    if total_rows and total_rows > len(df):
        scale = total_rows / len(df)
        profile = replace(profile, rows=int(profile.rows * scale), data_bytes=int(profile.data_bytes * scale))
    return recommend(profile, list(config.algorithms) if config.algorithms else None), state.excluded


class _Search:
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
            raise _Done()
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


class _Done(Exception):
    pass


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
    search = _Search(state, config, cb, deadline - reserve, started, previous.trials if previous else [], on_trial,
                     available_memory, fail)
    search.predictions.update({int(k): v for k, v in (predictions or {}).items()
                               if len(v) == len(state.data.y_val)})
    for r in state.recommendations[:3]:
        cb.log(f"recommended #{r.rank} {r.label}: {r.why}")
    cancelled = False
    try:
        search.search()
    except _Done:
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


def _choose(search: _Search, ok: list[TrialRecord],
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


def _classes(search: _Search, record: TrialRecord) -> np.ndarray | None:
    if search.data.task != "classification":
        return None
    pipeline = search.pipelines.get(record.number)
    if pipeline is not None:
        return np.asarray(pipeline.classes_)
    return np.unique(np.asarray(search.data.y_fit))


def _refit_seconds(search: _Search, members: list[TrialRecord]) -> float:
    """About how long refitting ``members`` on every training row takes, from their trials' times."""
    data = search.data
    growth = len(search.state.prepared.X_train) / max(len(data.X_fit), 1)
    if data.cross_validated:  # a trial's time is its folds' fits, each on (k-1)/k of the rows
        growth = FOLDS / (FOLDS - 1) / len(data.folds)
    return sum(m.seconds for m in members) * growth * 1.15


def _final(search: _Search, winner: Winner, members: list[TrialRecord], config: AutoMLConfig,
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
