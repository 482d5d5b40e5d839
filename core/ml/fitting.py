"""Fit one candidate pipeline and score it: the piece that training, tuning and cross-validation share.

``make_pipeline`` turns a catalogue entry, parameters and preprocessing choices into an unfitted
pipeline; ``fit_pipeline`` fits it with balanced sample weights where asked and turns library
warnings (convergence and the like) into log lines instead of letting them escape; ``score``
computes one named metric the same way :mod:`core.ml.evaluate` does.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from core.data.target import ProblemKind
from core.ml.catalogue import Algorithm
from core.ml.evaluate import (
    LOWER_IS_BETTER,
    classification_metrics,
    clustering_metrics,
    model_scores,
    regression_metrics,
)
from core.ml.preprocessing import ResolvedPreprocessing, build_pipeline, model_input_frame
from core.platform.errors import InvalidInputError

__all__ = ["DEFAULT_METRIC", "METRICS", "check_metric", "fit_pipeline", "greater_is_better", "make_pipeline",
           "score"]

DEFAULT_METRIC = {ProblemKind.BINARY: "roc_auc", ProblemKind.MULTICLASS: "f1_macro", ProblemKind.REGRESSION: "rmse",
                  ProblemKind.CLUSTERING: "silhouette"}
METRICS = {
    ProblemKind.BINARY: ("accuracy", "balanced_accuracy", "precision", "recall", "f1", "f1_macro", "roc_auc",
                         "pr_auc", "log_loss"),
    ProblemKind.MULTICLASS: ("accuracy", "balanced_accuracy", "precision_macro", "recall_macro", "f1_macro",
                             "precision_weighted", "recall_weighted", "f1_weighted", "roc_auc", "pr_auc", "log_loss"),
    ProblemKind.REGRESSION: ("rmse", "mae", "r2", "mape"),
    ProblemKind.CLUSTERING: ("silhouette", "davies_bouldin", "calinski_harabasz"),
}


def greater_is_better(metric: str) -> bool:
    return metric not in LOWER_IS_BETTER


def check_metric(metric: str | None, kind: str) -> str:
    """The metric to optimise: ``metric`` if it suits ``kind``, else the kind's default."""
    if metric is None:
        return DEFAULT_METRIC[kind]
    if metric not in METRICS[kind]:
        raise InvalidInputError(
            f"The metric {metric!r} does not apply to {kind} problems. Valid metrics: {', '.join(METRICS[kind])}."
        )
    return metric


def make_pipeline(
    entry: Algorithm,
    kind: str,
    types: Mapping[str, str],
    resolved: ResolvedPreprocessing,
    params: Mapping[str, Any] | None = None,
    *,
    y: pd.Series | None = None,
    seed: int = 0,
    n_jobs: int = 2,
    use_gpu: bool = False,
) -> tuple[Any, bool, list[str]]:
    """Unfitted pipeline, whether it must be fitted with balanced sample weights, and notes."""
    balanced = resolved.imbalance == "class_weight"
    estimator = entry.make(kind, params, seed=seed, n_jobs=n_jobs, use_gpu=use_gpu, balanced=balanced)
    pipeline, notes = build_pipeline(types, resolved, estimator, kind, y=y, seed=seed, n_jobs=n_jobs)
    weigh = False
    if balanced and "class_weight" not in estimator.get_params():
        from sklearn.utils.validation import has_fit_parameter

        weigh = has_fit_parameter(estimator, "sample_weight")
        if not weigh:
            notes.append(f"{entry.label} cannot weight classes, so the class-weight setting has no effect.")
    return pipeline, weigh, notes


def fit_pipeline(
    pipeline: Any, X: pd.DataFrame, y: pd.Series | None, *, weigh: bool = False,
    log: Callable[[str], None] | None = None,
) -> list[str]:
    """Fit in place; return (and log) the distinct warnings the libraries raised while fitting."""
    params: dict[str, Any] = {}
    if weigh and y is not None:
        from sklearn.utils.class_weight import compute_sample_weight

        params["model__sample_weight"] = compute_sample_weight("balanced", y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pipeline.fit(X, y, **params)
    return _report(caught, log)


def quietly(function: Callable[[], Any], log: Callable[[str], None] | None = None) -> tuple[Any, list[str]]:
    """Call ``function()`` with warnings turned into log lines; returns its result and the lines."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = function()
    return result, _report(caught, log)


def _report(caught: list[warnings.WarningMessage], log: Callable[[str], None] | None) -> list[str]:
    lines = list(dict.fromkeys(f"{w.category.__name__}: {str(w.message).strip()[:300]}" for w in caught))
    if log is not None:
        for line in lines:
            log(line)
    return lines


def score(pipeline: Any, X: pd.DataFrame, y: pd.Series | None, kind: str, metric: str,
          positive_label: Any = None) -> float:
    """One metric of a fitted pipeline on ``X``; NaN when it cannot be computed on these rows."""
    if kind == "clustering":
        features = np.nan_to_num(model_input_frame(pipeline, X).to_numpy(dtype=np.float64, na_value=np.nan))
        return clustering_metrics(features, pipeline.predict(X)).get(metric, float("nan"))
    predicted = np.asarray(pipeline.predict(X))
    if kind == "regression":
        return regression_metrics(y, predicted).get(metric, float("nan"))
    scores, is_proba = (None, False)
    if metric in ("roc_auc", "pr_auc", "log_loss"):
        scores, is_proba = model_scores(pipeline, X)
        if metric == "log_loss" and not is_proba:
            raise InvalidInputError(
                "The metric 'log_loss' needs probabilities, which this model does not give.",
                hint="Optimise roc_auc or f1 instead.",
            )
    values, _ = classification_metrics(y, predicted, scores, np.asarray(pipeline.classes_), is_proba=is_proba,
                                       positive_label=positive_label)
    return values.get(metric, float("nan"))
