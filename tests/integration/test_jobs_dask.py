"""Jobs run on a real Dask cluster when ATELIER_DASK_SCHEDULER is set."""

from __future__ import annotations

import sys
import time
import types

import pytest

from core.platform import jobs
from core.platform.jobs import JobStatus
from core.platform.workspace import Workspace


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    # Worker processes are spawned, and spawn re-runs the parent's __main__; after an AppTest in
    # the same session that is app.py, which cannot run outside Streamlit.  Hide it while starting.
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
        # dashboard_address=None still takes port 8787: a second suite on the machine found it taken
        local = LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0")
    with local:
        yield local


def test_job_runs_on_the_cluster_with_progress_and_cancel(cluster, settings):
    ws = Workspace.open(settings.with_(dask_scheduler=cluster.scheduler_address))
    done = jobs.wait(ws, jobs.submit(ws, "tests.support.jobfuncs:count_job", {"steps": 3, "delay": 0.01}), 120)
    assert done.status == JobStatus.SUCCEEDED, done.error
    assert done.result == {"done": 3, "total": 3}
    assert len(jobs.logs(ws, done.id)) == 3

    slow = jobs.submit(ws, "tests.support.jobfuncs:count_job", {"steps": 1000, "delay": 0.05})
    while jobs.get(ws, slow).result.get("done", 0) < 1:
        time.sleep(0.05)
    jobs.cancel(ws, slow)
    assert jobs.wait(ws, slow, 60).status == JobStatus.CANCELLED
