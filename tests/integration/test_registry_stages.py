"""Registry stage rules on both backends: SQLite + local folder and PostgreSQL + S3."""

from __future__ import annotations

import pytest

from core.models import registry
from core.platform.errors import ConflictError, NotFoundError


def _add(ws, name="churn · Exited", n=1):
    versions = []
    for i in range(n):
        versions.append(registry.register_version(
            ws, name, model_bytes=f"model bytes {i}".encode(), algorithm="random_forest",
            problem_type="binary", target="Exited", dataset_version_id=None, dataset_label="churn@1",
            metrics={"roc_auc": 0.8 + i / 100}, card={"params": {"n_estimators": 100 + i}}, train_seconds=1.0 + i,
        ))
    return versions


def _stages(ws, name="churn · Exited"):
    return {mv.version: mv.stage for mv in registry.list_versions(ws, name)}


def test_versions_are_numbered_and_their_bytes_stored_with_a_checksum(any_ws):
    v1, v2 = _add(any_ws, n=2)
    assert (v1.version, v2.version) == (1, 2)
    assert v2.artifact_key == f"projects/1/models/{_model_id(any_ws)}/v2/model.skops"  # the default project
    assert any_ws.artifact(v2.artifact_key).sha256 == v2.sha256
    assert any_ws.get_bytes(v2.artifact_key) == b"model bytes 1"
    assert v2.size_bytes == len(b"model bytes 1") and v2.stage == "none"
    assert registry.list_model_names(any_ws) == ["churn · Exited"]


def _model_id(ws):
    from sqlalchemy import select

    from core.platform.metadata.models import RegisteredModel

    with ws.db.session() as s:
        return s.scalar(select(RegisteredModel.id))


def test_promote_archives_the_previous_production_version_and_records_both_moves(any_ws):
    _add(any_ws, n=2)
    registry.promote(any_ws, "churn · Exited", 1, note="first release")
    promoted = registry.promote(any_ws, "churn · Exited", 2, note="better auc")
    assert promoted.stage == "production"
    assert _stages(any_ws) == {1: "archived", 2: "production"}
    assert registry.get_version(any_ws, "churn · Exited").version == 2
    moves = [(t.version, t.from_stage, t.to_stage, t.note) for t in registry.history(any_ws, "churn · Exited")]
    assert moves == [
        (2, "none", "production", "better auc"),
        (1, "production", "archived", "replaced in production by v2; better auc"),
        (1, "none", "production", "first release"),
    ]


def test_the_database_refuses_a_second_production_version_and_the_registry_says_so(any_ws, monkeypatch):
    _add(any_ws, n=2)
    registry.promote(any_ws, "churn · Exited", 1)
    real_move = registry._move

    def move_without_demoting(s, model, row, stage, note):  # as if a concurrent writer slipped in between
        if stage != "archived":
            real_move(s, model, row, stage, note)

    monkeypatch.setattr(registry, "_move", move_without_demoting)
    with pytest.raises(ConflictError, match="already has a production version"):
        registry.promote(any_ws, "churn · Exited", 2)
    monkeypatch.undo()
    assert _stages(any_ws) == {1: "production", 2: "none"}  # the failed promotion left nothing behind
    assert len(registry.history(any_ws, "churn · Exited")) == 1


def test_rollback_twice_walks_back_through_production_history(any_ws):
    _add(any_ws, n=3)
    for version in (1, 2, 3):
        registry.promote(any_ws, "churn · Exited", version)
    assert registry.rollback(any_ws, "churn · Exited", note="v3 misbehaves").version == 2
    assert _stages(any_ws) == {1: "archived", 2: "production", 3: "archived"}
    assert registry.rollback(any_ws, "churn · Exited").version == 1
    assert _stages(any_ws) == {1: "production", 2: "archived", 3: "archived"}
    with pytest.raises(ConflictError, match="no earlier production version.*first version that was in production"):
        registry.rollback(any_ws, "churn · Exited")
    newest = registry.history(any_ws, "churn · Exited")[:2]
    assert [(t.version, t.to_stage, t.note) for t in newest] == [
        (1, "production", "rollback from v2"), (2, "archived", "rolled back to v1")]


def test_rollback_without_history_is_refused(any_ws):
    _add(any_ws, n=2)
    with pytest.raises(ConflictError, match="has no production version, so there is nothing to roll back"):
        registry.rollback(any_ws, "churn · Exited")
    registry.promote(any_ws, "churn · Exited", 2)
    with pytest.raises(ConflictError, match="no earlier production version to roll back to"):
        registry.rollback(any_ws, "churn · Exited")
    assert _stages(any_ws) == {1: "none", 2: "production"}


def test_rollback_skips_deleted_versions(any_ws):
    _add(any_ws, n=3)
    for version in (1, 2, 3):
        registry.promote(any_ws, "churn · Exited", version)
    registry.delete_version(any_ws, "churn · Exited", 2)
    assert registry.rollback(any_ws, "churn · Exited").version == 1
    registry.promote(any_ws, "churn · Exited", 3)
    registry.delete_version(any_ws, "churn · Exited", 1)
    with pytest.raises(ConflictError, match=r"the versions in production before it \(1\) were deleted"):
        registry.rollback(any_ws, "churn · Exited")


def test_deleting_production_needs_confirmation_and_keeps_the_history(any_ws):
    v1, v2 = _add(any_ws, n=2)
    registry.promote(any_ws, "churn · Exited", 2)
    with pytest.raises(ConflictError, match="is in production: deleting it leaves .* without a production version"):
        registry.delete_version(any_ws, "churn · Exited", 2)
    assert any_ws.has_artifact(v2.artifact_key)
    gone = registry.delete_version(any_ws, "churn · Exited", 2, confirm_production=True, note="leaked a column")
    assert gone.version == 2 and gone.stage == "production"
    assert _stages(any_ws) == {1: "none"}
    assert not any_ws.has_artifact(v2.artifact_key)
    assert not any_ws.store.exists(v2.artifact_key)
    assert any_ws.has_artifact(v1.artifact_key)
    moves = [(t.version, t.from_stage, t.to_stage, t.note) for t in registry.history(any_ws, "churn · Exited")]
    assert moves == [(2, "production", "deleted", "leaked a column"), (2, "none", "production", "")]
    with pytest.raises(NotFoundError, match="Version 2 of model 'churn · Exited' was deleted on .*versions now are: 1"):
        registry.get_version(any_ws, "churn · Exited:2")
    # the number is not handed out again: history and prediction runs still speak of version 2
    assert _add(any_ws)[0].version == 3
