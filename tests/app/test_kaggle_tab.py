"""The Data page's Kaggle tab through AppTest, with the real Kaggle client against the local double."""

from __future__ import annotations

from core.data import datasets
from core.data.remote import REMOTE_IMPORT_JOB
from core.platform import jobs
from core.platform.config import Settings
from core.platform.workspace import Workspace
from tests.app.conftest import texts
from tests.support.kaggle_double import kaggle  # noqa: F401

CSV = b"id,age\n1,30\n2,41\n3,25\n"


def test_kaggle_tab_lists_files_and_imports_one_as_a_job(kaggle, app):  # noqa: F811
    kaggle.datasets[("alice", "people")] = {2: {"people.csv": CSV, "README.md": b"hello"}}
    kaggle.competitions["closed"] = (False, {"train.csv": CSV})
    app.text_input(key="data.kaggle.handle").set_value("alice/nothing").run()
    app.button(key="data.kaggle.list").click().run()
    assert not app.exception, app.exception
    assert "404" in texts(app.error)

    app.text_input(key="data.kaggle.handle").set_value("https://www.kaggle.com/datasets/alice/people").run()
    app.button(key="data.kaggle.list").click().run()
    assert not app.exception, app.exception
    assert app.multiselect(key="data.kaggle.files").options == [f"people.csv ({len(CSV)} B)"]
    app.text_input(key="data.kaggle.name").set_value("people").run()
    app.button(key="data.kaggle.import").click().run()
    assert not app.exception, app.exception
    ws = Workspace.open(Settings.load())
    try:
        [job] = jobs.list_jobs(ws, kind=REMOTE_IMPORT_JOB)
        assert jobs.wait(ws, job.id, timeout=120).status == "succeeded"
        version = datasets.get_version(ws, "people")
        assert version.n_rows == 3 and version.provenance["version"] == 2
    finally:
        ws.db.dispose()


def test_kaggle_tab_imports_several_files_as_separate_datasets(kaggle, app):  # noqa: F811
    kaggle.competitions["titanic"] = (True, {"train.csv": CSV, "test.csv": CSV + b"4,50\n", "notes.txt": b"x"})
    app.text_input(key="data.kaggle.handle").set_value("competitions/titanic").run()
    app.button(key="data.kaggle.list").click().run()
    assert not app.exception, app.exception
    app.multiselect(key="data.kaggle.files").set_value(["train.csv", "test.csv"]).run()
    app.text_input(key="data.kaggle.name.test.csv").set_value("titanic-test").run()
    app.button(key="data.kaggle.import").click().run()
    assert not app.exception, app.exception
    ws = Workspace.open(Settings.load())
    try:
        found = jobs.list_jobs(ws, kind=REMOTE_IMPORT_JOB)
        assert len(found) == 2 and all(jobs.wait(ws, j.id, timeout=120).status == "succeeded" for j in found)
        assert (datasets.get_version(ws, "train").n_rows, datasets.get_version(ws, "titanic-test").n_rows) == (3, 4)
    finally:
        ws.db.dispose()
