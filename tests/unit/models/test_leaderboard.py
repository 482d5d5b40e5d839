"""Leaderboard on hand-built versions: columns, filters, best rows, Pareto front, export, compare."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from core.models.leaderboard import (
    best_per_metric,
    compare,
    flatten_metrics,
    leaderboard,
    metric_direction,
    pareto_front,
    to_csv_bytes,
    to_excel_bytes,
)
from core.models.registry import ModelVersionInfo
from core.platform.errors import InvalidInputError


def mv(version, algorithm, metrics, *, name="titanic · Survived", dataset="titanic@1", problem="binary",
       seconds=1.0, day=1, card=None, stage="none"):
    return ModelVersionInfo(
        id=version, name=name, version=version, stage=stage, algorithm=algorithm, problem_type=problem,
        target="Survived", dataset_version_id=1, dataset_label=dataset, artifact_key=f"models/1/v{version}/model.skops",
        sha256="0" * 64, size_bytes=1000 * version, metrics=metrics, card=card or {}, train_seconds=seconds,
        predict_ms_per_1k=None if version == 1 else 0.5 * version, job_id=None,
        created_at=datetime(2026, 3, day, 12, 0, tzinfo=UTC),
    )


@pytest.fixture
def versions():
    return [
        mv(1, "logistic_regression", {"accuracy": 0.80, "log_loss": 0.45,
                                      "cv": {"roc_auc": {"mean": 0.85, "std": 0.02}}}, seconds=1.0, day=1),
        mv(2, "random_forest", {"accuracy": 0.84, "log_loss": 0.40,
                                "cv": {"roc_auc": {"mean": 0.91, "std": 0.015}}}, seconds=8.0, day=2),
        mv(3, "xgboost", {"accuracy": 0.83, "log_loss": 0.38,
                          "cv": {"roc_auc": {"mean": 0.90, "std": 0.01}}}, seconds=20.0, day=3),
        mv(4, "knn", {"accuracy": 0.78, "log_loss": 0.60}, seconds=5.0, day=4, dataset="titanic@2"),
        mv(1, "random_forest", {"rmse": 3.0, "r2": 0.7}, name="house · price", dataset="house@1",
           problem="regression", seconds=2.0, day=5),
    ]


def test_metric_directions():
    assert [metric_direction(m) for m in ("accuracy", "precision_macro", "f1_weighted", "cv_roc_auc_mean",
                                          "test_r2", "silhouette")] == ["max"] * 6
    assert [metric_direction(m) for m in ("log_loss", "rmse", "cv_mae_mean", "mape", "davies_bouldin")] == ["min"] * 5
    assert [metric_direction(m) for m in ("cv_roc_auc_std", "train_seconds", "version", "mapex")] == [None] * 4


def test_metrics_are_flattened_with_cv_as_text_and_numbers():
    flat = flatten_metrics({"accuracy": 0.8, "cv": {"roc_auc": {"mean": 0.91, "std": 0.02}},
                            "confusion_matrix": [[1, 2], [3, 4]], "per_class": {"0": {"f1": 0.5}}, "flag": True,
                            "test": {"rmse": 1234.5}, "cv_fit": {"mean": 150.0}})
    assert flat == {"accuracy": 0.8, "cv_roc_auc": "0.910 ± 0.020", "cv_roc_auc_mean": 0.91,
                    "cv_roc_auc_std": 0.02, "test_rmse": 1234.5, "cv_fit": "150.0", "cv_fit_mean": 150.0}


def test_leaderboard_has_one_row_per_version_and_a_column_per_metric(versions):
    frame = leaderboard(versions)
    assert len(frame) == 5
    assert list(frame.columns) == [
        "name", "version", "stage", "dataset", "algorithm", "problem_type", "accuracy", "log_loss", "cv_roc_auc",
        "cv_roc_auc_mean", "cv_roc_auc_std", "rmse", "r2", "train_seconds", "size_bytes", "predict_ms_per_1k",
        "created_at", "id"]
    assert frame.loc[1, "cv_roc_auc"] == "0.910 ± 0.015"
    assert frame.loc[1, "cv_roc_auc_mean"] == 0.91
    assert np.isnan(frame.loc[3, "cv_roc_auc_mean"]) and np.isnan(frame.loc[0, "predict_ms_per_1k"])
    assert str(frame["created_at"].dtype) == "datetime64[ns, UTC]"


def test_leaderboard_filters(versions):
    assert leaderboard(versions, dataset="titanic")["version"].tolist() == [1, 2, 3, 4]
    assert leaderboard(versions, dataset="titanic@2")["algorithm"].tolist() == ["knn"]
    assert leaderboard(versions, algorithm=["random_forest", "knn"])["version"].tolist() == [2, 4, 1]
    assert leaderboard(versions, problem_type="regression")["name"].tolist() == ["house · price"]
    assert leaderboard(versions, since=date(2026, 3, 2), until=date(2026, 3, 3))["version"].tolist() == [2, 3]
    assert leaderboard(versions, since="2026-03-04")["version"].tolist() == [4, 1]
    assert leaderboard(versions, until=datetime(2026, 3, 1, 11, 0)).empty  # naive means UTC: before noon
    empty = leaderboard(versions, algorithm="svm")
    assert empty.empty and "name" in empty.columns
    with pytest.raises(InvalidInputError, match="'last tuesday' is not a date"):
        leaderboard(versions, since="last tuesday")


def test_best_per_metric_knows_which_way_is_better(versions):
    frame = leaderboard(versions)
    assert best_per_metric(frame) == {"accuracy": 1, "log_loss": 2, "cv_roc_auc_mean": 1, "rmse": 4, "r2": 4}
    assert best_per_metric(leaderboard(versions, problem_type="regression").reset_index(drop=True)) == {
        "rmse": 0, "r2": 0}


def test_pareto_front_keeps_only_undominated_rows(versions):
    frame = leaderboard(versions, dataset="titanic")
    # accuracy vs seconds: v1 (0.80, 1 s) cheapest; v2 (0.84, 8 s) best; v3 (0.83, 20 s) and v4 (0.78, 5 s) dominated
    assert pareto_front(frame, "accuracy").tolist() == [True, True, False, False]
    # log loss is lower-better: v3 has the lowest, so it joins the front
    assert pareto_front(frame, "log_loss").tolist() == [True, True, True, False]
    # the text column is read through its mean; v4 has no CV score and is never on the front
    assert pareto_front(frame, "cv_roc_auc").tolist() == [True, True, False, False]
    assert pareto_front(frame, "accuracy", cost="size_bytes").tolist() == [True, True, False, False]


def test_pareto_front_explains_bad_columns(versions):
    frame = leaderboard(versions)
    with pytest.raises(InvalidInputError, match="The leaderboard has no column 'auc'"):
        pareto_front(frame, "auc")
    with pytest.raises(InvalidInputError, match="Which way is better for 'version' is not known"):
        pareto_front(frame, "version")
    assert pareto_front(frame, "version", higher_is_better=True).sum() >= 1


def test_exports_read_back(versions):
    frame = leaderboard(versions)
    back = pd.read_csv(io.BytesIO(to_csv_bytes(frame)))
    assert back["cv_roc_auc"].tolist()[:3] == ["0.850 ± 0.020", "0.910 ± 0.015", "0.900 ± 0.010"]
    assert back["name"].iloc[-1] == "house · price"
    sheet = pd.read_excel(io.BytesIO(to_excel_bytes(frame)), sheet_name="Leaderboard")
    assert sheet.shape == frame.shape
    assert sheet["created_at"].iloc[0] == pd.Timestamp("2026-03-01 12:00")
    assert sheet["accuracy"].tolist()[:4] == [0.80, 0.84, 0.83, 0.78]


def test_compare_puts_two_versions_side_by_side():
    a = mv(1, "random_forest", {"accuracy": 0.8, "log_loss": 0.5, "cv": {"f1": {"mean": 0.7, "std": 0.1}}},
           card={"params": {"model": {"n_estimators": 100, "max_depth": None}, "scaler": "standard"},
                 "importances": [{"feature": "Sex", "importance": 0.5}, {"feature": "Age", "importance": 0.3},
                                 {"feature": "Fare", "importance": 0.2}]})
    # the form training stores: {feature: importance}
    b = mv(2, "random_forest", {"accuracy": 0.82, "log_loss": 0.55, "roc_auc": 0.9},
           card={"params": {"model": {"n_estimators": 300, "max_depth": None}, "class_weight": {"0": 1, "1": 2}},
                 "importances": {"Sex": 0.4, "Pclass": 0.35}})
    out = compare(a, b, top=2)
    la, lb = out["labels"]
    assert (la, lb) == ("titanic · Survived:1", "titanic · Survived:2")
    params = out["parameters"].set_index("parameter")
    assert params.loc["model.n_estimators"].tolist() == ["100", "300", False]
    assert params.loc["model.max_depth"].tolist() == ["None", "None", True]
    assert params.loc["class_weight.0", lb] == "1" and params.loc["scaler", lb] == ""
    metrics = out["metrics"].set_index("metric")
    assert metrics.loc["accuracy", "difference"] == pytest.approx(0.02)
    assert metrics.loc["accuracy", "better"] == lb and metrics.loc["log_loss", "better"] == la
    assert metrics.loc["roc_auc", "better"] == "" and np.isnan(metrics.loc["roc_auc", la])
    assert "cv_f1_mean" in metrics.index and "cv_f1" not in metrics.index
    assert out["importances"]["feature"].tolist() == ["Sex", "Pclass", "Age"]  # top 2 of each, by importance
    overview = out["overview"].set_index("item")
    assert overview.loc["size (bytes)"].tolist() == ["1,000", "2,000"]
    assert all(out["overview"][c].map(type).eq(str).all() for c in (la, lb))


def test_compare_a_version_with_itself_keeps_two_columns(versions):
    out = compare(versions[0], versions[0])
    assert out["labels"] == ["titanic · Survived:1 (A)", "titanic · Survived:1 (B)"]
    better = out["metrics"].set_index("metric")["better"].to_dict()
    assert better == {"accuracy": "tie", "log_loss": "tie", "cv_roc_auc_mean": "tie", "cv_roc_auc_std": ""}
    assert out["importances"].empty and out["parameters"].empty


def test_mean_and_std_columns_are_parts_of_their_summary_column():
    from core.models.leaderboard import flatten_metrics, shown_as, summary_parts

    flat = flatten_metrics({"accuracy": 0.9, "cv": {"f1": {"mean": 0.8, "std": 0.05}}})
    assert summary_parts(flat) == ["cv_f1_mean", "cv_f1_std"]
    assert shown_as("cv_f1_mean", flat) == "cv_f1" and shown_as("accuracy", flat) == "accuracy"
    assert shown_as("loss_mean", ["loss_mean"]) == "loss_mean"  # no summary column: shown as it is
