"""The Data page through AppTest: samples, upload, roles, versions, delete, a bad file."""

from __future__ import annotations

from core.data import datasets
from core.platform import jobs
from core.platform.config import Settings
from core.platform.workspace import Workspace
from tests.app.conftest import texts


def workspace() -> Workspace:
    return Workspace.open(Settings.load())


def click(at, key: str) -> None:
    at.button(key=key).click().run()
    assert not at.exception, at.exception


def test_every_page_renders_without_error(app):
    for page in ("views/eda.py", "views/train.py", "views/benchmarks.py", "views/predict.py", "views/settings.py"):
        app.switch_page(page).run()
        assert not app.exception, (page, app.exception)
        assert app.title, page


def test_load_a_sample_and_see_preview_schema_and_quality(app):
    click(app, "data.sample.titanic")
    assert "as titanic@1" in texts(app.success)
    version = datasets.get_version(workspace(), "titanic")
    assert version.target == "survived"
    assert app.subheader[0].value == "titanic@1"
    assert any(len(df.value) == 100 for df in app.dataframe)  # the preview: first rows only
    assert app.selectbox(key=f"data.roles.{version.id}.target").value == "survived"
    metrics = {m.label: m.value for m in app.metric}
    assert metrics["Rows"] == "1,309" and metrics["Columns"] == "14"


def test_roles_change_makes_a_new_version(app):
    click(app, "data.sample.penguins")
    version = datasets.get_version(workspace(), "penguins")
    app.selectbox(key=f"data.roles.{version.id}.target").set_value("island").run()
    click(app, "data.save_roles")
    latest = datasets.get_version(workspace(), "penguins")
    assert (latest.version, latest.target) == (2, "island")
    assert datasets.get_version(workspace(), "penguins@1").target == "species"


def test_upload_runs_an_import_job(app):
    csv = b"city;price;rooms\nLisbon;350000;3\nPorto;210000;2\nFaro;180000;2\n"
    app.file_uploader[0].set_value(("houses.csv", csv, "text/csv")).run()
    assert not app.exception, app.exception
    assert "semicolon" in texts(app.caption)
    click(app, "data.upload.import")
    ws = workspace()
    [job] = jobs.list_jobs(ws, kind="import_file")
    assert jobs.wait(ws, job.id, timeout=120).status == "succeeded"
    app.run()
    assert datasets.get_version(ws, "houses").n_rows == 3
    assert "houses" in app.selectbox(key="data.browse.dataset").options


def test_bad_upload_shows_a_message_not_a_traceback(app):
    app.file_uploader[0].set_value(("junk.csv", bytes(range(256)) * 50, "text/csv")).run()
    assert not app.exception
    assert app.error, "a clear error should be shown"
    assert "Traceback" not in texts(app.error)
    assert datasets.list_datasets(workspace()) == []


def test_delete_needs_confirmation(app):
    click(app, "data.sample.mpg")
    assert app.button(key="data.delete").disabled
    app.text_input(key="data.delete_confirm.mpg").input("mpg").run()
    click(app, "data.delete")
    assert datasets.list_datasets(workspace()) == []
    assert "Deleted 'mpg'" in texts(app.success)


def test_clone_and_drop_columns(app):
    click(app, "data.sample.mpg")
    app.text_input(key="data.clone_name").input("cars").run()
    click(app, "data.clone")
    assert datasets.get_version(workspace(), "cars").provenance["cloned_from"] == "mpg@1"
