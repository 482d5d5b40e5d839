"""The warm worker: jobs forked from a process that preloaded the libraries, tied to its owner."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

from core.platform import jobs
from core.platform.jobs import JobStatus, worker
from core.platform.jobs.supervise import process_alive
from core.platform.metadata.models import Job

WHEREAMI = "tests.support.jobfuncs:whereami_job"


@pytest.fixture
def warm(settings):
    worker.start(settings.home / "logs")
    assert worker.ready(60), (settings.home / "logs" / "worker.log").read_text()
    yield worker.pid()
    worker.stop()


def _wait_until(condition, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_job_is_forked_by_the_warm_worker_into_its_own_session(ws, warm):
    info = jobs.wait(ws, jobs.submit(ws, WHEREAMI, {}), timeout=60)
    assert info.status == JobStatus.SUCCEEDED, info.error
    assert info.result["parent"] == warm  # forked by the worker, not spawned by this process
    assert info.result["session"] == info.result["pid"]  # its own session: a forced cancel kills its group
    assert info.result["lightgbm_preloaded"] is True
    assert info.result["home"] == str(ws.settings.home)  # runs under the submitting workspace's settings


def test_each_job_gets_the_environment_of_its_own_workspace(tmp_path, warm):
    from core.platform.config import Settings
    from core.platform.workspace import Workspace

    homes = [tmp_path / "a", tmp_path / "b"]
    for home in homes:
        ws = Workspace.open(Settings(home=home))
        info = jobs.wait(ws, jobs.submit(ws, WHEREAMI, {}), timeout=60)
        assert info.result["home"] == str(home)
        ws.db.dispose()


def test_without_a_worker_the_job_is_spawned(ws):
    assert worker.pid() is None
    info = jobs.wait(ws, jobs.submit(ws, WHEREAMI, {}), timeout=60)
    assert info.status == JobStatus.SUCCEEDED
    assert info.result["parent"] == os.getpid()
    assert info.result["lightgbm_preloaded"] is False


def test_a_dead_worker_falls_back_to_spawning_and_is_replaced(ws, warm):
    folder = worker._Owned.folder
    os.kill(warm, 9)
    _wait_until(lambda: worker.pid() is None)
    info = jobs.wait(ws, jobs.submit(ws, WHEREAMI, {}), timeout=60)
    assert info.status == JobStatus.SUCCEEDED
    assert info.result["parent"] == os.getpid()
    worker.start(ws.settings.home / "logs")  # what the app does on its next page run
    assert worker.ready(60)
    assert worker.pid() not in (None, warm) and not os.path.exists(folder)


def test_forced_cancel_kills_a_forked_job(ws, warm):
    job_id = jobs.submit(ws, "tests.support.jobfuncs:stubborn_job", {"seconds": 120})
    _wait_until(lambda: jobs.get(ws, job_id).status == JobStatus.RUNNING)
    with ws.db.session() as s:
        pid = s.get(Job, job_id).pid
    jobs.cancel(ws, job_id)
    assert jobs.enforce_cancel(ws, grace=0) == [job_id]
    _wait_until(lambda: not process_alive(pid))
    assert jobs.get(ws, job_id).status == JobStatus.CANCELLED


def test_a_job_is_run_once_even_when_started_twice(ws, monkeypatch):
    job_id = jobs.submit(ws, "tests.support.jobfuncs:count_job", {"steps": 3, "delay": 0.01}, start=False)
    for key, value in ws.settings.to_env().items():
        monkeypatch.setenv(key, value)
    assert jobs.run_job(job_id) == JobStatus.SUCCEEDED
    assert jobs.run_job(job_id) == JobStatus.SUCCEEDED  # the second start finds it claimed and leaves it
    assert jobs.logs(ws, job_id) == [f"step {i} of 3" for i in range(1, 4)]


def test_worker_exits_when_its_owner_dies(tmp_path):
    owner = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from pathlib import Path
            from core.platform.jobs import worker
            worker.start(Path({str(tmp_path)!r}))
            assert worker.ready(60)
            print(worker.pid(), worker._Owned.folder, flush=True)
            time.sleep(600)
        """)], stdout=subprocess.PIPE, text=True, cwd=worker.PROJECT_ROOT,
        env=worker.child_env({}))
    try:
        worker_pid, folder = owner.stdout.readline().split()
        assert process_alive(int(worker_pid)) and os.path.isdir(folder)
        owner.kill()
        owner.wait()
        _wait_until(lambda: not process_alive(int(worker_pid)), seconds=10)
        assert not os.path.exists(folder)  # its private socket folder goes with it
    finally:
        owner.kill()


def test_a_forked_train_job_fits_lightgbm_and_xgboost_and_matches_in_process(ws, warm):
    """The OpenMP libraries were loaded, never run, before the fork: the child trains with them."""
    from core.data.ingest import import_sample
    from core.ml.config import TrainConfig
    from core.models import registry
    from core.models.training import train_version

    penguins = import_sample(ws, "penguins")
    config = TrainConfig(target="species", explain=False)
    job_id = jobs.submit(ws, "train", {"dataset_version_id": penguins.id, "config": config.to_dict(),
                                       "algorithms": ["lightgbm", "xgboost"]})
    info = jobs.wait(ws, job_id, timeout=300)
    assert info.status == JobStatus.SUCCEEDED, info.error
    forked = [r["metrics"] for r in info.result["results"]]
    in_process = [r["metrics"] for r in train_version(ws, penguins, config, ["lightgbm", "xgboost"])]
    assert forked == in_process and forked[0]["accuracy"] > 0.9
    assert [m.job_id for m in registry.list_versions(ws, "penguins-species")] == [job_id, job_id, None, None]
