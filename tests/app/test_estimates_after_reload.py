"""The estimate shown before Train stays beside the time taken, after a reload too (issue 11)."""

from __future__ import annotations

import pytest

from core.data.ingest import import_sample
from core.models.training import submit_training
from core.platform import jobs
from core.platform.config import Settings
from core.platform.workspace import Workspace
from tests.app.conftest import open_on, texts


@pytest.mark.xfail(reason="known failure after the 2026-12-02 integration; see closing note", strict=False)
def test_a_reloaded_page_shows_the_estimate_beside_the_time_taken(app_home, monkeypatch):
    from core.platform.jobs import launch

    ws = Workspace.open(Settings.load())
    version = import_sample(ws, "penguins")
    monkeypatch.setattr(launch, "_launch", lambda settings, job_id: None)  # queued: it runs when the test says
    config = {"target": "species", "features": ["bill_length_mm", "bill_depth_mm"], "problem_kind": "multiclass",
              "explain": False, "split": {"kind": "random", "test_size": 0.2, "cv_folds": 0, "seed": 0}}
    job_id = submit_training(ws, version, config, ["decision_tree"],
                             estimates={"decision_tree": {"seconds": 12.34, "raw_seconds": 6.0}})
    at = open_on("views/train.py", timeout=120)  # a fresh session: it never started the job
    at.selectbox(key="train.dataset").set_value("penguins").run()
    assert jobs.run_job(job_id) == "succeeded"
    at.run()
    assert not at.exception, at.exception
    [table] = [d.value for d in at.dataframe if "estimated s" in d.value.columns]
    assert table["estimated s"].tolist() == [12.3] and table["took s"].iloc[0] > 0
    assert "estimated 12.3 s" in texts(at.caption)  # the model's own card keeps it too
