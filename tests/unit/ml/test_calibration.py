"""Calibration in the results: the Brier score with the metrics and a reliability curve for binary models."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as m

from core.ml.catalogue import get_algorithm
from core.ml.config import PreprocessConfig
from core.ml.evaluate import classification_curves, classification_metrics, evaluate
from core.ml.fitting import METRICS, check_metric, fit_pipeline, greater_is_better, make_pipeline, score
from core.ml.preprocessing import resolve_preprocessing
from core.ml.problem import column_types


def test_the_brier_score_is_a_metric_and_the_curve_carries_its_bins():
    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 4000)
    y = np.where(rng.uniform(0, 1, 4000) < p, "yes", "no")  # calibrated by construction
    proba = np.column_stack([1 - p, p])
    predicted = np.where(p >= 0.5, "yes", "no")
    metrics, _ = classification_metrics(y, predicted, proba, ["no", "yes"])
    assert metrics["brier"] == pytest.approx(m.brier_score_loss(y == "yes", p))
    curve = classification_curves(y, predicted, proba, ["no", "yes"])["calibration"]
    assert curve["brier"] == pytest.approx(metrics["brier"], abs=1e-6)
    assert len(curve["bin_low"]) == len(curve["predicted"]) == 10
    assert curve["bin_low"][0] == 0.0 and curve["bin_high"][-1] == 1.0
    assert np.allclose(curve["observed"], curve["predicted"], atol=0.06)  # near the diagonal
    for low, mean, high in zip(curve["bin_low"], curve["predicted"], curve["bin_high"], strict=True):
        assert low <= mean <= high


def test_a_model_without_probabilities_has_no_brier_score():
    y = np.array(["a", "b"] * 50)
    scores = np.linspace(-1, 1, 100)
    metrics, notes = classification_metrics(y, y, scores, ["a", "b"], is_proba=False)
    assert "brier" not in metrics and "roc_auc" in metrics


def test_evaluate_stores_brier_with_the_metrics_and_it_can_be_optimised():
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"x": rng.normal(size=400)})
    y = pd.Series(np.where(X["x"] + rng.normal(0, 0.5, 400) > 0, 1, 0))
    entry = get_algorithm("logistic_regression")
    resolved, _ = resolve_preprocessing(PreprocessConfig(), entry.family, "binary", entry.handles_missing)
    pipeline, weigh, _ = make_pipeline(entry, "binary", column_types(X), resolved, y=y)
    fit_pipeline(pipeline, X, y, weigh=weigh)
    result = evaluate(pipeline, X, y, "binary")
    assert 0 < result.metrics["brier"] < 0.25
    assert result.curves["calibration"]["brier"] == pytest.approx(result.metrics["brier"], abs=1e-6)
    assert "brier" in METRICS["binary"] and check_metric("brier", "binary") == "brier"
    assert not greater_is_better("brier")
    assert score(pipeline, X, y, "binary", "brier") == pytest.approx(result.metrics["brier"])
