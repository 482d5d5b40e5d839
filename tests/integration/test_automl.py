"""AutoML end to end: the job registers a model that predicts, resume repeats no trial, replay, bad resumes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.data import datasets
from core.data.ingest import import_sample
from core.ml.automl import AutoMLConfig
from core.models import registry
from core.models.automl_runs import load_receipt, resume_run, run_on_version, submit_automl
from core.platform import jobs
from core.platform.errors import NotFoundError
from core.platform.jobs import JobStatus

ROOT = Path(__file__).resolve().parents[2]
QUICK = AutoMLConfig(target="species", budget=30, algorithms=("logistic_regression", "lightgbm", "knn"), max_trials=5)


@pytest.fixture
def penguins(ws):
    return import_sample(ws, "penguins")


def test_the_job_registers_a_model_that_predicts_and_publishes_the_leaderboard(ws, penguins):
    job_id = submit_automl(ws, penguins, QUICK)
    info = jobs.wait(ws, job_id, timeout=120)
    assert info.status == JobStatus.SUCCEEDED, info.error
    result = info.result
    assert result["run_id"] == job_id
    name, version = result["best"]["model"].split(":")
    model = registry.get_version(ws, f"{name}:{version}")
    assert model.job_id == job_id
    pipeline = registry.load_pipeline(ws, model)
    frame = datasets.load_frame(ws, penguins)
    assert len(pipeline.predict(frame[list(model.card.features)].head(5))) == 5
    assert result["leaderboard"] and {"algorithm", "params", "score", "seconds", "status"} <= set(
        result["leaderboard"][0])
    assert "log_loss" in result["best"]["metrics"]
    assert load_receipt(ws, job_id).winner is not None


def test_resume_continues_without_repeating_a_trial_and_a_deleted_dataset_is_refused(ws, penguins):
    first = run_on_version(ws, penguins, QUICK)
    before = len(first["leaderboard"])
    again = resume_run(ws, first["run_id"], 3)
    receipt = load_receipt(ws, first["run_id"])
    keys = [t.config.key() for t in receipt.trials if t.status == "ok"]
    assert len(keys) == len(set(keys))
    assert len(again["leaderboard"]) >= before and len(receipt.sessions) == 2
    datasets.delete_dataset(ws, "penguins")
    with pytest.raises(NotFoundError, match="was deleted"):
        resume_run(ws, first["run_id"], 5)


def test_the_command_line_runs_and_replays(tmp_path):
    env = {**os.environ, "ATELIER_HOME": str(tmp_path / "home")}

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "core", *args], capture_output=True, text=True, env=env,
                              cwd=ROOT, timeout=120)

    assert cli("datasets", "import", str(ROOT / "data/samples/penguins.parquet"), "--name", "penguins").returncode == 0
    done = cli("automl", "--dataset", "penguins", "--target", "species", "--budget", "6", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert {"run_id", "best", "leaderboard", "elapsed_seconds"} <= set(out)
    assert out["best"]["model"] == "penguins-species:1"
    replayed = cli("automl", "replay", out["run_id"], "--json")
    assert replayed.returncode == 0, replayed.stderr
    report = json.loads(replayed.stdout)
    assert report["reproduced"] is True and report["recorded"] and report["replayed"]
    small = cli("automl", "--dataset", "penguins", "--target", "species", "--budget", "0.01")
    assert small.returncode == 1 and "too small" in small.stderr and "--budget" in small.stderr
    missing = cli("automl", "resume", "nosuchrun", "--budget", "5")
    assert missing.returncode == 1 and "No AutoML run" in missing.stderr
