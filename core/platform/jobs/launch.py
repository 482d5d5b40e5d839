"""Submitting a job: record the row, then start the work outside the script run.

Local work is forked by this process's warm worker (:mod:`.worker`) when it has one, else
started as ``python -m core.platform.jobs run ID``; with ``ATELIER_DASK_SCHEDULER`` set, the
job runs on the Dask cluster.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from typing import Any

from core.platform import access
from core.platform.config import Settings
from core.platform.errors import StorageError
from core.platform.jobs import worker
from core.platform.jobs.records import JobStatus
from core.platform.jobs.runner import resolve, run_job
from core.platform.metadata.models import Job
from core.platform.workspace import Workspace


def submit(ws: Workspace, kind: str, params: dict[str, Any], *, title: str = "", start: bool = True) -> str:
    """Record a job and start it; returns the job id at once."""
    resolve(kind)  # fail now, in the page, for an unknown kind
    job_id = uuid.uuid4().hex
    with ws.db.session() as s:
        s.add(Job(id=job_id, kind=kind, title=title or kind, status=JobStatus.QUEUED, params=params, result={},
                  project_id=access.project_id(ws)))
    if start:
        _launch(ws.settings, job_id)
    return job_id


def _launch(settings: Settings, job_id: str) -> None:
    if settings.dask_scheduler:
        from distributed import fire_and_forget

        client = _dask_client(settings.dask_scheduler)
        fire_and_forget(client.submit(run_job, job_id, settings.to_env(), key=f"atelier-job-{job_id}", pure=False))
        return
    logs = settings.home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = worker.child_env(settings.to_env())
    if worker.hand_over(job_id, env, logs / f"job-{job_id}.log"):
        return  # forked by this process's warm worker: no interpreter start-up to wait for
    with open(logs / f"job-{job_id}.log", "ab") as out:
        subprocess.Popen(
            [sys.executable, "-m", "core.platform.jobs", "run", job_id],
            cwd=worker.PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # outlives the Streamlit script run and its reruns
        )


_CLIENTS: dict[str, Any] = {}


def _dask_client(address: str):
    """One client per scheduler for this process (connecting costs ~0.5 s)."""
    from distributed import Client

    client = _CLIENTS.get(address)
    if client is None or client.status not in ("running", "connecting"):
        try:
            client = Client(address, timeout=10, set_as_default=False)
        except OSError as exc:
            raise StorageError(
                f"The Dask scheduler at {address} cannot be reached: {exc}",
                hint="Check ATELIER_DASK_SCHEDULER, or unset it to run jobs as local processes.",
            ) from exc
        _CLIENTS[address] = client
    return client
