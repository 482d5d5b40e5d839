"""Training runs end to end: the job, the registry, cancel, failures, and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.data import datasets
from core.data.ingest import import_sample
from core.ml.config import TrainConfig
from core.models import registry
from core.models.training import train_version
from core.platform import jobs
from core.platform.errors import InvalidInputError
from core.platform.jobs import JobStatus
from core.platform.progress import Progress

ROOT = Path(__file__).resolve().parents[2]
FAST = TrainConfig(target="species", explain=False)


@pytest.fixture
def penguins(ws):
    return import_sample(ws, "penguins")


def test_train_job_registers_each_model_and_publishes_results(ws, penguins):
    config = {"target": "species", "split": {"kind": "stratified", "cv_folds": 3}, "explain": True}
    job_id = jobs.submit(ws, "train", {"dataset_version_id": penguins.id, "config": config,
                                       "algorithms": ["logistic_regression", "decision_tree"]})
    info = jobs.wait(ws, job_id, timeout=300)
    assert info.status == JobStatus.SUCCEEDED, info.error
    rows = info.result["results"]
    assert [r["algorithm"] for r in rows] == ["logistic_regression", "decision_tree"]
    assert all(r["status"] == "ok" for r in rows)
    models = registry.list_versions(ws, "penguins-species")
    assert [m.version for m in models] == [1, 2]
    card = models[0].card
    assert card.dataset.label == "penguins@1"
    assert {f["name"] for f in card.reference["features"]} == set(card.features) >= {"bill_length_mm", "island"}
    assert models[0].metrics["cv"]["accuracy"]["mean"] > 0.8
    assert models[0].job_id == job_id


def test_the_reference_built_beside_the_evaluation_is_the_training_rows_own(ws, penguins):
    from core.ml.train import train_many
    from core.models.training_stats import build_reference

    seen: list[int] = []

    def describe(rows):
        seen.append(len(rows))
        return build_reference(rows, list(rows.columns))

    frame = datasets.load_frame(ws, penguins)
    results = train_many(frame, FAST, ["decision_tree", "naive_bayes"], describe_rows=describe)
    assert all(r.ok for r in results) and seen == [len(results[0].train_frame)] * 2
    assert all(r.reference == build_reference(r.train_frame, r.features) for r in results)
    train_version(ws, penguins, FAST, ["decision_tree"])
    stored = registry.list_versions(ws, "penguins-species")[0].card.reference
    assert stored == results[0].reference  # the job stores what was built beside its evaluation


def test_same_settings_and_seed_give_the_same_metrics(ws, penguins):
    first = train_version(ws, penguins, FAST, ["random_forest"])
    second = train_version(ws, penguins, FAST, ["random_forest"])
    assert first[0]["metrics"] == second[0]["metrics"]


def test_training_never_changes_the_stored_dataset(ws, penguins):
    before = datasets.load_frame(ws, penguins)
    train_version(ws, penguins, FAST, ["logistic_regression"])
    assert datasets.load_frame(ws, penguins).equals(before)
    assert datasets.get_version(ws, "penguins").version == 1


def test_one_algorithm_failing_does_not_stop_the_others(ws, penguins, monkeypatch):
    from sklearn.neighbors import KNeighborsClassifier

    def crash(self, X, y=None, **kwargs):
        raise RuntimeError("simulated crash inside the estimator")

    # The estimator itself fails (in every cross-validation fold, on whatever thread fits it), so the
    # real path is tested: the failure is caught, recorded on knn's row, and the next algorithm still fits.
    monkeypatch.setattr(KNeighborsClassifier, "fit", crash)
    rows = train_version(ws, penguins, FAST, ["knn", "decision_tree"])
    assert [r["status"] for r in rows] == ["failed", "ok"]
    assert "simulated crash" in rows[0]["error"] and rows[0]["model"] is None
    assert [m.algorithm for m in registry.list_versions(ws)] == ["decision_tree"]


def test_cancel_keeps_the_models_already_finished(ws, penguins):
    job_id = jobs.submit(ws, "train", {"dataset_version_id": penguins.id,
                                       "config": {"target": "species", "explain": False},
                                       "algorithms": ["decision_tree"] + ["mlp"] * 6})
    deadline = time.monotonic() + 240
    while not jobs.get(ws, job_id).result.get("results"):
        assert time.monotonic() < deadline and jobs.get(ws, job_id).active, jobs.get(ws, job_id).error
        time.sleep(0.2)
    jobs.cancel(ws, job_id)
    info = jobs.wait(ws, job_id, timeout=120)
    assert info.status == JobStatus.CANCELLED
    finished = len(info.result["results"])
    assert 1 <= finished < 7
    assert len(registry.list_versions(ws)) == finished


@pytest.mark.parametrize(
    ("config", "algorithms", "message"),
    [
        (TrainConfig(target="nope"), ["decision_tree"], "target column 'nope' is not in the data"),
        (TrainConfig(target="species", problem_kind="regression"), ["ridge"], "Regression needs a numeric target"),
        (TrainConfig(target="species", features=[]), ["decision_tree"], "No features are left"),
        (TrainConfig(target="species"), ["kmeans"], r"k-means \(.kmeans.\) does not do multiclass problems"),
        (TrainConfig(target="species"), [], "at least one algorithm"),
    ],
)
def test_bad_training_requests_are_refused_with_a_message(ws, penguins, config, algorithms, message):
    with pytest.raises(InvalidInputError, match=message):
        train_version(ws, penguins, config, algorithms, callbacks=Progress())
    assert registry.list_versions(ws) == []


def test_cli_train_json(ws, penguins):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")}
    env["ATELIER_HOME"] = str(ws.settings.home)
    done = subprocess.run(
        [sys.executable, "-m", "core", "train", "--dataset", "penguins@1", "--target", "species",
         "--algorithms", "decision_tree,logistic_regression", "--json"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [r["algorithm"] for r in rows] == ["decision_tree", "logistic_regression"]
    assert rows[0]["model"] == "penguins-species:1"
    assert 0.8 < rows[1]["metrics"]["accuracy"] <= 1.0 and "f1_macro" in rows[1]["metrics"]
    bad = subprocess.run([sys.executable, "-m", "core", "train", "--dataset", "penguins", "--target", "x"],
                         capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert bad.returncode == 1 and "'x' is not in penguins@1" in bad.stderr and "Traceback" not in bad.stderr


def test_a_fit_uses_no_more_native_threads_than_its_n_jobs(ws, penguins, monkeypatch):
    """BLAS/OpenMP pools (logistic regression's solver has no n_jobs of its own) follow the fit's n_jobs,
    so folds fitted side by side never ask for more threads than the cores they were given."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_info

    seen = []
    fit = LogisticRegression.fit

    def recording_fit(self, X, y, **kwargs):
        seen.append({pool["num_threads"] for pool in threadpool_info()})
        return fit(self, X, y, **kwargs)

    monkeypatch.setattr(LogisticRegression, "fit", recording_fit)
    config = TrainConfig(target="species", explain=False, n_jobs=1)
    rows = train_version(ws, penguins, config, ["logistic_regression"])
    assert rows[0]["status"] == "ok"
    assert seen and all(threads <= {1} for threads in seen)
