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
    assert app.selectbox(key="data.kaggle.file").options == [f"people.csv ({len(CSV)} B)"]
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
