"""A distributed job that is cancelled, or that loses a worker mid-way, frees the cluster and stores nothing."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.data import datasets
from core.models import registry
from core.platform.compute import DaskExecutor
from core.platform.config import Settings
from core.platform.errors import JobCancelledError, ResourceError
from core.platform.workspace import Workspace
from core.serve import prediction_runs
from core.serve.batch_dask import predict_partitioned
from core.serve.loaded import load_model
from tests.support.dask_cluster import local_cluster
from tests.support.models import copy_home, template_home, train_sample

pytestmark = pytest.mark.slow
TITANIC = registry.default_model_name("titanic", "survived")


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return template_home(tmp_path_factory.mktemp("dask_failures"), lambda ws: train_sample(ws, "titanic", ["lightgbm"]))


@pytest.fixture
def ws(template, tmp_path):
    workspace = Workspace.open(Settings(home=copy_home(template, tmp_path / "home")))
    yield workspace
    workspace.db.dispose()


def _input(ws, path: Path, n: int = 4_000, row_group: int = 50) -> Path:
    version = datasets.get_version(ws, "titanic")
    frame = datasets.load_frame(ws, version).sample(n, replace=True, random_state=1).reset_index(drop=True)
    pq.write_table(pa.Table.from_pandas(frame.drop(columns=[version.target]), preserve_index=False), path,
                   row_group_size=row_group)
    return path


def _outputs(ws) -> list[str]:
    """Every stored batch output, whichever project prefix its key carries."""
    return [key for key in ws.artifact_keys() if "predictions/" in key]


def _nothing_stored(ws, runs_before: int, outputs_before: list[str]) -> None:
    assert len(prediction_runs.list_runs(ws, TITANIC)) == runs_before
    assert _outputs(ws) == outputs_before
    assert not any(ws.settings.staging_dir.iterdir())  # the workers' output parts went with the run


def _cluster_idle(client, seconds: float = 60) -> bool:
    """Whether the scheduler soon holds no task at all (polled: freeing is asynchronous)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)) == 0:
            return True
        time.sleep(0.1)
    return False


def test_cancelling_a_distributed_scoring_frees_the_workers_and_stores_nothing(ws, tmp_path):
    from distributed import Client

    model = load_model(ws, TITANIC)
    path = _input(ws, tmp_path / "in.parquet")
    runs, outputs = len(prediction_runs.list_runs(ws, TITANIC)), _outputs(ws)
    seen: list[str] = []

    def check() -> None:  # as a job's ctx.check_cancelled, once the user has pressed Cancel
        if any(m.startswith("Scored") for m in seen):
            raise JobCancelledError("cancelled")

    with local_cluster(2) as cluster, Client(cluster.scheduler_address, set_as_default=False) as client:
        with pytest.raises(JobCancelledError):
            predict_partitioned(ws, model, [path], executor=DaskExecutor(client), chunk_rows=50,
                                progress=lambda _f, m: seen.append(m), check_cancelled=check)
        assert sum(m.startswith("Scored") for m in seen) < 80  # stopped before the 80 partitions were done
        assert _cluster_idle(client), client.processing()
        assert all(not tasks for tasks in client.processing().values())
    _nothing_stored(ws, runs, outputs)


def test_a_worker_killed_mid_job_fails_it_cleanly(ws, tmp_path):
    import dask
    from distributed import Client

    model = load_model(ws, TITANIC)
    path = _input(ws, tmp_path / "in.parquet")
    runs, outputs = len(prediction_runs.list_runs(ws, TITANIC)), _outputs(ws)
    # a task whose worker dies is not retried elsewhere: the run fails at once (the default retries it 3 times)
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), local_cluster(2) as cluster, \
            Client(cluster.scheduler_address, set_as_default=False) as client:
        pids = client.run(os.getpid)
        killed: list[int] = []

        def progress(_fraction: float, message: str) -> None:
            if message.startswith("Scored") and not killed:  # mid-job: some partitions in, the rest queued
                victim = sorted(pids.values())[0]
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)

        with pytest.raises(ResourceError, match="worker died"):
            predict_partitioned(ws, model, [path], executor=DaskExecutor(client), chunk_rows=50, progress=progress)
        assert killed
        assert _cluster_idle(client)
    _nothing_stored(ws, runs, outputs)
