"""The algorithm catalogue: every entry fits and predicts on a tiny mixed frame of each of its kinds."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.ml.catalogue import ALGORITHMS, algorithms_for, get_algorithm
from core.ml.config import PreprocessConfig
from core.ml.fitting import fit_pipeline, make_pipeline
from core.ml.preprocessing import resolve_preprocessing
from core.ml.problem import column_types
from core.platform.errors import InvalidInputError

CASES = [(key, kind) for key, entry in ALGORITHMS.items() for kind in sorted(entry.kinds)]


def tiny_frame(kind: str, n: int = 60, seed: int = 0) -> tuple[pd.DataFrame, pd.Series | None]:
    """Numbers with gaps, categories with gaps, a boolean: the kind of mess real tables have."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    df = pd.DataFrame({
        "x": x,
        "count": rng.integers(0, 10, n).astype(float),
        "colour": rng.choice(["red", "green", "blue"], n).astype(object),
        "flag": rng.choice([True, False], n),
    })
    df.loc[[1, 7, 13], "x"] = np.nan
    df.loc[[2, 9], "colour"] = None
    if kind == "clustering":
        return df, None
    if kind == "regression":
        return df, pd.Series(3 * np.nan_to_num(x) + rng.normal(0, 0.1, n), name="y")
    labels = np.array(["low", "high"]) if kind == "binary" else np.array(["a", "b", "c"])
    codes = np.digitize(np.nan_to_num(x), [0.0] if kind == "binary" else [-0.4, 0.4])
    return df, pd.Series(labels[codes], name="y")


def test_catalogue_has_the_required_entries():
    classification = {"logistic_regression", "linear_svm", "svc", "knn", "naive_bayes", "decision_tree",
                      "random_forest", "extra_trees", "hist_gradient_boosting", "xgboost", "lightgbm", "mlp"}
    regression = {"linear_regression", "ridge", "lasso", "elastic_net", "svr", "knn", "decision_tree",
                  "random_forest", "extra_trees", "hist_gradient_boosting", "xgboost", "lightgbm", "mlp"}
    clustering = {"kmeans", "minibatch_kmeans", "dbscan", "agglomerative", "gaussian_mixture"}
    assert {a.key for a in algorithms_for("binary")} == classification
    assert {a.key for a in algorithms_for("multiclass")} == classification
    assert {a.key for a in algorithms_for("regression")} == regression
    assert {a.key for a in algorithms_for("clustering")} == clustering
    json.dumps([a.to_dict() for a in ALGORITHMS.values()])


@pytest.mark.parametrize(("key", "kind"), CASES, ids=[f"{k}-{kind}" for k, kind in CASES])
def test_every_entry_fits_and_predicts_on_a_tiny_mixed_frame(key, kind):
    entry = get_algorithm(key)
    X, y = tiny_frame(kind)
    resolved, _ = resolve_preprocessing(PreprocessConfig(), entry.family, kind, entry.handles_missing)
    pipeline, weigh, _ = make_pipeline(entry, kind, column_types(X), resolved, y=y)
    fit_pipeline(pipeline, X, y, weigh=weigh)
    predicted = pipeline.predict(X.tail(10))
    assert len(predicted) == 10
    if kind == "regression":
        assert np.isfinite(predicted).all()
    elif kind == "clustering":
        assert np.issubdtype(np.asarray(predicted).dtype, np.integer)
    else:
        assert set(predicted) <= set(y)
        assert list(pipeline.classes_) == sorted(set(y))


@pytest.mark.parametrize("key", sorted(ALGORITHMS))
def test_search_space_gives_valid_parameters(key):
    import optuna

    entry = get_algorithm(key)
    for kind in entry.kinds:
        study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
        params = entry.search_space(study.ask(), kind)
        estimator = entry.make(kind, params)  # unknown names would raise here
        assert estimator is not None


def test_make_sets_seed_jobs_gpu_and_class_weight():
    forest = get_algorithm("random_forest").make("binary", seed=7, n_jobs=2, balanced=True)
    assert (forest.random_state, forest.n_jobs, forest.class_weight) == (7, 2, "balanced")
    assert type(get_algorithm("random_forest").make("regression")).__name__ == "RandomForestRegressor"
    xgb = get_algorithm("xgboost").make("regression", use_gpu=True)
    assert xgb.get_params()["device"] == "cuda"
    assert get_algorithm("xgboost").make("regression").get_params().get("device") in (None, "cpu")
    lgbm = get_algorithm("lightgbm").make("binary", use_gpu=True)
    assert lgbm.get_params()["device_type"] == "gpu"
    assert "device_type" not in get_algorithm("lightgbm").make("binary").get_params()
    assert get_algorithm("knn").make("binary", use_gpu=True).get_params()["n_jobs"] == 2
    assert get_algorithm("logistic_regression").make("binary").get_params()["n_jobs"] is None


def test_catalogue_errors_list_the_choices():
    with pytest.raises(InvalidInputError, match=r"Unknown algorithm 'catboost'\. Valid algorithms: .*lightgbm"):
        get_algorithm("catboost")
    with pytest.raises(InvalidInputError, match="Support vector regression .* does not do binary problems") as e:
        get_algorithm("svr").make("binary")
    assert "svc" in e.value.hint
    with pytest.raises(InvalidInputError, match="Random forest .* has no parameter 'trees'"):
        get_algorithm("random_forest").make("binary", {"trees": 5})


def test_default_picks_start_with_a_linear_baseline_then_trees():
    from core.ml.catalogue import default_algorithms

    assert default_algorithms("binary") == ["logistic_regression", "random_forest", "lightgbm"]
    assert default_algorithms("regression") == ["ridge", "random_forest", "lightgbm"]
    assert default_algorithms("clustering") == ["kmeans"]
    assert default_algorithms("multiclass", n=1) == ["logistic_regression"]
