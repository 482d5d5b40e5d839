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
from core.ml.catalogue import EARLY_STOPPING_ROWS, Algorithm
from core.ml.evaluate import (
    LOWER_IS_BETTER,
    classification_metrics,
    clustering_metrics,
    model_scores,
    regression_metrics,
)
from core.ml.preprocessing import ResolvedPreprocessing, build_pipeline, model_input_frame
from core.platform.errors import InvalidInputError

__all__ = ["DEFAULT_METRIC", "METRICS", "STOPPING_ROUNDS", "VALIDATION_SHARE", "check_metric", "fit_pipeline",
           "greater_is_better", "make_pipeline", "score"]

DEFAULT_METRIC = {ProblemKind.BINARY: "roc_auc", ProblemKind.MULTICLASS: "f1_macro", ProblemKind.REGRESSION: "rmse",
                  ProblemKind.CLUSTERING: "silhouette"}
METRICS = {
    ProblemKind.BINARY: ("accuracy", "balanced_accuracy", "precision", "recall", "f1", "f1_macro", "roc_auc",
                         "pr_auc", "log_loss", "brier"),
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
    estimator = entry.make(kind, params, seed=seed, n_jobs=n_jobs, use_gpu=use_gpu, balanced=balanced,
                           n_rows=None if y is None else len(y))
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
    log: Callable[[str], None] | None = None, early_stopping: bool = True, capture: bool = True,
) -> list[str]:
    """Fit in place; return (and log) the distinct warnings the libraries raised while fitting.

    ``capture=False`` leaves warnings to the caller and returns no lines: ``warnings.catch_warnings``
    swaps process-wide state, so fits running side by side on threads must not each open one (the
    caller opens one around them all).

    LightGBM and XGBoost stop early where they can (``early_stopping``, at least ``EARLY_STOPPING_ROWS``
    rows, no resampling step): preprocessing is fitted on every row, the booster on 90% of them while
    its loss on the other 10% (stratified for classifiers, seed 0) is watched, and it keeps the
    best round once ``STOPPING_ROUNDS`` rounds bring no gain.  Predictions use that round.
    """
    weights = None
    if weigh and y is not None:
        from sklearn.utils.class_weight import compute_sample_weight

        weights = compute_sample_weight("balanced", y)
    def fit() -> None:
        if early_stopping and _stops_early(pipeline, y):
            _fit_with_early_stopping(pipeline, X, y, weights)
        else:
            pipeline.fit(X, y, **({} if weights is None else {"model__sample_weight": weights}))

    if not capture:
        fit()
        return []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit()
    return _report(caught, log)


STOPPING_ROUNDS = 20
VALIDATION_SHARE = 0.1


def _booster_library(model: Any) -> str | None:
    """``"lightgbm"`` or ``"xgboost"`` when the final step is one of their boosters (XGBoost's classifier
    sits inside the label-encoding wrapper), else ``None``."""
    inner = getattr(model, "estimator", model)
    module = type(inner).__module__
    return next((lib for lib in ("lightgbm", "xgboost") if module.startswith(lib)), None)


def _stops_early(pipeline: Any, y: pd.Series | None) -> bool:
    model = pipeline.steps[-1][1]
    return (y is not None and len(y) >= EARLY_STOPPING_ROWS and _booster_library(model) is not None
            and "resample" not in pipeline.named_steps)


def _fit_with_early_stopping(pipeline: Any, X: pd.DataFrame, y: pd.Series, weights: np.ndarray | None) -> None:
    from sklearn.model_selection import train_test_split

    head, model = pipeline[:-1], pipeline.steps[-1][1]
    Xm = head.fit_transform(X, y)  # as Pipeline.fit does: fit_transform step by step
    positions = np.arange(len(y))
    stratify = None
    if hasattr(model, "classes_") or type(model).__name__.endswith("Classifier"):
        counts = y.value_counts()
        stratify = y.to_numpy() if len(counts) > 1 and counts.min() >= 2 else None
    try:
        fit_rows, held = train_test_split(positions, test_size=VALIDATION_SHARE, random_state=0, stratify=stratify)
    except ValueError:  # a class too rare to stratify on this split
        fit_rows, held = train_test_split(positions, test_size=VALIDATION_SHARE, random_state=0)
    fit_params: dict[str, Any] = {"eval_set": [(Xm.iloc[held], y.iloc[held])]}
    if weights is not None:
        fit_params["sample_weight"] = weights[fit_rows]
    if _booster_library(model) == "xgboost":
        _fit_xgboost_stopping(model, Xm.iloc[fit_rows], y.iloc[fit_rows], fit_params,
                              None if weights is None else weights[held])
        return
    import lightgbm

    fit_params["callbacks"] = [lightgbm.early_stopping(STOPPING_ROUNDS, first_metric_only=True, verbose=False)]
    if weights is not None:
        fit_params["eval_sample_weight"] = [weights[held]]
    model.fit(Xm.iloc[fit_rows], y.iloc[fit_rows], **fit_params)


def _fit_xgboost_stopping(model: Any, X: pd.DataFrame, y: pd.Series, fit_params: dict[str, Any],
                          held_weights: np.ndarray | None) -> None:
    # XGBoost takes the patience as a parameter, not a fit argument; it is set for this fit only, so a
    # later plain refit (or the saved model) never asks for a validation set.  Predictions keep using
    # the best round: it is stored in the booster itself.
    template = getattr(model, "estimator", model)
    template.set_params(early_stopping_rounds=STOPPING_ROUNDS)
    if held_weights is not None:
        fit_params["sample_weight_eval_set"] = [held_weights]
    try:
        model.fit(X, y, verbose=False, **fit_params)
    finally:
        template.set_params(early_stopping_rounds=None)
        getattr(model, "estimator_", model).set_params(early_stopping_rounds=None)


def quietly(function: Callable[[], Any], log: Callable[[str], None] | None = None) -> tuple[Any, list[str]]:
    """Call ``function()`` with warnings turned into log lines; returns its result and the lines."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = function()
    return result, _report(caught, log)


def _report(caught: list[warnings.WarningMessage], log: Callable[[str], None] | None) -> list[str]:
    # A library's deprecation notes (LightGBM 4.7 deprecates ``eval_set``, whose replacement does not
    # label-encode string classes yet) are for us, not for the person training: they stay out of the log.
    lines = list(dict.fromkeys(f"{w.category.__name__}: {str(w.message).strip()[:300]}" for w in caught
                               if not _is_deprecation(w.category)))
    if log is not None:
        for line in lines:
            log(line)
    return lines


def _is_deprecation(category: type[Warning]) -> bool:
    return issubclass(category, DeprecationWarning | PendingDeprecationWarning) or \
        category.__name__.endswith("DeprecationWarning")


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
    if metric in ("roc_auc", "pr_auc", "log_loss", "brier"):
        scores, is_proba = model_scores(pipeline, X)
        if metric in ("log_loss", "brier") and not is_proba:
            raise InvalidInputError(
                f"The metric {metric!r} needs probabilities, which this model does not give.",
                hint="Optimise roc_auc or f1 instead.",
            )
    values, _ = classification_metrics(y, predicted, scores, np.asarray(pipeline.classes_), is_proba=is_proba,
                                       positive_label=positive_label)
    return values.get(metric, float("nan"))
