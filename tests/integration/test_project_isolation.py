"""Isolation between projects at every layer: names per project, artifact keys under the project,
jobs that run with their project and are invisible elsewhere, API keys that serve one project, and
the owner's tools (rename, archive, statistics).  Real SQLite files (and PostgreSQL where marked),
real job processes, a real uvicorn server."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from sqlalchemy import insert, select

from core.cli import main
from core.data import datasets
from core.data.ingest import import_sample
from core.ml.config import TrainConfig
from core.models import registry
from core.models.training import submit_training
from core.platform import access, jobs, projects
from core.platform.config import Settings
from core.platform.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from core.platform.metadata import Database
from core.platform.metadata.models import Dataset, DatasetVersion, Job
from core.serve import api_keys
from core.serve.batch import predict_file
from core.serve.loaded import load_model
from tests.support.teams import ADMIN, ALICE, BOB, opener, team_settings


@pytest.fixture
def sqlite_base(tmp_path) -> Settings:
    return team_settings(tmp_path)


@pytest.fixture
def teams(sqlite_base):
    """Alice works in 'alices', Bob in 'bobs'; neither belongs to the other's project."""
    _open, opened = opener(sqlite_base)
    admin = _open(ADMIN)
    for name, member in (("alices", ALICE), ("bobs", BOB)):
        projects.create_project(admin, name)
        projects.add_member(admin, name, member, "data_scientist")
    yield _open(ALICE, "alices"), _open(BOB, "bobs"), _open
    for ws in opened:
        ws.db.dispose()


def frame(n: int = 40) -> pd.DataFrame:
    return pd.DataFrame({"x": range(n), "y": [i % 2 for i in range(n)]})


def _model(ws, name="titanic-y"):
    return registry.register_version(
        ws, name, model_bytes=b"model", algorithm="logistic_regression", problem_type="binary", target="y",
        dataset_version_id=None, dataset_label="titanic@1", metrics={"accuracy": 0.9}, card={}, train_seconds=1.0)


# -- names and artifact keys ------------------------------------------------------------------
def test_two_projects_may_each_hold_a_titanic_and_keep_their_files_apart(open_as):
    admin = open_as(ADMIN)
    projects.create_project(admin, "second")
    other = open_as(ADMIN, "second")
    mine = datasets.save_version(admin, "titanic", frame(), provenance={"kind": "test"})
    theirs = datasets.save_version(other, "titanic", frame(), provenance={"kind": "test"})  # the same bytes
    assert mine.id != theirs.id and mine.sha256 == theirs.sha256
    default, second = access.find_project(admin, "default"), access.find_project(admin, "second")
    assert mine.artifact_key == f"projects/{default.id}/datasets/{mine.sha256}.parquet"
    assert theirs.artifact_key == f"projects/{second.id}/datasets/{theirs.sha256}.parquet"
    m1, m2 = _model(admin), _model(other)
    assert m1.artifact_key.startswith(f"projects/{default.id}/models/")
    assert m2.artifact_key.startswith(f"projects/{second.id}/models/")
    assert [v.label for v in registry.list_versions(other)] == ["titanic-y:1"]

    datasets.delete_dataset(admin, "titanic")  # one project's delete leaves the other's file alone
    assert datasets.load_frame(other, datasets.get_version(other, "titanic")).equals(frame())
    with pytest.raises(ConflictError):
        datasets.save_version(other, "titanic", frame(10), provenance={"kind": "test"})  # still unique within one


def test_keys_from_before_projects_keep_working(ws):
    """A version recorded under an unprefixed key (made before projects) is still read from it."""
    new = datasets.save_version(ws, "toy", frame(), provenance={"kind": "test"})
    ref = ws.artifact(new.artifact_key)
    old_key = f"datasets/{ref.sha256}.parquet"
    ws.put_bytes(old_key, ws.get_bytes(new.artifact_key), kind="dataset")
    with ws.db.session() as s:
        s.get(DatasetVersion, new.id).artifact_key = old_key
    version = datasets.get_version(ws, "toy")
    assert version.artifact_key == old_key and datasets.load_frame(ws, version).equals(frame())
    from core.eda.reports import report_key

    assert report_key(version) == f"reports/{ref.sha256}/profile.html"  # its report stays where it was


def test_rows_about_a_model_stay_with_that_projects_model_of_the_same_name(teams):
    """Routes, alerts and prediction runs find a model by name: each project's own, never the other's."""
    from core.serve import alerts, prediction_runs, routing

    alice, bob, _ = teams
    _model(bob), _model(bob), _model(alice)  # 'titanic-y' in both projects: two versions in Bob's
    routing.set_route(bob, "titanic-y", challenger=2, share=0.5)
    assert routing.get_route(bob, "titanic-y").challenger == 2
    assert routing.get_route(alice, "titanic-y").challenger is None
    prediction_runs.record(bob, registry.get_version(bob, "titanic-y:1"), source="bob.csv", n_rows=3,
                           artifact_key=None, summary={})
    assert [r.source for r in prediction_runs.list_runs(bob, "titanic-y")] == ["bob.csv"]
    assert prediction_runs.list_runs(alice, "titanic-y") == []
    alerts.record_event(bob, "titanic-y", 1, "drift", "drifted")
    assert len(alerts.list_events(bob)) == 1 and alerts.list_events(alice) == []
    assert alerts.list_events(alice, "titanic-y") == []


# -- another project's things through core and the command line --------------------------------
def test_alice_cannot_read_predict_with_download_or_delete_bobs_things(teams, tmp_path):
    alice, bob, _ = teams
    secret = import_sample(bob, "titanic")
    [model] = _train(bob, secret)
    job_id = submit_training(bob, secret, TrainConfig(target=secret.target), ["logistic_regression"])
    assert jobs.wait(bob, job_id, timeout=300).status == "succeeded"
    csv = tmp_path / "rows.csv"
    datasets.load_frame(bob, secret).drop(columns=[secret.target]).head(5).to_csv(csv, index=False)

    refused = [
        lambda: datasets.get_version(alice, "titanic"),
        lambda: datasets.get_version_by_id(alice, secret.id),
        lambda: datasets.load_frame(alice, datasets.get_version_by_id(alice, secret.id)),
        lambda: datasets.delete_dataset(alice, "titanic"),
        lambda: registry.get_version(alice, model.label),
        lambda: registry.get_version_by_id(alice, model.id),
        lambda: load_model(alice, model.label),
        lambda: registry.delete_version(alice, model.name, model.version),
        lambda: jobs.get(alice, job_id),
        lambda: jobs.logs(alice, job_id),
        lambda: jobs.cancel(alice, job_id),
    ]
    for attempt in refused:
        with pytest.raises(NotFoundError):
            attempt()
    assert jobs.list_jobs(alice) == [] and [j.id for j in jobs.list_jobs(bob)] == [job_id]
    # predicting with Bob's model in Alice's workspace: the loaded model cannot be smuggled in by name
    with pytest.raises(NotFoundError):
        predict_file(alice, load_model(alice, f"{model.name}:{model.version}"), csv)
    assert registry.get_version(bob, model.label).id == model.id  # all still there for Bob
    assert datasets.get_version(bob, "titanic").id == secret.id


def _train(ws, version):
    from core.models.training import train_version

    rows = train_version(ws, version, TrainConfig(target=version.target), ["logistic_regression"])
    return [registry.get_version(ws, r["model"]) for r in rows]


@pytest.fixture
def cli_as(sqlite_base, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for key, value in sqlite_base.to_env().items():
        monkeypatch.setenv(key, value)

    def run(user, *argv):
        monkeypatch.setenv("ATELIER_USER", user)
        monkeypatch.delenv("ATELIER_PROJECT", raising=False)
        return main(list(argv))
    return run


def test_the_command_line_refuses_bobs_things_to_alice_as_not_found(teams, cli_as, capsys, tmp_path):
    alice, bob, _ = teams
    secret = import_sample(bob, "titanic")
    [model] = _train(bob, secret)
    csv = tmp_path / "rows.csv"
    datasets.load_frame(bob, secret).drop(columns=[secret.target]).head(5).to_csv(csv, index=False)
    capsys.readouterr()
    attempts = [
        ("--project", "alices", "datasets", "show", "titanic"),
        ("--project", "alices", "datasets", "delete", "titanic", "--yes"),
        ("--project", "alices", "models", "show", model.label),
        ("--project", "alices", "models", "delete", model.name, str(model.version), "--yes"),
        ("--project", "alices", "predict", "--model", model.label, "--input", str(csv),
         "--output", str(tmp_path / "out.csv")),
        ("--project", "bobs", "datasets", "list"),  # naming Bob's project does not help
    ]
    for argv in attempts:
        assert cli_as(ALICE, *argv) == 1, argv
        err = capsys.readouterr().err
        assert "no " in err.lower() and "Traceback" not in err, (argv, err)
        assert "forbidden" not in err.lower() and "permission" not in err.lower()
    assert not (tmp_path / "out.csv").exists()
    assert cli_as(BOB, "--project", "bobs", "models", "list") == 0
    assert model.name in capsys.readouterr().out


# -- jobs run with their project ---------------------------------------------------------------
def test_two_users_train_at_once_in_their_projects_and_see_only_their_own_job(teams):
    alice, bob, _ = teams
    a_data, b_data = import_sample(alice, "titanic"), import_sample(bob, "titanic")
    a_job = submit_training(alice, a_data, TrainConfig(target=a_data.target), ["logistic_regression"])
    b_job = submit_training(bob, b_data, TrainConfig(target=b_data.target), ["logistic_regression"])
    assert [j.id for j in jobs.list_jobs(alice)] == [a_job]  # listed while both may still run
    assert [j.id for j in jobs.list_jobs(bob)] == [b_job]
    a_done, b_done = jobs.wait(alice, a_job, timeout=300), jobs.wait(bob, b_job, timeout=300)
    assert (a_done.status, b_done.status) == ("succeeded", "succeeded"), (a_done.error, b_done.error)
    a_versions, b_versions = registry.list_versions(alice), registry.list_versions(bob)
    assert [v.job_id for v in a_versions] == [a_job] and [v.job_id for v in b_versions] == [b_job]
    assert a_versions[0].name == b_versions[0].name  # the same default name, once in each project
    alices = access.find_project(alice, "alices")
    assert a_versions[0].artifact_key.startswith(f"projects/{alices.id}/")


def test_a_job_runs_in_its_own_project_whatever_the_process_was_told(teams):
    """The row says the project: a job process started with another ATELIER_PROJECT still works in it."""
    from core.platform.jobs.runner import run_job

    alice, bob, _ = teams
    version = datasets.save_version(bob, "toy", frame(), provenance={"kind": "test"})
    job_id = jobs.submit(bob, "tests.support.jobfuncs:whereami_job", {}, start=False)
    with bob.db.session() as s:  # the submitter's project is on the row
        assert s.get(Job, job_id).project_id == access.find_project(bob, "bobs").id
    env = {**bob.settings.to_env(), "ATELIER_PROJECT": "alices"}
    assert run_job(job_id, env) == "succeeded"
    assert jobs.get(bob, job_id).status == "succeeded"
    assert datasets.get_version(bob, "toy").id == version.id


# -- the HTTP API serves one project, with that project's keys ---------------------------------
def test_api_keys_carry_their_project_and_a_server_serves_only_its_own(teams):
    from tests.integration.test_api import Server

    alice, bob, _ = teams
    [model] = _train(bob, import_sample(bob, "titanic"))
    registry.promote(bob, model.name, model.version)
    bobs_key, alices_key = api_keys.create_key(bob, "ci"), api_keys.create_key(alice, "ci")  # same name, two projects
    assert bobs_key.info.project == "bobs" and [k.name for k in api_keys.list_keys(alice)] == ["ci"]
    server = Server(bob)
    try:
        def models(key):
            return server.client.get("/v1/models", headers={"Authorization": f"Bearer {key}"})

        answer = models(bobs_key.key)
        assert answer.status_code == 200 and [m["name"] for m in answer.json()["models"]] == [model.name]
        assert models(alices_key.key).status_code == 401  # a key of another project is not valid here
    finally:
        server.close()
    alices_server = Server(alice)
    try:
        answer = alices_server.client.get(f"/v1/models/{model.name}",
                                          headers={"X-API-Key": alices_key.key})
        assert answer.status_code == 404  # Bob's model does not exist for Alice's server
        for path in (f"/v1/models/{model.name}/predict", f"/v1/models/{model.name}/versions/{model.version}/predict"):
            answer = alices_server.client.post(path, headers={"X-API-Key": alices_key.key},
                                               json={"dataframe_records": [{"Pclass": 1, "Sex": "male"}]})
            assert answer.status_code == 404 and model.name in answer.text, path  # no prediction with Bob's model
            assert "predictions" not in answer.json()
    finally:
        alices_server.close()
    with pytest.raises(NotFoundError):
        api_keys.revoke_key(alice, bobs_key.info.prefix)


def test_a_viewer_cannot_make_api_keys(teams):
    _, bob, _open = teams
    projects.add_member(_open(ADMIN), "bobs", ALICE, "viewer")
    with pytest.raises(PermissionDeniedError, match="needs the data_scientist or owner role"):
        api_keys.create_key(_open(ALICE, "bobs"), "mine")
    assert api_keys.list_keys(bob) == []


# -- the owner's tools -------------------------------------------------------------------------
def test_rename_archive_restore_and_statistics(teams):
    alice, bob, _open = teams
    admin = _open(ADMIN)
    datasets.save_version(bob, "toy", frame(), provenance={"kind": "test"})
    datasets.save_version(bob, "toy", frame(50), provenance={"kind": "test"}, if_exists="new_version")
    _model(bob)
    stats = projects.statistics(bob, "bobs")
    assert (stats.datasets, stats.dataset_versions, stats.models, stats.model_versions) == (1, 2, 1, 1)
    files = [datasets.get_version(bob, "toy", n).size_bytes for n in (1, 2)]
    assert stats.storage_bytes == sum(files) + registry.get_version(bob, "titanic-y:1").size_bytes
    assert projects.statistics(alice, "alices").datasets == 0
    with pytest.raises(NotFoundError):
        projects.statistics(alice, "bobs")

    with pytest.raises(PermissionDeniedError, match="renaming the project needs the owner role"):
        projects.rename_project(bob, "bobs", "robert")
    projects.add_member(admin, "bobs", BOB, "owner")
    renamed = projects.rename_project(bob, "bobs", "robert")
    robert = _open(BOB, "robert")
    assert datasets.get_version(robert, "toy").version == 2  # everything moved with the name
    with pytest.raises(NotFoundError):
        datasets.list_datasets(_open(BOB, "bobs"))
    with pytest.raises(ConflictError, match="already exists"):
        projects.rename_project(robert, "robert", "alices")
    with pytest.raises(InvalidInputError, match="keeps its name"):
        projects.rename_project(admin, "default", "other")

    archived = projects.set_archived(robert, "robert")
    assert archived.archived and archived.id == renamed.id
    with pytest.raises(ConflictError, match="archived: it can be read, not changed"):
        datasets.save_version(robert, "more", frame(), provenance={"kind": "test"})
    assert [d.name for d in datasets.list_datasets(robert)] == ["toy"]  # still readable
    projects.set_archived(robert, "robert", archived=False)
    datasets.save_version(robert, "more", frame(), provenance={"kind": "test"})
    actions = [e.action for e in projects.audit_events(robert, "robert")][:4]
    assert actions == ["import", "restore_project", "archive_project", "rename_project"]


def test_the_cli_renames_archives_and_counts(cli_as, capsys):
    assert cli_as(ADMIN, "projects", "create", "churn") == 0
    assert cli_as(ADMIN, "projects", "rename", "churn", "attrition") == 0
    assert cli_as(ADMIN, "projects", "archive", "attrition") == 0
    capsys.readouterr()
    assert cli_as(ADMIN, "projects", "list", "--json") == 0
    listed = {p["name"]: p["archived"] for p in json.loads(capsys.readouterr().out)}
    assert listed == {"attrition": True, "default": False}
    assert cli_as(ADMIN, "projects", "archive", "attrition", "--restore") == 0
    assert cli_as(ADMIN, "projects", "stats", "attrition", "--json") == 0
    out = capsys.readouterr().out
    assert json.loads(out[out.index("{"):])["datasets"] == 0


# -- the lookup of the project costs no extra session per query ---------------------------------
def test_the_project_lookup_is_remembered_but_roles_are_read_each_time(teams, monkeypatch):
    alice, _, _open = teams
    datasets.list_datasets(alice)
    opened = []
    real = alice.db.session

    def counting():
        opened.append(1)
        return real()

    monkeypatch.setattr(alice.db, "session", counting)
    access.in_project(Dataset.project_id, alice)
    assert len(opened) == 1  # the role only: the project row is remembered
    projects.remove_member(_open(ADMIN), "alices", ALICE)
    with pytest.raises(NotFoundError):
        access.in_project(Dataset.project_id, alice)  # removed: refused at once, nothing remembered


# -- migration 0005 on a workspace with data ---------------------------------------------------
def test_the_upgrade_to_names_per_project_keeps_every_version(tmp_path):
    """SQLite rebuilds the datasets and models tables: their versions (ON DELETE CASCADE) must survive."""
    from alembic import command

    url = f"sqlite:///{tmp_path / 'meta.db'}"
    db = Database(url)
    cfg = db._alembic_config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0004")
    with db.engine.begin() as conn:
        conn.execute(insert(Dataset.__table__).values(id=1, name="titanic", project_id=1, description="",
                                                     created_at=pd.Timestamp.now(tz="UTC")))
        conn.execute(insert(DatasetVersion.__table__).values(
            id=1, dataset_id=1, version=1, artifact_key="datasets/x.parquet", sha256="0" * 64, size_bytes=10,
            n_rows=3, n_columns=2, schema=[], roles={}, quality={}, provenance={}, note="",
            created_at=pd.Timestamp.now(tz="UTC")))
    db.upgrade()
    with db.session() as s:
        assert s.scalar(select(DatasetVersion.dataset_id)) == 1
        s.add(Dataset(name="titanic", project_id=None, description=""))  # another project (here: none)
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # back on after the upgrade
    db.dispose()


def test_a_member_removed_between_two_commands_is_refused_at_the_next(teams, cli_as, capsys):
    alice, _, _open = teams
    datasets.save_version(alice, "toy", frame(), provenance={"kind": "test"})
    capsys.readouterr()
    assert cli_as(ALICE, "--project", "alices", "datasets", "list") == 0
    assert "toy" in capsys.readouterr().out
    projects.remove_member(_open(ADMIN), "alices", ALICE)
    for argv in (("datasets", "list"), ("datasets", "show", "toy"), ("datasets", "delete", "toy", "--yes")):
        assert cli_as(ALICE, "--project", "alices", *argv) == 1, argv
        captured = capsys.readouterr()
        assert "no project named 'alices'" in captured.err and "toy" not in captured.out, argv
    assert datasets.get_version(_open(ADMIN, "alices"), "toy").version == 1
