"""Batch scoring by partition: the same run as the single-process scorer, in this process and on a cluster."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.data import datasets
from core.models import registry
from core.platform import jobs
from core.platform.compute import DaskExecutor, LocalExecutor, cluster_summary
from core.platform.config import Settings
from core.platform.errors import InvalidInputError
from core.platform.jobs import JobStatus
from core.platform.workspace import Workspace
from core.serve import batch, batch_dask, compiled_trees, prediction_runs
from core.serve.batch import predict_file
from core.serve.batch_dask import predict_partitioned, score_file
from core.serve.loaded import load_model
from core.serve.outputs import write_output
from tests.support.dask_cluster import local_cluster
from tests.support.models import copy_home, template_home, train_sample

TITANIC = registry.default_model_name("titanic", "survived")
MPG = registry.default_model_name("mpg", "Miles_per_Gallon")


def _build(ws: Workspace) -> None:
    train_sample(ws, "titanic", ["lightgbm"])
    train_sample(ws, "mpg", ["decision_tree"])


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return template_home(tmp_path_factory.mktemp("batch_dask"), _build)


@pytest.fixture
def ws(template, tmp_path):
    workspace = Workspace.open(Settings(home=copy_home(template, tmp_path / "home")))
    yield workspace
    workspace.db.dispose()


def _input(ws, sample: str, path: Path, n: int = 600, row_group: int = 70) -> Path:
    version = datasets.get_version(ws, sample)
    frame = datasets.load_frame(ws, version).sample(n, replace=True, random_state=1).reset_index(drop=True)
    pq.write_table(pa.Table.from_pandas(frame.drop(columns=[version.target]), preserve_index=False), path,
                   row_group_size=row_group)
    return path


def _scored(ws, run) -> pd.DataFrame:
    return pd.read_parquet(write_output(ws, run, ws.settings.home / f"out-{run.id}.parquet"))


def _same_run(ws, single, split) -> None:
    pd.testing.assert_frame_equal(_scored(ws, split), _scored(ws, single))
    assert split.n_rows == single.n_rows
    moments = ("mean", "std")  # merged by Chan's update: equal up to rounding in the last digits
    assert {k: v for k, v in split.summary.items() if k not in ("seconds", "partitions", *moments)} == \
        {k: v for k, v in single.summary.items() if k not in ("seconds", *moments)}
    for key in moments:
        if key in single.summary:
            assert split.summary[key] == pytest.approx(single.summary[key], rel=1e-12)
    assert split.drift_share == single.drift_share


@pytest.mark.parametrize(("ref", "sample"), [(TITANIC, "titanic"), (MPG, "mpg")])
def test_by_partition_in_process_equals_the_single_pass(ws, tmp_path, ref, sample):
    model = load_model(ws, ref)
    path = _input(ws, sample, tmp_path / "in.parquet")
    single = predict_file(ws, model, path)
    split = predict_partitioned(ws, model, [path], executor=LocalExecutor(), chunk_rows=150)
    assert split.summary["partitions"] == 5 and split.artifact_key.endswith(".parts.json")
    _same_run(ws, single, split)
    assert score_file(ws, model, path, executor=LocalExecutor()).artifact_key.endswith(".parquet")  # no cluster


@pytest.fixture(scope="module")
def cluster():
    with local_cluster(2) as local:
        yield local


@pytest.mark.slow
def test_on_the_cluster_equals_single_process_and_a_bad_part_stores_nothing(ws, tmp_path, cluster, monkeypatch):
    from distributed import Client

    trees = compiled_trees.available()
    if trees:  # LightGBM through compiled trees, built here once and loaded by the workers
        monkeypatch.setattr(compiled_trees, "COMPILE_MIN_WORK", 0)
        monkeypatch.setattr(compiled_trees, "_LOADED", {})
        monkeypatch.setattr(compiled_trees, "_REFUSED", set())
    settings = ws.settings.with_(dask_scheduler=cluster.scheduler_address)
    summary = cluster_summary(settings)
    assert (summary.workers, summary.threads) == (2, 2) and summary.memory_bytes > 0
    with Client(cluster.scheduler_address, set_as_default=False) as client:
        executor = DaskExecutor(client)
        for ref, sample in [(TITANIC, "titanic"), (MPG, "mpg")]:
            model = load_model(ws, ref)
            path = _input(ws, sample, tmp_path / f"{sample}.parquet")
            single = predict_file(ws, model, path, keep_columns=True)
            split = predict_partitioned(ws, model, [path], executor=executor, chunk_rows=150, keep_columns=True)
            assert split.summary["partitions"] == 5
            _same_run(ws, single, split)
        if trees:
            loaded = client.run(lambda: [v is not None for v in batch_dask._TREES.values()])
            assert any(any(flags) for flags in loaded.values()), loaded  # the workers scored with the library

        # a folder of parts, one of them damaged: the run fails, and no output or run is stored
        model = load_model(ws, TITANIC)
        folder = tmp_path / "parts"
        folder.mkdir()
        frame = pd.read_parquet(_input(ws, "titanic", tmp_path / "whole.parquet"))
        for i in range(3):
            frame.iloc[i * 200:(i + 1) * 200].to_parquet(folder / f"part-{i}.parquet", index=False)
        runs, outputs = len(prediction_runs.list_runs(ws, TITANIC)), ws.artifact_keys("projects/1/predictions/")
        damaged = bytearray((folder / "part-1.parquet").read_bytes())
        footer = int.from_bytes(damaged[-8:-4], "little") + 8
        damaged[4:len(damaged) - footer] = bytes(len(damaged) - footer - 4)  # pages zeroed, footer intact
        (folder / "part-1.parquet").write_bytes(bytes(damaged))
        with pytest.raises(InvalidInputError, match=r"Partition 2 of 3 \(part-1.parquet"):
            score_file(ws, model, folder, executor=executor)  # fails in its task, on a worker
        assert len(prediction_runs.list_runs(ws, TITANIC)) == runs
        assert ws.artifact_keys("projects/1/predictions/") == outputs
        assert not any(ws.settings.staging_dir.iterdir())
        (folder / "part-1.parquet").write_bytes(b"PAR1 this is not parquet PAR1")
        with pytest.raises(InvalidInputError, match="part-1.parquet' cannot be read"):
            score_file(ws, model, folder, executor=executor)  # found before any task starts
        assert len(prediction_runs.list_runs(ws, TITANIC)) == runs
        assert ws.artifact_keys("projects/1/predictions/") == outputs
        assert not any(ws.settings.staging_dir.iterdir())

    # the batch job itself, submitted with the scheduler set, spreads its scoring over the workers
    job_ws = Workspace.open(settings)
    path = _input(ws, "titanic", tmp_path / "job.parquet", n=400)
    job = jobs.wait(job_ws, batch.submit_batch(job_ws, registry.get_version(job_ws, TITANIC), path), 180)
    assert job.status == JobStatus.SUCCEEDED, job.error
    run = batch.run_of_job(job_ws, job)
    assert run.summary["partitions"] >= 1 and run.n_rows == 400 and run.artifact_key.endswith(".parts.json")


@pytest.mark.slow
def test_settings_page_shows_the_cluster(cluster, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from tests.app.conftest import ROOT, texts

    monkeypatch.setenv("ATELIER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ATELIER_DASK_SCHEDULER", cluster.scheduler_address)
    monkeypatch.chdir(ROOT)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("views/settings.py").run()
    assert not at.exception and not at.error
    assert f"Dask cluster at `{cluster.scheduler_address}`: 2 workers, 2 threads" in texts(at.markdown)
