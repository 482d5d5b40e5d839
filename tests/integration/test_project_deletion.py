"""Deleting a project: everything it holds goes (rows and stored files under its prefix), nothing of
another project is touched, the audit trail is kept at instance level, and only an owner may do it,
never to the default project.  Real SQLite (and PostgreSQL where marked), real job processes, real
files; the command line through ``core.cli.main``."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from sqlalchemy import func, select

from core.cli import main
from core.data import datasets
from core.data.ingest import import_sample
from core.eda.reports import report_key
from core.ml.config import TrainConfig
from core.models import registry
from core.models.training import train_version
from core.platform import access, jobs, projects
from core.platform.config import Settings
from core.platform.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from core.platform.metadata.models import (
    ApiKey,
    Artifact,
    AuditEvent,
    Dataset,
    Job,
    JobLog,
    Membership,
    ModelVersion,
    PredictionRun,
    Project,
    RegisteredModel,
)
from core.platform.project_deletion import delete_project, project_prefix
from core.platform.workspace import Workspace
from core.serve import api_keys
from core.serve.batch import predict_file
from core.serve.loaded import load_model
from tests.support.teams import ADMIN, ALICE, BOB, CAROL


def frame(n: int = 40) -> pd.DataFrame:
    return pd.DataFrame({"x": range(n), "y": [i % 2 for i in range(n)]})


def _fill(ws: Workspace, csv) -> dict:
    """A dataset with two versions and a report, a trained model with a prediction run, a finished job
    with its log and an AutoML receipt, an API key: what a project holds."""
    titanic = import_sample(ws, "titanic")
    datasets.save_version(ws, "toy", frame(), provenance={"kind": "test"})
    toy = datasets.save_version(ws, "toy", frame(50), provenance={"kind": "test"}, if_exists="new_version")
    ws.put_bytes(report_key(toy), b"<html>profile</html>", kind="profile_report")
    [row] = train_version(ws, titanic, TrainConfig(target=titanic.target), ["logistic_regression"])
    model = registry.get_version(ws, row["model"])
    registry.promote(ws, model.name, model.version)
    datasets.load_frame(ws, titanic).drop(columns=[titanic.target]).head(5).to_csv(csv, index=False)
    run = predict_file(ws, load_model(ws, model.label), csv)
    job_id = jobs.submit(ws, "tests.support.jobfuncs:count_job", {"steps": 2, "delay": 0.0})
    assert jobs.wait(ws, job_id, timeout=120).status == "succeeded"
    ws.put_bytes(f"automl/{job_id}/receipt.json", b"{}", kind="automl_receipt")  # keyed by the run (= job) id
    key = api_keys.create_key(ws, "ci")
    return {"titanic": titanic, "model": model, "run": run, "job": job_id, "key": key}


def _count(ws: Workspace, table, project_id: int) -> int:
    with ws.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(table).where(table.project_id == project_id)))


def test_deleting_a_project_removes_all_it_holds_and_nothing_of_another(open_as, tmp_path):
    admin = open_as(ADMIN)
    for name in ("alices", "bobs"):
        projects.create_project(admin, name)
    projects.add_member(admin, "bobs", BOB, "owner")
    projects.add_member(admin, "alices", ALICE, "owner")
    bob, alice = open_as(BOB, "bobs"), open_as(ALICE, "alices")
    bobs_id = access.find_project(bob, "bobs").id
    alices_id = access.find_project(alice, "alices").id
    theirs = _fill(bob, tmp_path / "bob.csv")
    mine = _fill(alice, tmp_path / "alice.csv")  # the same names and bytes in another project
    default_data = datasets.save_version(admin, "toy", frame(), provenance={"kind": "test"})
    prefix = project_prefix(bobs_id)
    assert bob.store.list(prefix) and bob.artifact_keys(prefix)  # files to delete
    bob.store.put_bytes(f"{prefix}stray/unrecorded.bin", b"left by a crash")  # in the store, not in metadata

    gone = delete_project(bob, "bobs")
    assert (gone.name, gone.datasets, gone.models, gone.jobs) == ("bobs", 2, 1, 1)
    assert gone.files >= 7  # 3 dataset files, a report, a model, predictions, the receipt, the stray one

    assert bob.store.list(prefix) == [] and bob.artifact_keys(prefix) == []
    assert bob.artifact_keys(f"automl/{theirs['job']}/") == []
    for table in (Dataset, RegisteredModel, Job, PredictionRun, ApiKey, Membership):
        assert _count(bob, table, bobs_id) == 0, table.__name__
    with bob.db.session() as s:
        assert s.get(Project, bobs_id) is None
        assert s.scalar(select(func.count()).select_from(JobLog).where(JobLog.job_id == theirs["job"])) == 0
        assert (
            s.scalar(select(func.count()).select_from(ModelVersion).where(ModelVersion.id == theirs["model"].id)) == 0
        )
        kept = list(s.scalars(select(AuditEvent).where(AuditEvent.project_id.is_(None)).order_by(AuditEvent.id)))
    assert {"import", "promote", "delete_project"} <= {e.action for e in kept}  # the trail stays, detached
    assert kept[-1].action == "delete_project" and kept[-1].actor == BOB and kept[-1].object.startswith("bobs (id")
    with pytest.raises(NotFoundError):
        access.find_project(bob, "bobs")

    # Alice's project, with the same names and bytes, is whole: rows, files, key, job
    assert sorted(d.name for d in datasets.list_datasets(alice)) == ["titanic", "toy"]
    assert datasets.load_frame(alice, datasets.get_version(alice, "toy")).equals(frame(50))
    assert datasets.load_frame(alice, datasets.get_version(alice, "toy", 1)).equals(frame())
    assert alice.get_bytes(report_key(datasets.get_version(alice, "toy"))) == b"<html>profile</html>"
    assert load_model(alice, mine["model"].label).version.id == mine["model"].id
    assert alice.get_bytes(mine["run"].artifact_key)
    assert [j.id for j in jobs.list_jobs(alice)] == [mine["job"]]
    assert alice.has_artifact(f"automl/{mine['job']}/receipt.json")
    assert [k.name for k in api_keys.list_keys(alice)] == ["ci"]
    assert all(k.startswith(project_prefix(alices_id)) for k in alice.store.list(project_prefix(alices_id)))
    assert datasets.get_version(admin, "toy").id == default_data.id  # the default project's too

    projects.create_project(admin, "bobs")  # the name is free again, and the new project starts empty
    assert projects.statistics(admin, "bobs").datasets == 0


def test_only_an_owner_deletes_and_never_the_default_project(open_as):
    admin = open_as(ADMIN)
    projects.create_project(admin, "bobs")
    projects.add_member(admin, "bobs", BOB, "owner")
    projects.add_member(admin, "bobs", ALICE, "data_scientist")
    projects.add_member(admin, "bobs", CAROL, "viewer")
    datasets.save_version(open_as(BOB, "bobs"), "toy", frame(), provenance={"kind": "test"})

    for user in (ALICE, CAROL):
        with pytest.raises(PermissionDeniedError, match="deleting the project needs the owner role"):
            delete_project(open_as(user, "bobs"), "bobs")
    with pytest.raises(NotFoundError, match="no project named 'bobs'"):  # not a member: no leak
        delete_project(open_as("mallory@example.org"), "bobs")
    with pytest.raises(InvalidInputError, match="'default' cannot be deleted"):
        delete_project(admin, "default")
    assert datasets.get_version(open_as(BOB, "bobs"), "toy").version == 1  # untouched by the refusals

    projects.remove_member(admin, "bobs", ALICE)
    projects.add_member(admin, "bobs", ALICE, "owner")  # promoted: the role is read at the call
    bob = open_as(BOB, "bobs")
    job_id = jobs.submit(bob, "tests.support.jobfuncs:count_job", {}, start=False)  # queued, never started
    with pytest.raises(ConflictError, match="1 job\\(s\\) queued or running"):
        delete_project(open_as(ALICE, "bobs"), "bobs")
    jobs.cancel(bob, job_id)
    projects.set_archived(bob, "bobs")  # an archived project can still be deleted
    assert delete_project(open_as(ALICE, "bobs"), "bobs").datasets == 1


def test_single_user_deletes_a_project_from_the_command_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ATELIER_HOME", str(tmp_path / "home"))
    assert main(["projects", "create", "churn"]) == 0
    ws = Workspace.open(Settings.load().with_(project="churn"))
    datasets.save_version(ws, "toy", frame(), provenance={"kind": "test"})
    prefix = project_prefix(access.find_project(ws, "churn").id)
    capsys.readouterr()

    assert main(["projects", "delete", "churn"]) == 1
    err = capsys.readouterr().err
    assert "add --yes to confirm" in err and "Traceback" not in err
    assert datasets.get_version(ws, "toy").version == 1  # nothing deleted without --yes

    assert main(["projects", "delete", "default", "--yes"]) == 1
    assert "'default' cannot be deleted" in capsys.readouterr().err

    assert main(["projects", "delete", "churn", "--yes"]) == 0
    assert "Deleted project 'churn': 1 dataset(s), 0 model(s), 0 job(s)" in capsys.readouterr().out
    assert main(["projects", "list", "--json"]) == 0
    assert [p["name"] for p in json.loads(capsys.readouterr().out)] == ["default"]
    with ws.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Artifact).where(Artifact.key.startswith(prefix))) == 0
    ws.db.dispose()


def test_the_command_line_refuses_a_non_owner(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    settings = Settings(
        home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'meta.db'}", auth="oidc", admins=ADMIN
    )
    for key, value in settings.to_env().items():
        monkeypatch.setenv(key, value)
    admin = Workspace.open(settings.with_(user=ADMIN))
    projects.create_project(admin, "bobs")
    projects.add_member(admin, "bobs", ALICE, "data_scientist")
    admin.db.dispose()
    capsys.readouterr()

    monkeypatch.setenv("ATELIER_USER", ALICE)
    assert main(["projects", "delete", "bobs", "--yes"]) == 1
    err = capsys.readouterr().err
    assert "deleting the project needs the owner role" in err and "Traceback" not in err
    monkeypatch.setenv("ATELIER_USER", "mallory@example.org")
    assert main(["projects", "delete", "bobs", "--yes"]) == 1
    assert "no project named 'bobs'" in capsys.readouterr().err
    monkeypatch.setenv("ATELIER_USER", ADMIN)
    assert main(["projects", "list", "--json"]) == 0
    assert "bobs" in [p["name"] for p in json.loads(capsys.readouterr().out)]
