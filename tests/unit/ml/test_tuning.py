"""Hyperparameter search with Optuna (core.ml.tuning)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.ml.catalogue import get_algorithm
from core.ml.config import PreprocessConfig, SplitConfig, TuningConfig
from core.ml.preprocessing import resolve_preprocessing
from core.ml.problem import column_types
from core.ml.splits import cv_folds, split_rows
from core.ml.tuning import tune
from core.platform.errors import InvalidInputError, JobCancelledError, ResourceError
from core.platform.progress import Progress


def _setup(kind: str = "binary", n: int = 240):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.choice(["x", "y"], n)})
    score = X["a"] - 0.5 * X["b"] + rng.normal(0, 0.5, n)
    y = pd.Series(score if kind == "regression" else np.where(score > 0, "pos", "neg"))
    split = split_rows(X, y, kind, SplitConfig(seed=0))
    train = split.train
    folds = cv_folds(split, y, 3)
    return X.iloc[train], y.iloc[train], folds


def _run(key: str, config: TuningConfig, kind: str = "binary", callbacks: Progress | None = None, **kw):
    entry = get_algorithm(key)
    X, y, folds = _setup(kind)
    resolved, _ = resolve_preprocessing(PreprocessConfig(), entry.family, kind, entry.handles_missing)
    return tune(entry, X, y, kind, folds, column_types(X), resolved, config, callbacks=callbacks, **kw)


def test_tuning_finds_parameters_and_reports_every_trial():
    lines: list[str] = []
    fractions: list[float] = []
    result = _run("logistic_regression", TuningConfig(n_trials=8),
                  callbacks=Progress.of(lambda f, m=None: fractions.append(f), lines.append))
    assert result.metric == "roc_auc" and 0.5 < result.best_score <= 1.0
    assert set(result.best_params) == {"C"}
    assert len(result.trials) == 8 and {"trial", "status", "value", "param_C"} <= set(result.trials.columns)
    assert result.n_complete + result.n_pruned == 8
    assert len(lines) == 8 and lines[0].startswith("trial 1: roc_auc=")
    assert fractions[-1] == 1.0 and fractions == sorted(fractions)
    completed = result.trials[result.trials.status == "complete"]
    assert result.best_score == pytest.approx(completed["value"].max())
    result.to_dict()


def test_tuning_is_seeded():
    first = _run("decision_tree", TuningConfig(n_trials=6), seed=3)
    second = _run("decision_tree", TuningConfig(n_trials=6), seed=3)
    assert first.best_params == second.best_params
    assert first.trials["value"].tolist() == second.trials["value"].tolist()


def test_unpromising_trials_are_pruned():
    result = _run("decision_tree", TuningConfig(n_trials=25, cv_folds=3), seed=1)
    assert result.n_pruned > 0
    pruned = result.trials[result.trials.status == "pruned"]
    assert (pruned["folds_run"] < 3).all()
    assert pruned["note"].str.startswith("pruned after fold").all()


def test_regression_minimises_rmse_and_maps_hidden_parameters():
    result = _run("mlp", TuningConfig(n_trials=2, metric="r2"), kind="regression")
    assert result.metric == "r2"
    assert isinstance(result.best_params["hidden_layer_sizes"], tuple)
    rmse = _run("ridge", TuningConfig(n_trials=4), kind="regression")
    assert rmse.metric == "rmse"
    assert rmse.best_score == pytest.approx(rmse.trials["value"].min())


def test_nothing_to_tune_runs_a_single_trial():
    lines: list[str] = []
    result = _run("linear_regression", TuningConfig(n_trials=10), kind="regression",
                  callbacks=Progress.of(log=lines.append))
    assert len(result.trials) == 1 and result.best_params == {}
    assert lines[0] == "Linear regression has no hyperparameters to tune: one trial with the defaults."


def test_a_budget_too_small_for_one_fit_is_refused(monkeypatch):
    # Each fold is made slow on purpose (1.5 s against a 1 s budget), so the first fold always finishes
    # and the second never starts, on a fast machine or a loaded one: the wording does not depend on speed.
    import time

    from core.ml import tuning as tuning_module

    real_fit = tuning_module.fit_pipeline

    def slow_fit(*args, **kwargs):
        time.sleep(1.5)
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(tuning_module, "fit_pipeline", slow_fit)
    with pytest.raises(ResourceError, match=r"tuning budget of 1(\.0)? s is too small for one complete trial of "
                                            r"Random forest: one fold took \d+\.\d+ s"):
        _run("random_forest", TuningConfig(n_trials=None, timeout=1.0))


def test_failing_trials_and_bad_metrics():
    with pytest.raises(InvalidInputError, match="Every tuning trial of k-nearest neighbours failed; the first error"):
        _run("knn", TuningConfig(n_trials=2), base_params={"metric": "no-such-metric"})
    with pytest.raises(InvalidInputError, match="The metric 'rmse' does not apply to binary problems"):
        _run("knn", TuningConfig(n_trials=2, metric="rmse"))
    with pytest.raises(InvalidInputError, match="'log_loss' needs probabilities"):
        _run("linear_svm", TuningConfig(n_trials=1, metric="log_loss"))


def test_tuning_config_validation():
    with pytest.raises(InvalidInputError, match="Tuning needs a trial count, a time budget, or both"):
        TuningConfig(n_trials=None, timeout=None)
    with pytest.raises(InvalidInputError, match="Tuning needs at least one trial"):
        TuningConfig(n_trials=0)
    with pytest.raises(InvalidInputError, match="time budget must be a positive number of seconds"):
        TuningConfig(timeout=-1)


def test_cancel_stops_the_search():
    calls = {"n": 0}

    def check() -> None:
        calls["n"] += 1
        if calls["n"] > 4:
            raise JobCancelledError("Cancelled by the user.")

    with pytest.raises(JobCancelledError):
        _run("decision_tree", TuningConfig(n_trials=50), callbacks=Progress.of(check_cancelled=check))
