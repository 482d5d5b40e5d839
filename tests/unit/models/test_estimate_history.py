"""The estimate shown before Train travels with the job and the models, and calibrates the next one."""

from __future__ import annotations

import pytest

from core.data.ingest import import_sample
from core.ml.estimate import correction_factor
from core.models import registry
from core.models.estimate_history import add_estimate, correction_factors, estimate_pairs
from core.models.training import submit_training
from core.platform import jobs
from core.platform.jobs import launch


def test_a_finished_run_keeps_its_estimates_and_teaches_a_correction(ws, monkeypatch):
    monkeypatch.setattr(launch, "_launch", lambda settings, job_id: None)  # run below, in this process
    for key, value in ws.settings.to_env().items():
        monkeypatch.setenv(key, value)
    version = import_sample(ws, "penguins")
    config = {"target": "species", "features": ["bill_length_mm", "bill_depth_mm"], "explain": False,
              "split": {"kind": "random", "test_size": 0.2, "cv_folds": 3, "seed": 0}}
    shown = {"decision_tree": {"seconds": 0.3, "raw_seconds": 0.2}}
    job_id = submit_training(ws, version, config, ["decision_tree", "logistic_regression"], estimates=shown)
    assert jobs.get(ws, job_id).params["estimates"] == shown
    assert jobs.run_job(job_id) == "succeeded"

    rows = {r["algorithm"]: r for r in jobs.get(ws, job_id).result["results"]}
    took = rows["decision_tree"]["total_seconds"]
    assert took > 0 and rows["decision_tree"]["estimated_seconds"] == 0.3
    assert rows["logistic_regression"]["estimated_seconds"] is None  # no estimate was shown for it
    [model] = [m for m in registry.list_versions(ws) if m.algorithm == "decision_tree"]
    assert model.card.timings["estimated_seconds"] == 0.3  # the model keeps it: shown after any reload

    assert estimate_pairs(ws) == {"decision_tree": [(0.2, pytest.approx(took))]}
    learnt = correction_factor([(0.2, took)])  # None only where the run was too short to learn from
    assert correction_factors(ws) == ({} if learnt is None else {"decision_tree": (learnt, 1)})


def test_an_estimate_that_arrives_after_submit_shows_beside_the_time_taken(ws, monkeypatch):
    monkeypatch.setattr(launch, "_launch", lambda settings, job_id: None)
    for key, value in ws.settings.to_env().items():
        monkeypatch.setenv(key, value)
    version = import_sample(ws, "penguins")
    config = {"target": "species", "features": ["bill_length_mm", "bill_depth_mm"], "explain": False,
              "split": {"kind": "random", "test_size": 0.2, "cv_folds": 0, "seed": 0}}
    job_id = submit_training(ws, version, config, ["decision_tree"])  # Train pressed while estimating
    add_estimate(ws, job_id, "decision_tree", {"seconds": 0.4, "raw_seconds": 0.3})  # the estimate arrives
    assert jobs.run_job(job_id) == "succeeded"

    [row] = jobs.get(ws, job_id).result["results"]
    assert row["estimated_seconds"] == 0.4 and row["total_seconds"] > 0
    [model] = registry.list_versions(ws)
    assert model.card.timings["estimated_seconds"] == 0.4  # the model card shows it beside the time taken
