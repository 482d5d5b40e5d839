"""Importances and SHAP contributions per input column (core.ml.explain)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.ml.catalogue import get_algorithm
from core.ml.config import PreprocessConfig
from core.ml.explain import (
    BASE_COLUMN,
    CLASS_COLUMN,
    explain_rows,
    feature_importances,
    shap_summary,
    top_contributions,
)
from core.ml.fitting import fit_pipeline, make_pipeline
from core.ml.preprocessing import model_input_frame, resolve_preprocessing
from core.ml.problem import column_types
from core.platform.errors import InvalidInputError


def _data(kind: str, n: int = 300, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """'signal' drives the target, 'colour' a little, 'noise' not at all."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "signal": rng.normal(size=n),
        "colour: hue": rng.choice(["red", "green", "blue"], n),
        "noise": rng.normal(size=n),
    })
    X.loc[[3, 8], "signal"] = np.nan
    score = 2 * np.nan_to_num(X["signal"].to_numpy()) + 0.5 * (X["colour: hue"] == "red") + rng.normal(0, 0.3, n)
    if kind == "regression":
        return X, pd.Series(score, name="y")
    if kind == "binary":
        return X, pd.Series(np.where(score > 0, "yes", "no"), name="y")
    return X, pd.Series(np.array(["a", "b", "c"])[np.digitize(score, [-1, 1])], name="y")


def _fit(key: str, kind: str):
    entry = get_algorithm(key)
    X, y = _data(kind)
    resolved, _ = resolve_preprocessing(PreprocessConfig(), entry.family, kind, entry.handles_missing)
    pipeline, weigh, _ = make_pipeline(entry, kind, column_types(X), resolved, {"n_estimators": 30}
                                       if key in ("lightgbm", "xgboost", "random_forest") else None, y=y)
    fit_pipeline(pipeline, X, y, weigh=weigh)
    return pipeline, X, y


def _raw_output(pipeline, X: pd.DataFrame, key: str, kind: str) -> np.ndarray:
    """The model's own raw output, in the units SHAP explains."""
    model = pipeline.steps[-1][1]
    Xm = model_input_frame(pipeline, X)
    if key == "lightgbm":
        return model.predict(Xm, raw_score=True)
    if key == "xgboost":
        inner = model.estimator_ if kind != "regression" else model
        return inner.predict(Xm, output_margin=True)
    if key == "logistic_regression":
        return model.decision_function(Xm)
    if kind == "binary":
        return model.predict_proba(Xm)[:, 1]
    return model.predict(Xm)


@pytest.mark.parametrize(("key", "kind"), [
    ("lightgbm", "binary"), ("xgboost", "binary"), ("random_forest", "regression"), ("ridge", "regression"),
    ("logistic_regression", "binary"), ("hist_gradient_boosting", "regression"), ("knn", "regression"),
    ("mlp", "binary"),
])
def test_contributions_add_up_to_the_model_output(key, kind):
    pipeline, X, _ = _fit(key, kind)
    rows = X.head(8)
    contributions = explain_rows(pipeline, rows)
    assert list(contributions.index) == list(rows.index)
    features = ["signal", "colour: hue", "noise"]
    assert list(contributions.columns[:3]) == features
    total = contributions[features].sum(axis=1) + contributions[BASE_COLUMN]
    np.testing.assert_allclose(total, _raw_output(pipeline, rows, key, kind), rtol=1e-4, atol=1e-4)
    if kind == "binary":
        assert (contributions[CLASS_COLUMN] == "yes").all()


def test_multiclass_rows_explain_their_predicted_class():
    pipeline, X, _ = _fit("xgboost", "multiclass")
    rows = X.head(6)
    contributions = explain_rows(pipeline, rows)
    predicted = pipeline.predict(rows)
    assert contributions[CLASS_COLUMN].tolist() == predicted.tolist()
    margins = pipeline.steps[-1][1].estimator_.predict(model_input_frame(pipeline, rows), output_margin=True)
    which = np.searchsorted(pipeline.classes_, predicted)
    total = contributions[["signal", "colour: hue", "noise"]].sum(axis=1) + contributions[BASE_COLUMN]
    np.testing.assert_allclose(total, margins[np.arange(6), which], rtol=1e-4, atol=1e-4)


def test_top_contributions():
    contributions = pd.DataFrame({"a": [0.1, -3.0], "b": [2.0, 0.5], "c": [-0.5, 0.0], BASE_COLUMN: [9.0, 9.0]})
    top = top_contributions(contributions, n=2)
    assert top.to_dict("records") == [
        {"feature_1": "b", "contribution_1": 2.0, "feature_2": "c", "contribution_2": -0.5},
        {"feature_1": "a", "contribution_1": -3.0, "feature_2": "b", "contribution_2": 0.5},
    ]


@pytest.mark.parametrize(("key", "method"), [("lightgbm", "native"), ("logistic_regression", "native"),
                                             ("knn", "permutation")])
def test_importances_speak_input_column_names(key, method):
    pipeline, X, y = _fit(key, "binary")
    importances, used = feature_importances(pipeline, X, y, "binary", max_rows=200)
    assert used == method
    assert list(importances)[0] == "signal"
    assert set(importances) == {"signal", "colour: hue", "noise"}
    assert sum(importances.values()) == pytest.approx(1.0)


@pytest.mark.parametrize(("key", "method"), [
    ("lightgbm", "lightgbm native contributions"), ("xgboost", "xgboost native contributions"),
    ("random_forest", "shap TreeExplainer"), ("logistic_regression", "linear (coef × centred value)"),
    ("svc", "permutation SHAP (4 antithetic passes)"),
])
def test_shap_summary_ranks_the_signal_first(key, method):
    pipeline, X, _ = _fit(key, "multiclass")
    summary = shap_summary(pipeline, X, "multiclass", max_rows=120)
    assert summary.method == method
    assert list(summary.mean_abs)[0] == "signal"
    assert summary.n_rows == (50 if method.startswith("permutation") else 120)
    assert summary.to_dict()["mean_abs"]["signal"] > 0


def test_clustering_has_no_shap_summary():
    entry = get_algorithm("kmeans")
    X, _ = _data("regression")
    resolved, _ = resolve_preprocessing(PreprocessConfig(), entry.family, "clustering")
    pipeline, _, _ = make_pipeline(entry, "clustering", column_types(X), resolved)
    pipeline.fit(X)
    assert shap_summary(pipeline, X, "clustering").method == "none (clustering)"
    assert feature_importances(pipeline, X, None, "clustering") == ({}, "none")
    with pytest.raises(InvalidInputError, match="Per-row explanations are for classification and regression models"):
        explain_rows(pipeline, X.head(2))
