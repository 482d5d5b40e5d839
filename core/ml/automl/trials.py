"""One AutoML trial: fit one configuration on the fitting rows and score it on the validation rows.

A :class:`TrialConfig` is everything that makes a trial repeatable (algorithm, parameters,
class-imbalance handling, how many fitting rows); :func:`fit_trial` is the single function the
search, the final refit and ``replay`` all call, so a replay refits exactly what the search fitted.
Boosters declared with early stopping (:mod:`.spaces`) stop on the validation split and record
the rounds used as ``n_estimators``; a replay fits that many rounds without early stopping, which
builds the same trees.

Small tables (under :data:`CV_BELOW` training rows) are cross-validated instead: one hold-out of a
few hundred rows is noise that a search then overfits (penguins: validation log-loss 0.003, test
0.22).  Every trial fits :data:`FOLDS` models (per repeat), each scored on the fold it did not see, and its
score is the metric of those out-of-fold predictions over every training row; boosters stop at
the one round count best on average over the folds (``lightgbm.cv``'s rule), so a replay fitting
that many rounds in each fold reproduces the out-of-fold predictions exactly.  Under
:data:`REPEAT_BELOW` rows the k folds are drawn :data:`REPEATS` times with different seeds and each
row's out-of-fold prediction is the mean of its repeats: one partition of a few hundred rows ranks
configurations by its luck.  Measured by refitting a search's six best configurations on four other
fold seeds: on mpg (318 rows) one configuration's RMSE moves by 0.07 (2.5 %) from seed to seed, two
thirds of the 0.10 between the six, and the search's own seed flattered all six by about 0.1; on
seattle_weather (1,168 rows) log-loss moves by 0.004 (0.7 %), a third of the gaps, with no such
flattery.  A whole 30 s search nested in a 5-fold split of the training rows agrees: mpg 2.849 RMSE
with one draw, 2.809 with two; seattle_weather log-loss 0.550 either way (repeats only halve the trials).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.data.target import CLASSIFICATION_KINDS
from core.ml.catalogue import get_algorithm
from core.ml.config import PreprocessConfig, _jsonable
from core.ml.evaluate import classification_metrics, regression_metrics
from core.ml.fitting import fit_pipeline, make_pipeline, quietly
from core.ml.preprocessing import resolve_preprocessing

__all__ = ["CV_BELOW", "FOLDS", "REPEATS", "REPEAT_BELOW", "SearchData", "TrialConfig", "TrialOutcome", "TrialRecord",
           "cv_repeats", "fit_trial", "make_folds", "metric_of", "metrics_of", "sample_positions"]

PATIENCE = 50  # early-stopping rounds without improvement on the validation split
CV_BELOW = 10_000  # training rows under which trials are cross-validated rather than scored on one hold-out
FOLDS = 5
REPEAT_BELOW = 1_000  # training rows under which the cross-validation is repeated (see the module's docstring)
REPEATS = 2


@dataclass(frozen=True)
class SearchData:
    """The rows a search fits on and validates on, and what scores them."""

    X_fit: pd.DataFrame
    y_fit: pd.Series
    X_val: pd.DataFrame
    y_val: pd.Series
    kind: str
    types: Mapping[str, str]
    metric: str
    maximise: bool
    seed: int = 0
    n_jobs: int = 2
    positive_label: Any = None
    # cross-validation: each fold's validation positions in X_fit (then X_val/y_val are X_fit/y_fit)
    folds: tuple[np.ndarray, ...] = ()

    @property
    def task(self) -> str:
        return "classification" if self.kind in CLASSIFICATION_KINDS else "regression"

    @property
    def cross_validated(self) -> bool:
        return bool(self.folds)

    @property
    def repeats(self) -> int:
        """How often the folds were drawn (each draw holds every row out once); 0 without folds."""
        return sum(len(f) for f in self.folds) // max(len(self.X_fit), 1)


def cv_repeats(rows: int) -> int:
    """How many times a cross-validation of ``rows`` training rows draws its folds."""
    return REPEATS if rows < REPEAT_BELOW else 1


def make_folds(y: pd.Series, task: str, seed: int, folds: int = FOLDS, repeats: int = 1) -> tuple[np.ndarray, ...]:
    """Seeded validation positions of ``folds`` folds (stratified where every class has enough rows).

    With ``repeats`` the folds of each repeat (seeds ``seed``, ``seed + 1``, ...) follow each other:
    every row is held out once per repeat.
    """
    from sklearn.model_selection import KFold, StratifiedKFold

    values = np.asarray(y)
    stratify = task == "classification" and pd.Series(values).value_counts().min() >= folds
    held_out: list[np.ndarray] = []
    for repeat in range(repeats):
        splitter: Any = (StratifiedKFold if stratify else KFold)(folds, shuffle=True, random_state=seed + repeat)
        held_out += [np.sort(held) for _, held in splitter.split(np.zeros(len(values)), values)]
    return tuple(held_out)


@dataclass(frozen=True)
class TrialConfig:
    """What one trial fits: repeatable from these fields alone (with the run's data and seed)."""

    algorithm: str
    params: Mapping[str, Any]
    imbalance: str = "none"
    sample_rows: int | None = None  # None: every fitting row
    origin: str = "search"  # start | portfolio | search | imbalance

    def key(self) -> str:
        """Identity of the configuration (a resumed search never repeats one)."""
        import json

        return json.dumps([self.algorithm, _plain(self.params), self.imbalance, self.sample_rows], sort_keys=True)

    def to_dict(self) -> dict[str, Any]:
        return {"algorithm": self.algorithm, "params": _plain(self.params), "imbalance": self.imbalance,
                "sample_rows": self.sample_rows, "origin": self.origin}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrialConfig:
        return cls(data["algorithm"], dict(data["params"]), data.get("imbalance", "none"), data.get("sample_rows"),
                   data.get("origin", "search"))


@dataclass
class TrialRecord:
    """One leaderboard row: the configuration as run, its validation score and what happened."""

    number: int
    config: TrialConfig
    status: str  # ok | failed | skipped | stopped
    score: float | None = None
    seconds: float = 0.0
    metrics: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    finished_at: float = 0.0  # seconds since the run (or its resumption) started
    asked: str | None = None  # the configuration's key as asked (early stopping may change the params)
    threads: int | None = None  # n_jobs it was fitted with (a replay uses the same: sums add up alike)

    def to_dict(self) -> dict[str, Any]:
        row = asdict(self)
        row["config"] = self.config.to_dict()
        return row

    def row(self) -> dict[str, Any]:
        """The public leaderboard row: ``algorithm``, ``params``, ``score``, ``seconds``, ``status``."""
        return {"trial": self.number, "algorithm": self.config.algorithm, "params": _plain(self.config.params),
                "imbalance": self.config.imbalance, "sample_rows": self.config.sample_rows,
                "origin": self.config.origin, "score": self.score, "seconds": round(self.seconds, 3),
                "status": self.status, "error": self.error}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrialRecord:
        values = dict(data)
        values["config"] = TrialConfig.from_dict(values["config"])
        return cls(**values)


@dataclass
class TrialOutcome:
    """A fitted trial: the pipeline, its validation predictions and metrics, the parameters used."""

    pipeline: Any
    predictions: np.ndarray
    metrics: dict[str, float]
    params: dict[str, Any]
    seconds: float


def sample_positions(n: int, rows: int | None, seed: int) -> np.ndarray:
    """The first ``rows`` of a seeded permutation: growing samples nest inside each other."""
    if rows is None or rows >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).permutation(n)[:rows])


def fit_trial(data: SearchData, config: TrialConfig, *, deadline: float | None = None,
              early_stopping: bool = True, X: pd.DataFrame | None = None, y: pd.Series | None = None) -> TrialOutcome:
    """Fit ``config`` on the fitting rows (or on ``X``/``y``) and score it on the validation rows.

    ``early_stopping`` lets declared boosters stop on the validation split; the rounds they kept
    come back in ``params["n_estimators"]``.  ``deadline`` (a ``time.perf_counter`` value) stops
    boosting rounds when the budget runs out.  With ``data.folds`` (and no ``X``) the trial is
    cross-validated: the predictions are out-of-fold, the pipeline the folds' models averaged.
    """
    from threadpoolctl import threadpool_limits

    started = time.perf_counter()
    with threadpool_limits(data.n_jobs):  # OpenMP and BLAS too (HistGradientBoosting has no n_jobs): see cores.py
        return _fit_trial(data, config, deadline, early_stopping, X, y, started)


def _fit_trial(data: SearchData, config: TrialConfig, deadline: float | None, early_stopping: bool,
               X: pd.DataFrame | None, y: pd.Series | None, started: float) -> TrialOutcome:
    folds = X is None and data.cross_validated
    if folds:
        pipeline, predictions, params = _fit_folds(data, config, deadline, early_stopping)
    else:
        if X is None:
            rows = sample_positions(len(data.X_fit), config.sample_rows, data.seed)
            X, y = data.X_fit.iloc[rows], data.y_fit.iloc[rows]
        pipeline, params = _fit_one(data, config, X, y, data.X_val, data.y_val, deadline,
                                    early_stopping and not data.cross_validated)
        predictions = predict_scores(pipeline, data.X_val, data.task)
    classes = None
    if data.task == "classification":
        classes = _all_classes(data) if folds else np.asarray(pipeline.classes_)
    metrics = metrics_of(data, predictions, classes)
    return TrialOutcome(pipeline, predictions, metrics, params, time.perf_counter() - started)


def _build(data: SearchData, config: TrialConfig, y: pd.Series) -> tuple[Any, bool, bool]:
    """The unfitted pipeline, whether it is fitted with sample weights, whether it may stop early."""
    from core.ml.automl.spaces import spec_for

    entry = get_algorithm(config.algorithm)
    resolved, _ = resolve_preprocessing(PreprocessConfig(imbalance=config.imbalance), entry.family, data.kind,
                                        entry.handles_missing)
    pipeline, weigh, _ = make_pipeline(entry, data.kind, data.types, resolved, dict(config.params), y=y,
                                       seed=data.seed, n_jobs=data.n_jobs)
    spec = spec_for(config.algorithm)
    stops = bool(spec is not None and spec.stops_early(config.params) and "resample" not in pipeline.named_steps
                 and not weigh)
    return pipeline, weigh, stops


def _fit_one(data: SearchData, config: TrialConfig, X: pd.DataFrame, y: pd.Series, X_val: pd.DataFrame,
             y_val: pd.Series, deadline: float | None, early_stopping: bool) -> tuple[Any, dict[str, Any]]:
    params = dict(config.params)
    pipeline, weigh, stops = _build(data, config, y)
    if early_stopping and stops:
        curve = _fit_early_stopped(pipeline, X, y, X_val, y_val, deadline)
        params["n_estimators"] = _keep_rounds(pipeline, int(np.argmin(curve)) + 1)
    else:  # the search stops boosters on its own validation rows, or was told not to: no second split
        fit_pipeline(pipeline, X, y, weigh=weigh, early_stopping=False)
    return pipeline, params


def _fit_folds(data: SearchData, config: TrialConfig, deadline: float | None,
               early_stopping: bool) -> tuple[Any, np.ndarray, dict[str, Any]]:
    """One model per fold; out-of-fold predictions; boosters cut to the rounds best on average."""
    params = dict(config.params)
    everything = np.arange(len(data.X_fit))
    fitted, curves = [], []
    for held in data.folds:
        rows = np.setdiff1d(everything, held, assume_unique=True)
        X, y = data.X_fit.iloc[rows], data.y_fit.iloc[rows]
        pipeline, weigh, stops = _build(data, config, y)
        if early_stopping and stops:
            curves.append(_fit_early_stopped(pipeline, X, y, data.X_fit.iloc[held], data.y_fit.iloc[held], deadline))
        else:
            fit_pipeline(pipeline, X, y, weigh=weigh, early_stopping=False)
        fitted.append(pipeline)
    if curves:
        common = min(len(c) for c in curves)
        rounds = int(np.argmin(np.mean([c[:common] for c in curves], axis=0))) + 1
        for pipeline in fitted:
            _keep_rounds(pipeline, rounds)
        params["n_estimators"] = rounds
    classes = _all_classes(data) if data.task == "classification" else None
    width = (len(classes),) if classes is not None else ()
    predictions = np.zeros((len(everything), *width))
    for pipeline, held in zip(fitted, data.folds, strict=True):
        scores = predict_scores(pipeline, data.X_fit.iloc[held], data.task)
        if classes is None:
            predictions[held] += scores
        else:  # a fold whose training rows miss a rare class: its columns go where they belong
            columns = np.searchsorted(classes, np.asarray(pipeline.classes_))
            predictions[np.ix_(held, columns)] += scores
    repeats = np.bincount(np.concatenate(data.folds), minlength=len(everything))  # each row once per repeat
    predictions /= repeats.reshape(-1, *([1] * len(width)))
    return _folds_model(fitted, data), predictions, params


def _folds_model(fitted: list[Any], data: SearchData) -> Any:
    """The folds' models averaged: what the search keeps when there is no time to refit on every row."""
    from core.ml.ensemble import ensemble_pipeline

    try:
        return ensemble_pipeline(fitted, [1.0] * len(fitted), data.task, background=data.X_fit)
    except ValueError:  # folds that know different classes cannot be averaged: the winner is refitted
        return None


def _all_classes(data: SearchData) -> np.ndarray:
    return np.unique(np.asarray(data.y_fit))


def _fit_early_stopped(pipeline: Any, X: pd.DataFrame, y: pd.Series, X_val: pd.DataFrame, y_val: pd.Series,
                       deadline: float | None) -> list[float]:
    """Fit until :data:`PATIENCE` rounds bring no gain on ``X_val``; the validation loss after each round.

    Our own stopping rule rather than ``lightgbm.early_stopping``: that one cuts the booster back
    to its own best round, and cross-validation needs every fold's trees up to the common best.
    """
    import lightgbm as lgb

    best = {"loss": np.inf, "round": 0}

    def stop(env: Any) -> None:
        _, _, value, higher = env.evaluation_result_list[0]
        loss = -value if higher else value
        if loss < best["loss"]:
            best.update(loss=loss, round=env.iteration)
        out_of_time = deadline is not None and time.perf_counter() > deadline
        if out_of_time or env.iteration - best["round"] >= PATIENCE:
            raise lgb.callback.EarlyStopException(env.iteration, env.evaluation_result_list)  # keeps every tree

    stop.order = 30  # after LightGBM's own recording of this round's validation loss
    head = pipeline[:-1]  # the same step objects: fitting the head fits the pipeline's preprocessing
    (Xt, Xv), _ = quietly(lambda: (head.fit_transform(X, y), head.transform(X_val)))
    model = pipeline.steps[-1][1]
    quietly(lambda: model.fit(Xt, y, eval_set=[(Xv, y_val)], callbacks=[stop]))
    results = getattr(model, "evals_result_", None) or {}
    name, curve = next(iter(next(iter(results.values()), {}).items()), ("", None))
    if not curve:  # nothing recorded: keep every round
        return [1.0] * (int(model.booster_.current_iteration()) - 1) + [0.0]
    higher = name in ("auc", "average_precision", "ndcg", "map")
    return [-float(v) if higher else float(v) for v in curve]


def _keep_rounds(pipeline: Any, rounds: int) -> int:
    """Predict with the first ``rounds`` rounds (what a replay fits); the trees after them are ignored."""
    model = pipeline.steps[-1][1]
    rounds = max(1, min(int(rounds), int(model.booster_.current_iteration())))
    model.booster_.best_iteration = rounds
    model._best_iteration = rounds  # what LGBMModel.best_iteration_ reports
    model.set_params(n_estimators=rounds)
    return rounds


def predict_scores(pipeline: Any, X: pd.DataFrame, task: str) -> np.ndarray:
    """Class probabilities (rows × classes) or predicted values."""
    if task == "classification":
        out, _ = quietly(lambda: pipeline.predict_proba(X))
    else:
        out, _ = quietly(lambda: pipeline.predict(X))
    return np.asarray(out, dtype=np.float64)


def metrics_of(data: SearchData, predictions: np.ndarray, classes: np.ndarray | None) -> dict[str, float]:
    """Validation metrics of probabilities or values (the same for a model and for an ensemble)."""
    if data.task == "regression":
        return regression_metrics(data.y_val, predictions)
    predicted = classes[np.argmax(predictions, axis=1)]
    (values, _), _ = quietly(lambda: classification_metrics(data.y_val, predicted, predictions, classes, is_proba=True,
                                       positive_label=data.positive_label))
    return values


def metric_of(data: SearchData, predictions: np.ndarray, classes: np.ndarray | None) -> float:
    """``metrics_of(...)[data.metric]`` computed alone: what ensemble selection asks hundreds of times.

    The three AutoML defaults are computed here exactly as :mod:`core.ml.evaluate` computes them
    (same scikit-learn calls on the same arrays); any other metric takes the full set.
    """
    from sklearn import metrics as m

    y = np.asarray(data.y_val)
    if data.metric == "rmse" and data.task == "regression":
        return float(m.root_mean_squared_error(np.asarray(y, dtype=np.float64), np.asarray(predictions, np.float64)))
    if classes is not None and data.metric == "roc_auc" and len(classes) == 2:
        positive = classes[-1] if data.positive_label is None else data.positive_label
        truth = y == positive
        if truth.all() or not truth.any():
            return float("nan")
        return float(m.roc_auc_score(truth, predictions[:, int(np.flatnonzero(classes == positive)[0])]))
    if classes is not None and data.metric == "log_loss" and set(np.unique(y)) <= set(classes.tolist()):
        value, _ = quietly(lambda: m.log_loss(y, predictions, labels=classes))  # rounding-off sums warn
        return float(value)
    return float(metrics_of(data, predictions, classes).get(data.metric, float("nan")))


def _plain(params: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): _jsonable(v) for k, v in sorted(params.items())}
