"""Running one job to its end inside its own process (or a Dask worker).

A job kind names its body as ``"module:function"``; the stage that owns the work registers the
kind in :data:`KINDS`, and the body is imported only here, at run time, so the platform layer
never imports the stages above it.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import os
import socket
import sys
import threading
import traceback
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update

from core.platform import access
from core.platform.config import Settings
from core.platform.errors import AtelierError, InvalidInputError, JobCancelledError
from core.platform.jobs.context import JobContext
from core.platform.jobs.records import JobStatus
from core.platform.logging_setup import configure_logging
from core.platform.metadata.models import Job
from core.platform.workspace import Workspace

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 2.0

# kind -> "module:function"; a kind written as "module:function" names itself.
KINDS: dict[str, str] = {
    "import_file": "core.data.ingest:import_file_job",
    "profile": "core.eda.reports:profile_job",
    "train": "core.models.training:train_job",
    "automl": "core.models.automl_runs:automl_job",
    "predict_batch": "core.serve.batch_dask:batch_predict_job",  # by partition on a cluster
}


def resolve(kind: str) -> Callable[..., Any]:
    target = KINDS.get(kind, kind)
    module, _, name = target.partition(":")
    if not name:
        raise InvalidInputError(f"Unknown job kind {kind!r}.", hint=f"Known kinds: {', '.join(sorted(KINDS))}.")
    return getattr(importlib.import_module(module), name)


def _heartbeat(ws: Workspace, job_id: str, stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT_SECONDS):
        try:
            with ws.db.session() as s:
                s.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=datetime.now(UTC)))
        except Exception:  # a missed beat is harmless; the next one retries
            log.debug("heartbeat failed", exc_info=True)


def _in_project(ws: Workspace, project_id: int | None) -> Workspace:
    """The workspace the job's work sees: the job's own project, whatever ATELIER_PROJECT the process
    inherited; the acting user stays the submitter's (ATELIER_USER), so the role checks still apply."""
    if project_id is None:
        return ws
    project = access.project_by_id(ws, project_id)
    return dataclasses.replace(ws, settings=ws.settings.with_(project=project.name))


def run_job(job_id: str, env: dict[str, str] | None = None) -> str:
    """Run one job to its end in this process; returns the final status."""
    if env:
        os.environ.update(env)
    ws = Workspace.open(Settings.load(), migrate=False)
    now = datetime.now(UTC)
    with ws.db.session() as s:
        # Claim the job in one statement: of two processes started for it, only one runs it.
        claimed = s.execute(
            update(Job).where(Job.id == job_id, Job.status == JobStatus.QUEUED).values(
                status=JobStatus.RUNNING, started_at=now, heartbeat_at=now, pid=os.getpid(),
                host=socket.gethostname())
        ).rowcount
        row = s.get(Job, job_id)
        if not claimed:
            return row.status if row else "missing"
        kind, params, project_id = row.kind, dict(row.params), row.project_id
    ws = _in_project(ws, project_id)
    ctx = JobContext(ws, job_id)
    stop = threading.Event()
    threading.Thread(target=_heartbeat, args=(ws, job_id, stop), daemon=True).start()
    status, message, error = JobStatus.SUCCEEDED, "Done.", None
    result: dict[str, Any] = {}
    try:
        result = resolve(kind)(ctx, **params) or {}
    except JobCancelledError:
        status, message = JobStatus.CANCELLED, "Cancelled; work finished before the cancel is kept."
    except AtelierError as exc:
        status, message, error = JobStatus.FAILED, str(exc), exc.user_text()
    except Exception:
        ref = uuid.uuid4().hex[:8]
        print(f"[job {job_id} ref {ref}]\n{traceback.format_exc()}", file=sys.stderr, flush=True)
        status, message = JobStatus.FAILED, f"Unexpected error (reference {ref})."
        error = f"Something went wrong inside the job (reference {ref}); the details are in the server log."
    finally:
        stop.set()
    with ws.db.session() as s:
        row = s.get(Job, job_id)
        if row.status == JobStatus.RUNNING:  # a forced cancel may have closed it already
            row.status, row.message, row.error = status, message, error
            row.finished_at = datetime.now(UTC)
            row.result = {**(row.result or {}), **result}
            if status == JobStatus.SUCCEEDED:
                row.progress = 1.0
    ws.db.dispose()
    return status


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "run":
        print("usage: python -m core.platform.jobs run JOB_ID", file=sys.stderr)
        return 2
    configure_logging()
    run_job(argv[1])
    return 0

