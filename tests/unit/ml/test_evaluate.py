"""Metrics and curves (core.ml.evaluate), checked against scikit-learn's own functions."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as m

from core.ml.evaluate import (
    classification_curves,
    classification_metrics,
    clustering_curves,
    clustering_metrics,
    evaluate,
    regression_curves,
    regression_metrics,
)


def _binary(n: int = 500, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = rng.choice(["neg", "pos"], n, p=[0.7, 0.3])
    p_pos = np.clip(np.where(y == "pos", 0.65, 0.35) + rng.normal(0, 0.2, n), 0.001, 0.999)
    proba = np.column_stack([1 - p_pos, p_pos])
    predicted = np.where(p_pos >= 0.5, "pos", "neg")
    return y, predicted, proba


def test_binary_metrics_match_sklearn():
    y, predicted, proba = _binary()
    got, notes = classification_metrics(y, predicted, proba, ["neg", "pos"])
    truth = y == "pos"
    expected = {
        "accuracy": m.accuracy_score(y, predicted),
        "balanced_accuracy": m.balanced_accuracy_score(y, predicted),
        "precision": m.precision_score(y, predicted, pos_label="pos"),
        "recall": m.recall_score(y, predicted, pos_label="pos"),
        "f1": m.f1_score(y, predicted, pos_label="pos"),
        "f1_macro": m.f1_score(y, predicted, average="macro"),
        "roc_auc": m.roc_auc_score(truth, proba[:, 1]),
        "pr_auc": m.average_precision_score(truth, proba[:, 1]),
        "log_loss": m.log_loss(y, proba, labels=["neg", "pos"]),
        "brier": m.brier_score_loss(truth, proba[:, 1]),
    }
    assert got == pytest.approx(expected)
    assert notes == []
    assert all(type(v) is float for v in got.values())


def test_binary_positive_label_can_be_the_first_class():
    y, predicted, proba = _binary()
    got, _ = classification_metrics(y, predicted, proba, ["neg", "pos"], positive_label="neg")
    assert got["recall"] == pytest.approx(m.recall_score(y, predicted, pos_label="neg"))
    assert got["roc_auc"] == pytest.approx(m.roc_auc_score(y == "neg", proba[:, 0]))


def test_multiclass_metrics_match_sklearn():
    rng = np.random.default_rng(1)
    classes = np.array([0, 1, 2])
    y = rng.choice(classes, 400)
    logits = rng.normal(size=(400, 3)) + 1.5 * np.eye(3)[y]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    predicted = classes[proba.argmax(axis=1)]
    got, _ = classification_metrics(y, predicted, proba, classes)
    for avg in ("macro", "weighted"):
        assert got[f"precision_{avg}"] == pytest.approx(m.precision_score(y, predicted, average=avg))
        assert got[f"recall_{avg}"] == pytest.approx(m.recall_score(y, predicted, average=avg))
        assert got[f"f1_{avg}"] == pytest.approx(m.f1_score(y, predicted, average=avg))
    assert got["roc_auc"] == pytest.approx(m.roc_auc_score(y, proba, multi_class="ovr", average="macro"))
    onehot = np.eye(3)[y]
    assert got["pr_auc"] == pytest.approx(m.average_precision_score(onehot, proba, average="macro"))
    assert got["log_loss"] == pytest.approx(m.log_loss(y, proba))
    assert "precision" not in got and "f1" not in got


def test_decision_scores_skip_probability_metrics_with_a_note():
    y, predicted, proba = _binary()
    scores = np.log(proba[:, 1] / proba[:, 0])
    got, notes = classification_metrics(y, predicted, scores, ["neg", "pos"], is_proba=False)
    assert got["roc_auc"] == pytest.approx(m.roc_auc_score(y == "pos", proba[:, 1]))
    assert "log_loss" not in got
    assert notes == ["The model gives scores, not probabilities: log-loss and calibration are skipped."]
    curves = classification_curves(y, predicted, scores, ["neg", "pos"], is_proba=False)
    assert "calibration" not in curves and len(curves["thresholds"]) == 19


def test_regression_metrics_match_sklearn():
    rng = np.random.default_rng(2)
    y = rng.uniform(1, 10, 200)
    predicted = y + rng.normal(0, 1, 200)
    got = regression_metrics(y, predicted)
    assert got == pytest.approx({
        "rmse": m.root_mean_squared_error(y, predicted), "mae": m.mean_absolute_error(y, predicted),
        "r2": m.r2_score(y, predicted), "mape": m.mean_absolute_percentage_error(y, predicted),
    })


def test_clustering_metrics_match_sklearn_and_cap_silhouette():
    rng = np.random.default_rng(3)
    X = np.vstack([rng.normal(0, 1, (150, 2)), rng.normal(6, 1, (150, 2))])
    labels = np.repeat([0, 1], 150)
    got = clustering_metrics(X, labels)
    assert got["silhouette"] == pytest.approx(m.silhouette_score(X, labels))
    assert got["davies_bouldin"] == pytest.approx(m.davies_bouldin_score(X, labels))
    assert got["calinski_harabasz"] == pytest.approx(m.calinski_harabasz_score(X, labels))
    assert got["n_clusters"] == 2.0 and got["noise_fraction"] == 0.0
    capped = clustering_metrics(X, labels, max_rows=100)
    assert capped["silhouette"] == pytest.approx(m.silhouette_score(X, labels, sample_size=100, random_state=0))
    assert "silhouette" not in clustering_metrics(X, np.zeros(300, dtype=int))


def test_confusion_matrix_by_hand():
    curves = classification_curves(["a", "a", "b", "b", "b"], ["a", "b", "b", "b", "a"], None, ["a", "b"])
    cm = curves["confusion_matrix"]
    assert cm == {"labels": ["a", "b"], "counts": [[1, 1], [1, 2]],
                  "normalized": [[0.5, 0.5], [round(1 / 3, 6), round(2 / 3, 6)]]}


def test_binary_curves_are_thinned_and_json_able():
    y, predicted, proba = _binary(3000)
    curves = classification_curves(y, predicted, proba, ["neg", "pos"])
    roc = curves["roc"]["pos"]
    assert len(roc["fpr"]) <= 200 and roc["fpr"][0] == 0.0 and roc["tpr"][-1] == 1.0
    assert roc["auc"] == pytest.approx(m.roc_auc_score(y == "pos", proba[:, 1]))
    pr = curves["pr"]["pos"]
    assert len(pr["precision"]) <= 200 and pr["thresholds"][-1] is None
    table = curves["thresholds"]
    half = next(row for row in table if row["threshold"] == 0.5)
    assert half["precision"] == pytest.approx(m.precision_score(y, predicted, pos_label="pos"))
    assert half["recall"] == pytest.approx(m.recall_score(y, predicted, pos_label="pos"))
    calibration = curves["calibration"]
    assert sum(calibration["count"]) == 3000
    assert curves["positive_label"] == "pos"
    json.dumps(curves, allow_nan=False)


def test_the_curves_areas_are_the_metrics_and_scikit_learns_with_ties_and_both_label_kinds():
    """Binary (keyed by the label) and multiclass (keyed by its text) metrics take their areas off the curves;
    the areas equal scikit-learn's own scores exactly, tied scores included."""
    rng = np.random.default_rng(8)
    y = rng.choice([0, 1], 2000)
    proba1 = np.round(np.clip(rng.normal(0.3 + 0.4 * y, 0.25), 0, 1), 2)  # rounded: many tied scores
    proba = np.column_stack([1 - proba1, proba1])
    predicted = (proba1 >= 0.5).astype(int)
    curves = classification_curves(y, predicted, proba, [0, 1])
    assert curves["roc"][1]["auc"] == m.roc_auc_score(y, proba1)
    assert curves["pr"][1]["average_precision"] == m.average_precision_score(y, proba1)
    with_curves, _ = classification_metrics(y, predicted, proba, [0, 1], curves=curves)
    assert with_curves == classification_metrics(y, predicted, proba, [0, 1])[0]
    labels = rng.choice([1, 2, 3], 600)
    scores = rng.dirichlet([1, 1, 1], 600)
    guessed = np.array([1, 2, 3])[scores.argmax(1)]
    drawn = classification_curves(labels, guessed, scores, [1, 2, 3])
    assert set(drawn["roc"]) == {"1", "2", "3"}
    assert classification_metrics(labels, guessed, scores, [1, 2, 3], curves=drawn)[0] == \
        classification_metrics(labels, guessed, scores, [1, 2, 3])[0]


def test_multiclass_curves_one_vs_rest():
    rng = np.random.default_rng(4)
    y = rng.choice(["a", "b", "c"], 300)
    proba = rng.dirichlet([1, 1, 1], 300)
    curves = classification_curves(y, np.array(["a", "b", "c"])[proba.argmax(1)], proba, ["a", "b", "c"])
    assert set(curves["roc"]) == {"a", "b", "c"} and set(curves["pr"]) == {"a", "b", "c"}
    json.dumps(curves, allow_nan=False)


def test_regression_and_clustering_curves_are_sampled():
    rng = np.random.default_rng(5)
    y = rng.normal(size=5000)
    curves = regression_curves(y, y + 0.1)
    assert len(curves["scatter"]["actual"]) == 2000 and curves["n_total"] == 5000
    assert curves["scatter"]["residual"][0] == pytest.approx(-0.1)
    X = rng.normal(size=(3000, 4))
    labels = rng.integers(0, 3, 3000)
    cluster = clustering_curves(X, labels)
    assert sum(cluster["cluster_sizes"].values()) == 3000
    assert len(cluster["projection"]["x"]) == 2000
    json.dumps([curves, cluster], allow_nan=False)


def test_evaluate_a_fitted_pipeline():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    rng = np.random.default_rng(6)
    X = pd.DataFrame({"a": rng.normal(size=200)})
    y = pd.Series(np.where(X["a"] + rng.normal(0, 0.5, 200) > 0, "yes", "no"))
    model = make_pipeline(LogisticRegression()).fit(X, y)
    evaluation = evaluate(model, X, y, "binary")
    assert evaluation.metrics["accuracy"] == pytest.approx(model.score(X, y))
    assert evaluation.curves["positive_label"] == "yes"


@pytest.mark.parametrize("estimator", ["lightgbm", "random_forest", "svc", "knn"])
def test_evaluate_agrees_with_the_pipelines_own_predict(estimator):
    """Predictions taken from the probabilities (where the library defines them so) or from predict."""
    from core.ml.catalogue import get_algorithm
    from core.ml.config import PreprocessConfig
    from core.ml.fitting import fit_pipeline, make_pipeline
    from core.ml.preprocessing import resolve_preprocessing

    rng = np.random.default_rng(3)
    X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.choice(["u", "v", "w"], 300)})
    y = pd.Series(np.where(X["a"] + (X["b"] == "u") + rng.normal(0, 0.8, 300) > 0.5, "yes", "no"))
    entry = get_algorithm(estimator)
    resolved, _ = resolve_preprocessing(PreprocessConfig(), entry.family, "binary", entry.handles_missing)
    types = {"a": "numeric", "b": "categorical"}
    params = {"probability": True} if estimator == "svc" else {}
    pipeline, weigh, _ = make_pipeline(entry, "binary", types, resolved, params, y=y)
    fit_pipeline(pipeline, X, y, weigh=weigh)
    evaluation = evaluate(pipeline, X, y, "binary")
    expected = m.confusion_matrix(y, pipeline.predict(X), labels=["no", "yes"]).tolist()
    assert evaluation.curves["confusion_matrix"]["counts"] == expected
