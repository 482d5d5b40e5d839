"""The scorer builds the model's input once and answers exactly as the pipeline's own predict / predict_proba."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.ml.catalogue import get_algorithm
from core.ml.config import PreprocessConfig
from core.ml.explain import explain_rows
from core.ml.fitting import fit_pipeline, make_pipeline
from core.ml.preprocessing import model_input_frame, resolve_preprocessing
from core.ml.problem import column_types
from core.serve.scoring import Scorer, scorer_for


def _data(kind: str, n: int = 300, seed: int = 0) -> tuple[pd.DataFrame, pd.Series | None]:
    """Numbers with gaps, text and integer categories (one with gaps), true/false and dates."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "signal": rng.normal(size=n),
        "colour": rng.choice(np.array(["red", "green", "blue", None], dtype=object), n),
        "zone": rng.choice([1, 2, 3], n).astype(object),
        "count": rng.integers(0, 5, n),
        "flag": rng.random(n) < 0.5,
        "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D"),
    })
    X.loc[[3, 8], "signal"] = np.nan
    score = 2 * np.nan_to_num(X["signal"].to_numpy()) + 0.5 * (X["colour"] == "red") + rng.normal(0, 0.3, n)
    if kind == "regression":
        return X, pd.Series(score, name="y")
    if kind == "binary":
        return X, pd.Series(np.where(score > 0, "yes", "no"), name="y")
    if kind == "multiclass":
        return X, pd.Series(np.array(["a", "b", "c"])[np.digitize(score, [-1, 1])], name="y")
    return X, None


def _fit(key: str, kind: str, **preprocess):
    entry = get_algorithm(key)
    X, y = _data(kind)
    resolved, _ = resolve_preprocessing(PreprocessConfig(**preprocess), entry.family, kind, entry.handles_missing)
    params = {"n_estimators": 20} if key in ("lightgbm", "xgboost", "random_forest") else None
    pipeline, weigh, _ = make_pipeline(entry, kind, column_types(X), resolved, params, y=y)
    fit_pipeline(pipeline, X, y, weigh=weigh)
    return pipeline


def _new_rows() -> pd.DataFrame:
    rows, _ = _data("binary", 200, seed=1)
    rows.loc[5, "colour"] = "purple"  # never seen in training
    rows.loc[6, "signal"] = np.inf
    rows.loc[7, "zone"] = np.nan
    return rows


CASES = [
    ("lightgbm", "binary", {}), ("lightgbm", "multiclass", {}), ("lightgbm", "regression", {}),
    ("xgboost", "multiclass", {}), ("random_forest", "binary", {"selection": "variance"}),
    ("hist_gradient_boosting", "regression", {}), ("decision_tree", "binary", {"imbalance": "oversample"}),
    ("logistic_regression", "multiclass", {"datetime": "expand"}), ("ridge", "regression", {"encoding": "target"}),
    ("kmeans", "clustering", {}),
]


@pytest.mark.parametrize(("key", "kind", "preprocess"), CASES)
def test_scores_equal_the_pipelines_own_predict_and_predict_proba(key, kind, preprocess):
    pipeline = _fit(key, kind, **preprocess)
    rows = _new_rows()
    scorer = Scorer(pipeline, kind)
    model_input = scorer.model_input(rows)
    expected_input = model_input_frame(pipeline, rows)
    assert list(model_input.columns) == list(expected_input.columns)
    assert np.array_equal(model_input.to_numpy(np.float64), expected_input.to_numpy(np.float64), equal_nan=True)
    for _ in range(2):  # the second time from the remembered category rows
        scores = scorer.score(rows)
        assert np.array_equal(scores.prediction, pipeline.predict(rows))
        if kind in ("binary", "multiclass"):
            assert np.array_equal(scores.proba, pipeline.predict_proba(rows))
        else:
            assert scores.proba is None


def test_tree_models_are_built_block_by_block_and_linear_ones_by_their_own_steps():
    assert [b.how for b in Scorer(_fit("lightgbm", "binary"), "binary")._blocks] == \
        ["cast", "values", "values", "values", "whole"]
    assert Scorer(_fit("logistic_regression", "binary"), "binary")._blocks is None  # BLAS order: see the module


def test_one_row_on_one_thread_scores_as_the_batch_does():
    pipeline = _fit("lightgbm", "multiclass")
    rows = _new_rows()
    scorer = Scorer(pipeline, "multiclass")
    batch = scorer.score(rows)
    for i in (0, 5, 7):
        one = scorer.score(rows.iloc[[i]], threads=1)
        assert one.prediction[0] == batch.prediction[i] and np.array_equal(one.proba[0], batch.proba[i])


def test_a_category_column_of_mixed_types_goes_through_the_cleaner_whole():
    # 1, 1.0 and True are one value to pd.factorize but "1", "1.0" and "True" to CategoryCleaner.
    X = pd.DataFrame({"tag": np.array([1, "1", True, 1.0, "x", None] * 20, dtype=object),
                      "v": np.arange(120, dtype=float)})
    y = pd.Series(np.arange(120) % 2)
    entry = get_algorithm("lightgbm")
    resolved, _ = resolve_preprocessing(PreprocessConfig(), entry.family, "binary", entry.handles_missing)
    pipeline, weigh, _ = make_pipeline(entry, "binary", {"tag": "categorical", "v": "numeric"}, resolved,
                                       {"n_estimators": 5, "min_child_samples": 2}, y=y)
    fit_pipeline(pipeline, X, y, weigh=weigh)
    rows = X.iloc[::-1].reset_index(drop=True)
    expected = model_input_frame(pipeline, rows).to_numpy(np.float64)
    assert np.array_equal(Scorer(pipeline, "binary").model_input(rows).to_numpy(np.float64), expected, equal_nan=True)
    assert len(np.unique(expected[:, 1])) > 3  # the cleaner told the mixed values apart


@pytest.mark.parametrize(("key", "kind"), [("lightgbm", "binary"), ("lightgbm", "multiclass"),
                                           ("lightgbm", "regression"), ("random_forest", "regression")])
def test_contributions_equal_explain_rows(key, kind):
    pipeline = _fit(key, kind)
    rows = _new_rows().iloc[:40]
    scorer = Scorer(pipeline, kind)
    ours = scorer.contributions(rows, scorer.score(rows))
    pd.testing.assert_frame_equal(ours, explain_rows(pipeline, rows), check_exact=True)


def test_the_scorer_is_kept_per_pipeline():
    pipeline = _fit("lightgbm", "binary")
    assert scorer_for(pipeline, "binary") is scorer_for(pipeline, "binary")
    assert scorer_for(_fit("lightgbm", "binary"), "binary") is not scorer_for(pipeline, "binary")
