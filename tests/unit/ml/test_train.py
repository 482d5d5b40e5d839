"""The end-to-end entry points (core.ml.train): train_candidate, train_many, prepare_data."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from core.ml.config import PreprocessConfig, SplitConfig, TrainConfig, TuningConfig
from core.ml.prepared import prepare_data
from core.ml.serialize import load_model
from core.ml.train import train_candidate, train_many
from core.platform.errors import InvalidInputError, JobCancelledError

FAST = {"n_estimators": 20}


def _frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "customer": rng.integers(0, 40, n),
        "signup": pd.date_range("2023-01-01", periods=n, freq="D"),
        "age": rng.normal(40, 10, n).round(),
        "plan: tier": rng.choice(["basic", "pro", "team"], n).astype(object),
        "active": rng.choice([True, False], n),
    })
    df.loc[[4, 9, 30], "age"] = np.nan
    df.loc[[5, 40], "plan: tier"] = None
    score = (df["age"].fillna(40) - 40) / 10 + (df["plan: tier"] == "pro") + rng.normal(0, 0.5, n)
    df["churn"] = np.where(score > 0.3, "yes", "no")
    df["spend"] = 50 + 10 * score
    df["segment"] = np.array(["a", "b", "c"])[np.digitize(score, [-0.5, 0.7])]
    return df


# "spend" and "segment" are other targets derived from the same score: never features of one another.
ROLES = {"customer": "id", "signup": "datetime", "spend": "ignore", "segment": "ignore"}


def test_binary_run_returns_everything_the_wiring_needs():
    df = _frame()
    progress: list[tuple[float, str | None]] = []
    lines: list[str] = []
    result = train_candidate(
        df, TrainConfig(algorithm="lightgbm", target="churn", roles=ROLES, params=FAST, split=SplitConfig(cv_folds=3)),
        progress=lambda f, m=None: progress.append((f, m)), log=lines.append,
    )
    assert result.ok and result.kind == "binary"
    assert result.problem.reason == "2 distinct text values → binary"
    assert result.features == ["age", "plan: tier", "active"]
    assert result.classes == ["no", "yes"]
    assert {"accuracy", "f1", "f1_macro", "roc_auc", "pr_auc", "log_loss"} <= set(result.metrics)
    assert set(result.cv["roc_auc"]) == {"mean", "std", "folds"} and len(result.cv["roc_auc"]["folds"]) == 3
    assert {"confusion_matrix", "roc", "pr", "calibration", "thresholds"} <= set(result.curves)
    assert set(result.importances) == set(result.features) and result.importance_method == "native"
    assert result.shap.method == "lightgbm native contributions" and set(result.shap.mean_abs) == set(result.features)
    assert {"train_seconds", "predict_seconds_per_1000", "cv_seconds", "total_seconds"} <= set(result.timings)
    assert result.model_size_bytes == len(result.model_bytes) > 0
    assert result.split == {"kind": "stratified", "test_size": 0.2, "seed": 0, "n_train": 160, "n_test": 40,
                            "cv_folds": 3, "time_column": None, "group_column": None}
    assert result.train_frame.shape == (160, 3) and list(result.train_frame.columns) == result.features
    card = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert card["metrics"] == result.metrics and card["config"]["algorithm"] == "lightgbm"
    fractions = [f for f, _ in progress]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and all(0 <= f <= 1 for f in fractions)
    loaded = load_model(result.model_bytes, result.model_sha256)
    raw = df.drop(columns=["churn", "spend", "segment"]).head(7)  # raw rows, original names, extra columns
    assert loaded.predict(raw).tolist() == result.pipeline.predict(raw).tolist()


def test_training_never_mutates_the_input():
    df = _frame()
    before = df.copy(deep=True)
    train_candidate(df, TrainConfig(algorithm="logistic_regression", target="churn", roles=ROLES,
                                    preprocessing=PreprocessConfig(imbalance="smote", selection="kbest")))
    train_candidate(df, TrainConfig(algorithm="kmeans", roles=ROLES, features=["age", "plan: tier"]))
    pd.testing.assert_frame_equal(df, before)


def test_same_settings_and_seed_give_the_same_metrics():
    df = _frame()
    config = TrainConfig(algorithm="random_forest", target="spend", roles={**ROLES, "churn": "ignore"}, params=FAST,
                         seed=5,
                         split=SplitConfig(seed=5))
    first, second = train_candidate(df, config), train_candidate(df, config)
    assert first.kind == "regression"
    assert first.metrics == pytest.approx(second.metrics, rel=1e-12)
    other = train_candidate(df, replace(config, seed=6, split=SplitConfig(seed=6)))
    assert other.metrics != first.metrics


def test_multiclass_clustering_and_overrides():
    df = _frame()
    multi = train_candidate(df, TrainConfig(algorithm="decision_tree", target="segment",
                                            roles={**ROLES, "churn": "ignore"}))
    assert multi.kind == "multiclass" and "f1_weighted" in multi.metrics and "precision" not in multi.metrics
    clusters = train_candidate(df, TrainConfig(algorithm="kmeans", roles=ROLES, params={"n_clusters": 2}))
    assert clusters.kind == "clustering" and clusters.problem.reason == "no target → clustering"
    assert "silhouette" in clusters.metrics and sum(clusters.curves["cluster_sizes"].values()) == 200
    forced = train_candidate(df, TrainConfig(algorithm="decision_tree", target="churn", roles=ROLES,
                                             problem_kind="multiclass"))
    assert forced.kind == "multiclass"
    assert forced.problem.reason == "chosen (2 distinct text values → binary was detected)"


def test_rows_without_target_are_dropped_with_a_note():
    df = _frame()
    df.loc[:19, "churn"] = None
    lines: list[str] = []
    result = train_candidate(df, TrainConfig(algorithm="decision_tree", target="churn", roles=ROLES), log=lines.append)
    assert "20 of 200 rows have no target value and were left out of training." in result.notes
    assert lines[0] == "20 of 200 rows have no target value and were left out of training."
    assert result.split["n_train"] + result.split["n_test"] == 180


def test_time_and_group_splits_end_to_end():
    df = _frame()
    timed = train_candidate(df, TrainConfig(algorithm="decision_tree", target="churn", roles=ROLES,
                                            split=SplitConfig(kind="time", time_column="signup", cv_folds=3)))
    assert timed.split["kind"] == "time"
    assert timed.train_frame.index.max() < 160  # one row per day: the last 40 days are the test rows
    grouped = train_candidate(df, TrainConfig(algorithm="decision_tree", target="churn", roles=ROLES,
                                              split=SplitConfig(kind="group", group_column="customer", cv_folds=3)))
    test_customers = set(df["customer"]) - set(df.loc[grouped.train_frame.index, "customer"])
    assert grouped.split["kind"] == "group" and test_customers


def test_tuning_inside_a_run():
    result = train_candidate(_frame(), TrainConfig(algorithm="decision_tree", target="churn", roles=ROLES,
                                                   tuning=TuningConfig(n_trials=4)))
    assert result.tuning is not None and len(result.tuning.trials) == 4
    assert result.params == result.tuning.best_params
    assert result.pipeline.steps[-1][1].max_depth == result.params["max_depth"]
    json.dumps(result.to_dict(), allow_nan=False)


def test_clustering_can_be_tuned_on_silhouette():
    result = train_candidate(_frame(), TrainConfig(algorithm="kmeans", roles={**ROLES, "churn": "ignore"},
                                                   tuning=TuningConfig(n_trials=3)))
    assert result.tuning.metric == "silhouette" and len(result.tuning.trials) == 3
    assert result.metrics["n_clusters"] == result.params["n_clusters"]


def test_library_failures_become_messages(monkeypatch):
    import lightgbm

    def refuse(self, *args, **kwargs):
        raise lightgbm.basic.LightGBMError("No OpenCL device found")

    monkeypatch.setattr(lightgbm.LGBMClassifier, "fit", refuse)
    with pytest.raises(InvalidInputError, match="LightGBM failed: LightGBMError: No OpenCL device found") as e:
        train_candidate(_frame(), TrainConfig(algorithm="lightgbm", target="churn", roles=ROLES, use_gpu=True))
    assert e.value.hint == "The GPU could not be used: turn GPU training off in the settings."


def test_class_weight_and_resampling():
    df = _frame()
    weighted = train_candidate(df, TrainConfig(algorithm="logistic_regression", target="churn", roles=ROLES,
                                               preprocessing=PreprocessConfig(imbalance="class_weight")))
    assert weighted.pipeline.steps[-1][1].class_weight == "balanced"
    boosted = train_candidate(df, TrainConfig(algorithm="xgboost", target="churn", roles=ROLES, params=FAST,
                                              preprocessing=PreprocessConfig(imbalance="class_weight")))
    assert boosted.ok  # XGBoost has no class_weight: balanced sample weights instead
    knn = train_candidate(df, TrainConfig(algorithm="knn", target="churn", roles=ROLES,
                                          preprocessing=PreprocessConfig(imbalance="class_weight")))
    assert "k-nearest neighbours cannot weight classes, so the class-weight setting has no effect." in knn.notes


def test_train_many_goes_on_after_a_failure():
    df = _frame()
    lines: list[str] = []
    results = train_many(df, TrainConfig(target="churn", roles=ROLES), ["decision_tree", "knn", "naive_bayes"],
                         params={"knn": {"n_neighbors": 500}}, log=lines.append)
    assert [r.algorithm for r in results] == ["decision_tree", "knn", "naive_bayes"]
    assert [r.status for r in results] == ["ok", "failed", "ok"]
    assert results[1].error.startswith("k-nearest neighbours failed: ValueError: Expected n_neighbors <= n_samples")
    assert results[1].pipeline is None and results[1].to_dict()["status"] == "failed"
    assert results[1].error in lines
    with pytest.raises(InvalidInputError, match="Unknown algorithm 'boosty'"):
        train_many(df, TrainConfig(target="churn", roles=ROLES), ["decision_tree", "boosty"])
    with pytest.raises(InvalidInputError, match="Ridge regression .* does not do binary problems"):
        train_many(df, TrainConfig(target="churn", roles=ROLES), ["ridge"])


def test_cancel_raises_between_steps():
    calls = {"n": 0}

    def check() -> None:
        calls["n"] += 1
        if calls["n"] >= 3:
            raise JobCancelledError("Cancelled by the user.")

    with pytest.raises(JobCancelledError):
        train_many(_frame(), TrainConfig(target="churn", roles=ROLES), ["decision_tree", "naive_bayes"],
                   check_cancelled=check)


@pytest.mark.parametrize(("frame_change", "config", "message"), [
    (lambda df: df.assign(churn="yes"), TrainConfig(target="churn"), r"single class \('yes'\)"),
    (lambda df: df.assign(churn=["only"] + ["yes"] * 100 + ["no"] * 99), TrainConfig(target="churn"),
     "class 'only' has a single row, so a stratified split is impossible"),
    (lambda df: df, TrainConfig(target="plan: tier", problem_kind="regression"),
     "Regression needs a numeric target, but 'plan: tier' holds values such as"),
    (lambda df: df, TrainConfig(target="churn", roles={c: "ignore" for c in _frame().columns}),
     "No features are left"),
    (lambda df: df.assign(churn=None), TrainConfig(target="churn"), "Every value of the target 'churn' is missing"),
    (lambda df: df, TrainConfig(target="churn", split=SplitConfig(kind="time", time_column="age")),
     "time-based split needs a datetime column, but 'age' holds float64"),
    (lambda df: df, TrainConfig(target="churn", positive_label="maybe"), "positive class 'maybe' is not a value"),
    (lambda df: df, TrainConfig(algorithm="ridge", problem_kind="regression"), "regression problem needs a target"),
    (lambda df: df.iloc[:0], TrainConfig(target="churn"), "Training needs a table with rows"),
    (lambda df: df, TrainConfig(target="churn", algorithm="decision_tree", params={"depth": 3}),
     "Decision tree .* has no parameter 'depth'"),
])
def test_bad_input_is_explained(frame_change, config, message):
    with pytest.raises(InvalidInputError, match=message):
        train_candidate(frame_change(_frame()), config)


def test_a_tuning_budget_too_small_fails_the_run_clearly():
    from core.platform.errors import ResourceError

    with pytest.raises(ResourceError, match="tuning budget of 0.001 s is too small for one complete trial"):
        train_candidate(_frame(), TrainConfig(algorithm="random_forest", target="churn", roles=ROLES,
                                              tuning=TuningConfig(n_trials=None, timeout=0.001)))


def test_prepare_data_reports_feature_warnings():
    df = _frame().assign(refund_flag=lambda d: d["churn"] == "yes", constant=1)
    prepared = prepare_data(df, TrainConfig(target="churn", roles=ROLES))
    assert any(w.startswith("'refund_flag' alone predicts the target") for w in prepared.warnings)
    assert any(w.startswith("'constant' has the same value in every row") for w in prepared.warnings)
    assert prepared.types["plan: tier"] == "categorical"


def test_every_result_of_train_many_carries_the_feature_warnings_logged_once():
    df = _frame().assign(refund_flag=lambda d: d["churn"] == "yes")
    lines: list[str] = []
    results = train_many(df, TrainConfig(target="churn", roles=ROLES), ["knn", "decision_tree", "naive_bayes"],
                         params={"knn": {"n_neighbors": 500}}, log=lines.append)  # the first one fails
    assert [r.status for r in results] == ["failed", "ok", "ok"]
    expected = prepare_data(df, TrainConfig(target="churn", roles=ROLES)).warnings
    assert any(w.startswith("'refund_flag' alone predicts the target") for w in expected)
    assert all(r.warnings == expected for r in results)
    assert all(r.to_dict()["warnings"] == expected for r in results)
    assert [line for line in lines if line.startswith("warning: ")] == [f"warning: {w}" for w in expected]
