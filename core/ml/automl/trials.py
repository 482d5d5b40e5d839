"""One AutoML trial: fit one configuration on the fitting rows and score it on the validation rows.

A :class:`TrialConfig` is everything that makes a trial repeatable (algorithm, parameters,
class-imbalance handling, how many fitting rows); :func:`fit_trial` is the single function the
search, the final refit and ``replay`` all call, so a replay refits exactly what the search fitted.
Boosters declared with early stopping (:mod:`.spaces`) stop on the validation split and record
the rounds used as ``n_estimators``; a replay fits that many rounds without early stopping, which
builds the same trees.
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

__all__ = ["SearchData", "TrialConfig", "TrialOutcome", "TrialRecord", "fit_trial", "metrics_of", "sample_positions"]

PATIENCE = 50  # early-stopping rounds without improvement on the validation split


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

    @property
    def task(self) -> str:
        return "classification" if self.kind in CLASSIFICATION_KINDS else "regression"


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
    boosting rounds when the budget runs out.
    """
    from core.ml.automl.spaces import spec_for

    started = time.perf_counter()
    entry = get_algorithm(config.algorithm)
    resolved, _ = resolve_preprocessing(PreprocessConfig(imbalance=config.imbalance), entry.family, data.kind,
                                        entry.handles_missing)
    if X is None:
        rows = sample_positions(len(data.X_fit), config.sample_rows, data.seed)
        X, y = data.X_fit.iloc[rows], data.y_fit.iloc[rows]
    params = dict(config.params)
    pipeline, weigh, _ = make_pipeline(entry, data.kind, data.types, resolved, params, y=y, seed=data.seed,
                                       n_jobs=data.n_jobs)
    spec = spec_for(config.algorithm)
    stops = bool(early_stopping and spec is not None and spec.early_stopping and "resample" not in
                 pipeline.named_steps and not weigh)
    if stops:
        params["n_estimators"] = _fit_early_stopped(pipeline, X, y, data, deadline)
    else:  # the search stops boosters on its own validation rows, or was told not to: no second split
        fit_pipeline(pipeline, X, y, weigh=weigh, early_stopping=False)
    predictions = predict_scores(pipeline, data.X_val, data.task)
    metrics = metrics_of(data, predictions, np.asarray(pipeline.classes_) if data.task == "classification" else None)
    return TrialOutcome(pipeline, predictions, metrics, params, time.perf_counter() - started)


def _fit_early_stopped(pipeline: Any, X: pd.DataFrame, y: pd.Series, data: SearchData, deadline: float | None) -> int:
    import lightgbm as lgb

    def out_of_time(env: Any) -> None:
        if deadline is not None and time.perf_counter() > deadline:
            raise lgb.callback.EarlyStopException(env.iteration, env.evaluation_result_list)

    head = pipeline[:-1]  # the same step objects: fitting the head fits the pipeline's preprocessing
    (Xt, Xv), _ = quietly(lambda: (head.fit_transform(X, y), head.transform(data.X_val)))
    model = pipeline.steps[-1][1]
    quietly(lambda: model.fit(Xt, y, eval_set=[(Xv, data.y_val)],
                              callbacks=[lgb.early_stopping(PATIENCE, verbose=False), out_of_time]))
    rounds = int(getattr(model, "best_iteration_", 0) or model.n_estimators)
    if rounds < model.n_estimators:
        model.set_params(n_estimators=rounds)  # what a replay fits; predictions already use these rounds
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


def _plain(params: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): _jsonable(v) for k, v in sorted(params.items())}
