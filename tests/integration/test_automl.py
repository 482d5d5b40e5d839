"""AutoML end to end: the job registers a model that predicts, resume repeats no trial, replay, bad resumes,
and an ensemble winner explained on its card and by the HTTP API's ?explain=topN."""

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
from tests.support.cli import cli

ROOT = Path(__file__).resolve().parents[2]
QUICK = AutoMLConfig(target="species", budget=30, algorithms=("logistic_regression", "lightgbm", "knn"), max_trials=5)


@pytest.fixture
def penguins(ws):
    return import_sample(ws, "penguins")


def _cli_predicts_as_in_process(ws, model, frame, tmp_path: Path) -> None:
    """``python -m core predict`` in a fresh process gives the loaded pipeline's own predictions, row for row."""
    import numpy as np
    import pandas as pd

    rows = frame[list(model.card.features)].head(25)
    source, out = tmp_path / "rows.csv", tmp_path / "scored.csv"
    rows.to_csv(source, index=False)
    env = {**os.environ, "ATELIER_HOME": str(ws.settings.home)}
    done = subprocess.run([sys.executable, "-m", "core", "predict", "--model", model.label, "--input", str(source),
                           "--output", str(out)], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    written = pd.read_csv(out)
    pipeline = registry.load_pipeline(ws, model)
    again = pd.read_csv(source)  # the CLI saw the CSV's types, so the in-process side reads the same file
    assert [str(v) for v in written["prediction"]] == [str(v) for v in pipeline.predict(again)]
    proba = np.asarray(pipeline.predict_proba(again))
    for i, label in enumerate(np.asarray(pipeline.classes_)):
        assert np.allclose(written[f"probability_{label}"], proba[:, i], atol=1e-9)


def test_the_job_registers_a_model_that_predicts_and_publishes_the_leaderboard(ws, penguins, tmp_path):
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
    _cli_predicts_as_in_process(ws, model, frame, tmp_path)
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


def test_the_command_line_runs_and_replays(tmp_path, cli_here):
    home = tmp_path / "home"
    penguins = str(ROOT / "data/samples/penguins.parquet")
    assert cli_here(home, "datasets", "import", penguins, "--name", "penguins").returncode == 0
    done = cli_here(home, "automl", "--dataset", "penguins", "--target", "species", "--budget", "6", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert {"run_id", "best", "leaderboard", "elapsed_seconds"} <= set(out)
    assert out["best"]["model"] == "penguins-species:1"
    replayed = cli_here(home, "automl", "replay", out["run_id"], "--json")
    assert replayed.returncode == 0, replayed.stderr
    report = json.loads(replayed.stdout)
    assert report["reproduced"] is True and report["recorded"] and report["replayed"]
    small = cli_here(home, "automl", "--dataset", "penguins", "--target", "species", "--budget", "0.01")
    assert small.returncode == 1 and "too small" in small.stderr and "--budget" in small.stderr
    missing = cli(home, "automl", "resume", "nosuchrun", "--budget", "5")  # as a terminal sees it
    assert missing.returncode == 1 and "No AutoML run" in missing.stderr and "Traceback" not in missing.stderr


def test_an_ensemble_winner_is_explained_on_its_card_and_by_the_api_and_predicts_from_the_cli(ws, tmp_path):
    import numpy as np

    from core.ml.explain import BASE_COLUMN, CLASS_COLUMN, explain_rows
    from tests.integration.test_api import Server

    titanic = import_sample(ws, "titanic")
    config = AutoMLConfig(target="survived", budget=60, algorithms=("logistic_regression", "random_forest", "knn"),
                          max_trials=4)
    result = run_on_version(ws, titanic, config)
    assert len(result["best"]["members"]) >= 2, result["notes"]  # out-of-fold averages beat any one member here
    model = registry.get_version(ws, result["best"]["model"])
    card = model.card
    assert card.shap and card.shap["method"].startswith("permutation SHAP over the ensemble")
    assert card.importances and card.importance_method == "shap"
    frame = datasets.load_frame(ws, titanic)
    _cli_predicts_as_in_process(ws, model, frame, tmp_path)
    rows = frame[list(card.features)].head(3)
    records = [{k: (None if v != v else v) for k, v in r.items()} for r in rows.astype(object).to_dict("records")]
    server = Server(ws)
    try:
        response = server.client.post(f"/v1/models/{model.name}/versions/{model.version}/predict?explain=top3",
                                      json={"dataframe_records": records})
    finally:
        server.close()
    assert response.status_code == 200, response.text
    pipeline = registry.load_pipeline(ws, model)
    full = explain_rows(pipeline, rows)  # what the page's per-row view shows: every input column
    features = [c for c in full.columns if c not in (BASE_COLUMN, CLASS_COLUMN)]
    proba = pipeline.predict_proba(rows)
    classes = [str(c) for c in np.asarray(pipeline.classes_)]
    for i, answer in enumerate(response.json()["predictions"]):
        column = classes.index(str(answer["explained_class"]))  # binary: the second class, as for every model
        assert full[features].iloc[i].sum() + full[BASE_COLUMN].iloc[i] == pytest.approx(proba[i, column], abs=1e-9)
        assert answer["probabilities"][classes[column]] == pytest.approx(proba[i, column], abs=1e-9)
        assert len(answer["contributions"]) == 3 and set(answer["contributions"]) <= set(rows.columns)
        assert answer["base_value"] == pytest.approx(full[BASE_COLUMN].iloc[i], abs=1e-9)
        for feature, value in answer["contributions"].items():
            assert value == pytest.approx(full[feature].iloc[i], abs=1e-9)
