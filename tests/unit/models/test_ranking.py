"""Which version a picker opens on, and which task a scoped page shows: production, else the best score."""

from __future__ import annotations

import datetime as dt
from datetime import UTC

from core.models.leaderboard import best_within, leaderboard
from core.models.ranking import best_first, best_version, choose_task, in_task, primary_score, task_label, tasks
from core.models.registry import ModelVersionInfo


def mv(i: int, metrics: dict, *, name: str = "titanic-survived", kind: str = "binary", target: str = "survived",
       dataset: str = "titanic@1", stage: str = "none", day: int | None = None) -> ModelVersionInfo:
    return ModelVersionInfo(
        id=i, name=name, version=i, stage=stage, algorithm="logistic_regression", problem_type=kind, target=target,
        dataset_version_id=1, dataset_label=dataset, artifact_key=None, sha256=None, size_bytes=1,
        metrics=metrics, card={}, train_seconds=1.0, predict_ms_per_1k=1.0, job_id=None,
        created_at=dt.datetime(2026, 1, day or i, tzinfo=UTC),
    )


def test_the_best_by_the_primary_metric_beats_the_newest_and_production_beats_both():
    old_good, new_poor = mv(1, {"roc_auc": 0.86, "accuracy": 0.70}), mv(2, {"roc_auc": 0.77, "accuracy": 0.90})
    assert best_version([old_good, new_poor]) is old_good  # ROC AUC, not accuracy, judges a binary task
    promoted = mv(3, {"roc_auc": 0.60}, stage="production")
    assert best_first([old_good, new_poor, promoted]) == [promoted, old_good, new_poor]
    houses = [mv(i, {"rmse": r}, kind="regression", target="price", dataset="ames@1", name="ames-price")
              for i, r in ((1, 31000.0), (2, 25000.0), (3, 40000.0))]
    assert [v.version for v in best_first(houses)] == [2, 1, 3]  # lower RMSE is better
    unscored = mv(4, {})
    assert best_first([unscored, old_good])[0] is old_good and best_version([]) is None


def test_a_cross_validated_score_stands_in_for_a_missing_test_score():
    assert primary_score(mv(1, {"cv": {"roc_auc": {"mean": 0.8, "std": 0.01}}})) == 0.8
    assert primary_score(mv(1, {"roc_auc": float("nan")})) is None


def test_tasks_are_never_ranked_together_and_the_last_worked_on_opens():
    titanic = [mv(1, {"roc_auc": 0.8}), mv(2, {"roc_auc": 0.9})]
    churn = [mv(3, {"roc_auc": 0.99}, name="telco-churn", target="Churn", dataset="telco@2")]
    houses = [mv(4, {"rmse": 1.0}, name="ames-price", kind="regression", target="price", dataset="ames@1")]
    everything = titanic + churn + houses
    assert tasks(everything)[0] == ("ames", "price", "regression")  # the newest first
    assert choose_task(everything) == ("ames", "price", "regression")
    assert choose_task(everything, dataset="titanic", target="survived") == ("titanic", "survived", "binary")
    assert choose_task(everything, dataset="titanic") == ("titanic", "survived", "binary")  # no target saved yet
    assert choose_task(everything, model=("telco-churn", 3)) == ("telco", "Churn", "binary")
    assert choose_task(everything, dataset="gone", model=("gone", 1)) == ("ames", "price", "regression")
    assert choose_task([]) is None
    assert in_task(everything, ("titanic", "survived", "binary")) == titanic
    assert task_label(("titanic", "survived", "binary")) == "titanic · survived (binary)"
    # within the task of the newest version first: churn's 0.99 never outranks titanic's models as "the best"
    assert best_first(titanic + churn)[0] is churn[0] and best_first(titanic)[0] is titanic[1]


def test_the_best_of_each_metric_is_marked_per_task():
    versions = [mv(1, {"roc_auc": 0.8}), mv(2, {"roc_auc": 0.9}),
                mv(3, {"roc_auc": 0.99}, name="telco-churn", target="Churn", dataset="telco@2")]
    frame = leaderboard(versions)
    groups = [(v.dataset_label.split("@")[0], v.target) for v in versions]
    assert best_within(frame, groups) == {"roc_auc": [1, 2]}  # titanic's v2 and churn's only model
