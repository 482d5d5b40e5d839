"""Projects and roles on a real database: every write in core checks the acting user's role,
another project's items are "not found", removing a member takes effect at once, the audit trail
is written, and a workspace from before projects upgrades in place (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pandas as pd
import pytest
from sqlalchemy import MetaData, insert, select

from core.cli import main
from core.data import datasets
from core.ml.config import TrainConfig
from core.models import registry
from core.models.training import train_version
from core.platform import access, projects
from core.platform.config import Settings
from core.platform.errors import NotFoundError, PermissionDeniedError
from core.platform.metadata import Database
from core.platform.metadata.models import AuditEvent, Dataset, Job, PredictionRun, RegisteredModel
from core.platform.workspace import Workspace
from tests.support.teams import ADMIN, ALICE, BOB

NEEDS_DS = "needs the data_scientist or owner role"


def frame(n: int = 40) -> pd.DataFrame:
    return pd.DataFrame({"x": range(n), "y": [i % 2 for i in range(n)]})


def _model(ws, name="toy-y"):
    return registry.register_version(
        ws, name, model_bytes=b"model", algorithm="logistic_regression", problem_type="binary", target="y",
        dataset_version_id=None, dataset_label="toy@1", metrics={"accuracy": 0.9}, card={}, train_seconds=1.0)


def test_a_viewer_may_look_but_not_train_import_promote_or_delete(open_as):
    admin = open_as(ADMIN)
    version = datasets.save_version(admin, "toy", frame(), provenance={"kind": "test"})
    _model(admin)
    projects.add_member(admin, "default", ALICE, "viewer")
    viewer = open_as(ALICE)
    assert datasets.get_version(viewer, "toy").id == version.id  # reading is allowed
    assert [v.label for v in registry.list_versions(viewer)] == ["toy-y:1"]
    attempts = [
        lambda: train_version(viewer, version, TrainConfig(target="y"), ["logistic_regression"]),
        lambda: datasets.save_version(viewer, "more", frame(), provenance={"kind": "test"}),
        lambda: datasets.delete_dataset(viewer, "toy"),
        lambda: registry.promote(viewer, "toy-y", 1),
        lambda: registry.delete_version(viewer, "toy-y", 1),
        lambda: _model(viewer),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDeniedError, match=f"{ALICE} is a viewer in project 'default': .* {NEEDS_DS}"):
            attempt()
    assert [d.name for d in datasets.list_datasets(admin)] == ["toy"]  # nothing was changed
    assert registry.get_version(admin, "toy-y:1").stage == "none"
    with pytest.raises(PermissionDeniedError, match="managing members needs the owner role"):
        projects.add_member(viewer, "default", BOB, "owner")


def test_a_removed_member_loses_access_at_once(open_as):
    admin = open_as(ADMIN)
    datasets.save_version(admin, "toy", frame(), provenance={"kind": "test"})
    projects.add_member(admin, "default", ALICE, "data_scientist")
    alice = open_as(ALICE)
    _model(alice)  # allowed while a member
    projects.remove_member(admin, "default", ALICE)
    for attempt in (lambda: datasets.get_version(alice, "toy"), lambda: _model(alice),
                    lambda: registry.promote(alice, "toy-y", 1)):
        with pytest.raises(NotFoundError, match=f"no project named 'default' that {ALICE} belongs to"):
            attempt()
    assert projects.list_projects(alice) == []


def test_another_projects_items_are_not_found_by_id_or_name(open_as):
    admin = open_as(ADMIN)
    projects.create_project(admin, "bobs")
    projects.add_member(admin, "bobs", BOB, "data_scientist")
    projects.add_member(admin, "default", ALICE, "data_scientist")
    bob = open_as(BOB, project="bobs")
    secret = datasets.save_version(bob, "secret", frame(), provenance={"kind": "test"})
    model = _model(bob, "secret-model")
    alice = open_as(ALICE)
    with pytest.raises(NotFoundError, match=f"no dataset version with id {secret.id}"):
        datasets.get_version_by_id(alice, secret.id)
    with pytest.raises(NotFoundError, match="no dataset named 'secret'"):
        datasets.get_version(alice, "secret")
    with pytest.raises(NotFoundError, match=f"no model version with id {model.id}"):
        registry.get_version_by_id(alice, model.id)
    with pytest.raises(NotFoundError, match="no model named 'secret-model'"):
        registry.promote(alice, "secret-model", 1)
    with pytest.raises(NotFoundError, match="no dataset named 'secret'"):
        datasets.delete_dataset(alice, "secret")
    assert datasets.list_datasets(alice) == [] and registry.list_versions(alice) == []
    with pytest.raises(NotFoundError, match=f"no project named 'bobs' that {ALICE} belongs to"):
        datasets.list_datasets(open_as(ALICE, project="bobs"))
    assert datasets.get_version_by_id(bob, secret.id).name == "secret"  # still there for its owner
    assert [p.name for p, _ in projects.list_projects(alice)] == ["default"]


def test_the_audit_trail_says_who_did_what(open_as):
    admin = open_as(ADMIN)
    projects.add_member(admin, "default", ALICE, "data_scientist")
    alice = open_as(ALICE)
    datasets.save_version(alice, "toy", frame(), provenance={"kind": "test"})
    _model(alice)
    _model(alice)
    registry.promote(alice, "toy-y", 1)
    registry.promote(alice, "toy-y", 2)
    registry.rollback(alice, "toy-y")
    registry.delete_version(alice, "toy-y", 2)
    datasets.delete_dataset(alice, "toy")
    events = list(reversed(projects.audit_events(admin, "default")))
    assert [(e.actor, e.action, e.object) for e in events] == [
        (ADMIN, "add_member", f"{ALICE} as data_scientist"), (ALICE, "import", "toy@1"),
        (ALICE, "promote", "toy-y:1"), (ALICE, "promote", "toy-y:2"), (ALICE, "rollback", "toy-y:1"),
        (ALICE, "delete_model", "toy-y:2"), (ALICE, "delete_dataset", "toy")]
    assert all(e.at.tzinfo is not None for e in events)


def test_single_user_mode_is_the_local_owner_in_the_default_project(tmp_path):
    ws = Workspace.open(Settings(home=tmp_path / "home"))
    try:
        project = access.current_project(ws)
        assert access.actor_of(ws) == access.LOCAL_OWNER and project.name == "default"
        datasets.save_version(ws, "toy", frame(), provenance={"kind": "test"})
        with ws.db.session() as s:
            assert s.scalar(select(Dataset.project_id)) == project.id
            assert s.scalar(select(AuditEvent.actor)) == "the local owner"
    finally:
        ws.db.dispose()


# -- the command line -------------------------------------------------------------------------
@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ATELIER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ATELIER_AUTH", "oidc")
    monkeypatch.setenv("ATELIER_ADMINS", ADMIN)

    def run(user, *argv):
        monkeypatch.setenv("ATELIER_USER", user)
        monkeypatch.delenv("ATELIER_PROJECT", raising=False)
        return main(list(argv))
    return run


def test_cli_viewer_is_refused_training_and_deleting(cli_env, capsys, monkeypatch):
    monkeypatch.setenv("ATELIER_USER", ADMIN)
    ws = Workspace.open(Settings.load())
    datasets.save_version(ws, "toy", frame(200), provenance={"kind": "test"}, roles={"y": "target"})
    ws.db.dispose()
    assert cli_env(ADMIN, "projects", "add-member", "default", ALICE, "--role", "viewer") == 0
    capsys.readouterr()
    assert cli_env(ALICE, "datasets", "delete", "toy", "--yes") == 1
    assert NEEDS_DS in capsys.readouterr().err
    assert cli_env(ALICE, "train", "--dataset", "toy", "--target", "y", "--algorithms", "logistic_regression") == 1
    assert NEEDS_DS in capsys.readouterr().err
    assert cli_env(ALICE, "projects", "create", "mine") == 1
    assert "may not create projects" in capsys.readouterr().err
    assert cli_env(ALICE, "datasets", "list") == 0 and "toy" in capsys.readouterr().out
    assert cli_env(ADMIN, "projects", "remove-member", "default", ALICE) == 0
    capsys.readouterr()
    assert cli_env(ALICE, "datasets", "list") == 1
    assert f"no project named 'default' that {ALICE} belongs to" in capsys.readouterr().err
    assert cli_env(ADMIN, "projects", "audit", "default", "--json") == 0
    actions = [e["action"] for e in json.loads(capsys.readouterr().out)]
    assert actions == ["remove_member", "add_member", "import"]


def test_cli_projects_and_the_global_project_option(cli_env, capsys):
    assert cli_env(ADMIN, "projects", "create", "churn", "--problem-type", "classification") == 0
    assert cli_env(ADMIN, "projects", "add-member", "churn", BOB, "--role", "data_scientist") == 0
    with pytest.raises(SystemExit) as exit_:  # argparse refuses an unknown role
        cli_env(ADMIN, "projects", "add-member", "churn", BOB, "--role", "wizard")
    assert exit_.value.code == 2 and "invalid choice: 'wizard'" in capsys.readouterr().err
    capsys.readouterr()
    assert cli_env(BOB, "projects", "list", "--json") == 0
    assert json.loads(capsys.readouterr().out) == [
        {"name": "churn", "role": "data_scientist", "archived": False, "problem_type": "classification"}]
    assert cli_env(BOB, "--project", "churn", "datasets", "list") == 0
    capsys.readouterr()
    assert cli_env(BOB, "datasets", "list") == 1  # the default project is not Bob's
    assert "no project named 'default'" in capsys.readouterr().err
    assert cli_env(ADMIN, "projects", "create", "churn") == 1
    assert "already exists" in capsys.readouterr().err
    assert cli_env(ADMIN, "projects", "remove-member", "churn", ADMIN) == 1
    assert "would have no owner left" in capsys.readouterr().err


def test_cli_without_a_user_says_to_set_one(cli_env, capsys):
    assert cli_env("", "datasets", "list") == 1
    assert "Set ATELIER_USER to your email" in capsys.readouterr().err


# -- a workspace from before projects ---------------------------------------------------------
def _wave1(url: str) -> None:
    """A database at revision 0002 (before projects) holding a dataset, a model, a job and a prediction run."""
    from alembic import command

    db = Database(url)
    cfg = db._alembic_config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
    meta = MetaData()
    meta.reflect(db.engine)
    assert "projects" not in meta.tables
    now = datetime.now(UTC)
    t = meta.tables
    with db.engine.begin() as conn:
        conn.execute(insert(t["datasets"]).values(id=1, name="titanic", description="", created_at=now))
        conn.execute(insert(t["dataset_versions"]).values(
            id=1, dataset_id=1, version=1, artifact_key="datasets/x.parquet", sha256="0" * 64, size_bytes=10,
            n_rows=891, n_columns=2, schema=[], roles={}, quality={}, provenance={}, note="", created_at=now))
        conn.execute(insert(t["registered_models"]).values(id=1, name="titanic-Survived", description="",
                                                          created_at=now))
        conn.execute(insert(t["model_versions"]).values(
            id=1, model_id=1, version=1, stage="production", algorithm="logistic_regression",
            problem_type="binary", target="Survived", dataset_version_id=1, dataset_label="titanic@1",
            artifact_key="models/m.skops", sha256="1" * 64, size_bytes=5, metrics={}, card={}, train_seconds=1.0,
            created_at=now))
        conn.execute(insert(t["jobs"]).values(
            id="j1", kind="train", title="Train", status="succeeded", progress=1.0, message="", params={},
            result={}, cancel_requested=False, created_at=now))
        conn.execute(insert(t["prediction_runs"]).values(
            id=1, model_id=1, version=1, source="x.csv", n_rows=3, summary={}, created_at=now))
    db.dispose()


def _head(db: Database) -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(db._alembic_config()).get_current_head()


def test_a_workspace_from_before_projects_upgrades_into_the_default_project(base, open_as):
    _wave1(base.database_url)
    admin = open_as(ADMIN)  # opening upgrades it
    assert admin.db.current_revision() == _head(admin.db)
    with admin.db.session() as s:
        default = access.current_project(admin)
        for table in (Dataset, RegisteredModel, Job, PredictionRun):
            assert set(s.scalars(select(table.project_id))) == {default.id}, table.__tablename__
    assert projects.members(admin, "default") == [projects.Member(ADMIN, "owner")]
    assert [d.name for d in datasets.list_datasets(admin)] == ["titanic"]
    assert registry.get_version(admin, "titanic-Survived").stage == "production"
    bob = open_as(BOB)
    with pytest.raises(NotFoundError, match="no project named 'default'"):
        datasets.list_datasets(bob)
    with pytest.raises(NotFoundError):
        datasets.get_version_by_id(bob, 1)
    new = projects.create_project(admin, "second")  # the id sequence moved past the default project's
    assert new.id != default.id
