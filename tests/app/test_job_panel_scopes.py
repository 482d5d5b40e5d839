"""Each page's job panel shows its own jobs only (issue 11: "finished job panels from other datasets stay on
screen"): EDA's profiling panel the version shown, Predict's batch and retrain panels the model shown, and
a succeeded import gives way to the dataset it opened.  Jobs are queued, never launched, so each panel
reads "queued" for as long as the test needs.
"""

from __future__ import annotations

import pytest

from core.data.ingest import import_sample
from core.eda.reports import submit_profile
from core.models import registry
from core.platform import jobs
from core.platform.config import Settings
from core.platform.workspace import Workspace
from core.serve.batch import submit_batch
from tests.app.conftest import open_on


def workspace() -> Workspace:
    return Workspace.open(Settings.load())


def panel_titles(at, prefix: str) -> list[str]:
    return [str(m.value) for m in at.markdown if f"**{prefix}" in str(m.value)]


@pytest.fixture
def queued(app_home, monkeypatch):
    from core.platform.jobs import launch

    monkeypatch.setattr(launch, "_launch", lambda settings, job_id: None)  # queued until the test runs it


def test_the_profiling_panel_shows_the_shown_versions_job_only(queued):
    ws = workspace()
    penguins, titanic = import_sample(ws, "penguins"), import_sample(ws, "titanic")
    mine, other = submit_profile(ws, penguins), submit_profile(ws, titanic)
    at = open_on("views/eda.py")
    at.session_state["eda.view"] = "Full report"
    at.selectbox(key="eda.dataset").set_value("penguins").run()
    assert not at.exception, at.exception
    assert panel_titles(at, "Profile") == [t for t in panel_titles(at, "Profile") if "penguins@1" in t]
    assert len(panel_titles(at, "Profile")) == 1
    at.selectbox(key="eda.dataset").set_value("titanic").run()
    [title] = panel_titles(at, "Profile")
    assert "titanic@1" in title
    for job_id in (mine, other):
        jobs.cancel(ws, job_id)


def test_the_batch_panel_shows_the_shown_models_jobs_only(queued, tmp_path):
    from tests.support.models import train_sample

    ws = workspace()
    train_sample(ws, "penguins", ["decision_tree"])
    train_sample(ws, "titanic", ["decision_tree"])
    models = {m.target: m for m in registry.list_versions(ws)}
    penguins_model, titanic_model = models["species"], models["survived"]
    rows = tmp_path / "rows.csv"
    rows.write_text("a\n1\n")
    for model in (penguins_model, titanic_model):
        submit_batch(ws, model, rows, source=f"rows for {model.name}.csv")
    at = open_on("views/predict.py")
    at.selectbox(key="predict.name").set_value(titanic_model.name).run()
    assert not at.exception, at.exception
    [title] = panel_titles(at, "Score")
    assert titanic_model.label in title and penguins_model.name not in title
    at.selectbox(key="predict.name").set_value(penguins_model.name).run()
    [title] = panel_titles(at, "Score")
    assert penguins_model.label in title
    for job in jobs.list_jobs(ws, active_only=True):
        jobs.cancel(ws, job.id)
