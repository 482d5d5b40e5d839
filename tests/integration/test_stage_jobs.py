"""Each stage submits its own jobs: typed ``submit_…`` functions, run to their end by the job system."""

from __future__ import annotations

import pandas as pd
import pytest

from core.data import datasets
from core.data.ingest import IMPORT_JOB, import_sample, stage_upload, submit_import
from core.eda.reports import PROFILE_JOB, profiling_now, submit_profile
from core.ml.config import SplitConfig, TrainConfig
from core.models import registry
from core.models.training import TRAIN_JOB, submit_training
from core.platform import jobs
from core.platform.errors import InvalidInputError
from core.serve.batch import BATCH_JOB, run_of_job, submit_batch
from core.serve.retrain import comparison_base, plan_retraining, submit_retraining
from tests.support.models import train_sample


def _done(ws, job_id):
    info = jobs.wait(ws, job_id, timeout=300)
    assert info.status == "succeeded", (info.message, info.error, jobs.logs(ws, job_id))
    return info


def test_an_upload_imports_as_a_job_and_a_taken_name_is_refused(ws, tmp_path):
    pd.DataFrame({"a": range(30), "b": ["x", "y", "z"] * 10}).to_csv(tmp_path / "t.csv", index=False)
    staged = stage_upload(ws.settings, "t.csv", tmp_path / "t.csv")
    info = _done(ws, submit_import(ws, staged, "tiny", original_name="t.csv"))
    assert info.kind == IMPORT_JOB and info.result["label"] == "tiny@1"
    assert datasets.get_version(ws, "tiny@1").provenance["filename"] == "t.csv"
    again = stage_upload(ws.settings, "t.csv", tmp_path / "t.csv")
    failed = jobs.wait(ws, submit_import(ws, again, "tiny"), timeout=300)
    assert failed.status == "failed" and "tiny" in failed.message
    assert _done(ws, submit_import(ws, stage_upload(ws.settings, "t.csv", tmp_path / "t.csv"), "tiny",
                                   new_version=True)).result["label"] == "tiny@2"


def test_a_profile_job_is_listed_for_its_own_version_only(ws, monkeypatch):
    monkeypatch.setattr("core.platform.jobs.launch._launch", lambda settings, job_id: None)  # stays queued
    penguins, titanic = import_sample(ws, "penguins"), import_sample(ws, "titanic")
    job_id = submit_profile(ws, penguins)
    assert [j.id for j in profiling_now(ws, penguins)] == [job_id]
    assert profiling_now(ws, titanic) == []
    queued = jobs.get(ws, job_id)
    assert queued.kind == PROFILE_JOB and queued.params == {"dataset_version_id": penguins.id}
    jobs.cancel(ws, job_id)
    assert profiling_now(ws, penguins) == []


def test_training_checks_its_settings_before_it_submits(ws):
    version = import_sample(ws, "penguins")
    with pytest.raises(InvalidInputError, match="problem_kind"):
        submit_training(ws, version, {"target": version.target, "problem_kind": "astrology"}, ["random_forest"])
    assert jobs.list_jobs(ws, kind=TRAIN_JOB) == []
    config = TrainConfig(target=version.target, explain=False, split=SplitConfig(cv_folds=0))
    info = _done(ws, submit_training(ws, version, config, ["logistic_regression"], model_name="birds"))
    assert [r["model"] for r in info.result["results"]] == ["birds:1"]


def test_batch_scoring_and_its_run_through_the_stage_functions(ws, tmp_path):
    (model,) = train_sample(ws, "titanic")
    rows = datasets.load_frame(ws, datasets.get_version(ws, "titanic")).head(25).drop(columns=["survived"])
    rows.to_parquet(tmp_path / "rows.parquet")
    info = _done(ws, submit_batch(ws, model, tmp_path / "rows.parquet"))
    assert info.kind == BATCH_JOB and info.params["source"] == "rows.parquet"
    run = run_of_job(ws, info)
    assert run is not None and run.n_rows == 25 and run.version == model.version
    assert (tmp_path / "rows.parquet").exists()  # not a staged upload: kept


def test_retraining_plans_newer_versions_and_compares_with_production(ws):
    (first,) = train_sample(ws, "titanic")
    plan = plan_retraining(ws, first)
    assert plan.dataset == "titanic" and plan.newer == []
    assert plan.blocked == "There is no version of 'titanic' newer than titanic@1."
    old = datasets.get_version(ws, "titanic@1")  # a second version of the same dataset (same rows, made anew)
    newer = datasets.save_version(ws, "titanic", datasets.load_table(ws, old), provenance=old.provenance,
                                  roles=old.roles, if_exists="new_version")
    plan = plan_retraining(ws, first)
    assert [v.label for v in plan.newer] == [newer.label] and plan.blocked is None
    with pytest.raises(InvalidInputError, match="is not a newer version of 'titanic' than titanic@1"):
        submit_retraining(ws, plan, datasets.get_version(ws, "titanic@1"))
    info = _done(ws, submit_retraining(ws, plan, newer))
    second = registry.get_version(ws, info.result["results"][0]["model"])
    assert second.name == first.name and second.version == 2 and second.dataset_label == newer.label
    assert comparison_base(ws, second, first).id == first.id  # nothing in production: the retrained one
    registry.promote(ws, first.name, first.version)
    assert comparison_base(ws, second, first).id == first.id
    registry.promote(ws, second.name, second.version)
    assert comparison_base(ws, second, first).id == first.id  # the new one is production: compare with the old


def test_a_card_without_its_dataset_cannot_be_retrained(ws):
    (model,) = train_sample(ws, "titanic")
    plan = plan_retraining(ws, model)
    bare = type(plan)(plan.model, "", None, plan.algorithm, None)
    assert bare.blocked.startswith("This model's card does not say which dataset and settings trained it")
