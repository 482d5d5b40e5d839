"""Background jobs: long work outside the Streamlit script run.

``submit`` records a job row and starts the work in a separate local process
(forked by the warm worker of :mod:`core.worker` when this process started one,
else ``python -m core.jobs run ID``) or, when ``ATELIER_DASK_SCHEDULER`` is set,
on a Dask cluster.  The work gets a :class:`JobContext` through which it
reports progress, log lines and interim results to the metadata store, and
learns whether the user asked it to stop.  Pages only poll the row, so a page
switch, a refresh or a second browser all see the same live job.

Cancel is cooperative first (the work checks a flag), then forced: after a
grace period :func:`enforce_cancel` kills the process.  On start-up
:func:`mark_interrupted` closes jobs whose process is gone.
"""

from __future__ import annotations

import importlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from core import worker
from core.config import Settings
from core.errors import AtelierError, InvalidInputError, JobCancelledError, NotFoundError, StorageError
from core.metadata.models import Job, JobLog
from core.workspace import Workspace

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 2.0
STALE_AFTER = timedelta(seconds=60)  # no heartbeat for this long: the process is gone
CANCEL_GRACE_SECONDS = 10.0

# kind -> "module:function"; a kind written as "module:function" names itself.
KINDS: dict[str, str] = {
    "import_file": "core.imports:import_file_job",
    "profile": "core.profiling_job:profile_job",
    "train": "core.training:train_job",
    "predict_batch": "core.predict:batch_predict_job",
}


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"


ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)


@dataclass(frozen=True)
class JobInfo:
    id: str
    kind: str
    title: str
    status: JobStatus
    progress: float
    message: str
    params: dict[str, Any]
    result: dict[str, Any]
    error: str | None
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def seconds(self) -> float:
        if self.started_at is None:
            return 0.0
        end = self.finished_at or datetime.now(UTC)
        return (end - self.started_at).total_seconds()



def _info(row: Job) -> JobInfo:
    return JobInfo(
        row.id, row.kind, row.title, JobStatus(row.status), row.progress, row.message, dict(row.params or {}),
        dict(row.result or {}), row.error, row.cancel_requested, row.created_at, row.started_at, row.finished_at,
    )


def _resolve(kind: str) -> Callable[..., Any]:
    target = KINDS.get(kind, kind)
    module, _, name = target.partition(":")
    if not name:
        raise InvalidInputError(f"Unknown job kind {kind!r}.", hint=f"Known kinds: {', '.join(sorted(KINDS))}.")
    return getattr(importlib.import_module(module), name)


# -- submitting and reading ----------------------------------------------------
def submit(ws: Workspace, kind: str, params: dict[str, Any], *, title: str = "", start: bool = True) -> str:
    """Record a job and start it; returns the job id at once."""
    _resolve(kind)  # fail now, in the page, for an unknown kind
    job_id = uuid.uuid4().hex
    with ws.db.session() as s:
        s.add(Job(id=job_id, kind=kind, title=title or kind, status=JobStatus.QUEUED, params=params, result={}))
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
            [sys.executable, "-m", "core.jobs", "run", job_id],
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


def get(ws: Workspace, job_id: str) -> JobInfo:
    with ws.db.session() as s:
        row = s.get(Job, job_id)
        if row is None:
            raise NotFoundError(f"There is no job {job_id!r}.")
        return _info(row)


def list_jobs(ws: Workspace, *, kind: str | None = None, active_only: bool = False, limit: int = 50) -> list[JobInfo]:
    query = select(Job).order_by(Job.created_at.desc()).limit(limit)
    if kind:
        query = query.where(Job.kind == kind)
    if active_only:
        query = query.where(Job.status.in_(list(ACTIVE)))
    with ws.db.session() as s:
        return [_info(r) for r in s.scalars(query)]


def logs(ws: Workspace, job_id: str, *, tail: int = 200) -> list[str]:
    query = select(JobLog.line).where(JobLog.job_id == job_id).order_by(JobLog.id.desc()).limit(tail)
    with ws.db.session() as s:
        return list(reversed(list(s.scalars(query))))


def wait(ws: Workspace, job_id: str, timeout: float = 600, poll: float = 0.2) -> JobInfo:
    """Block until the job ends (for the CLI and tests)."""
    deadline = time.monotonic() + timeout
    while True:
        info = get(ws, job_id)
        if not info.active:
            return info
        if time.monotonic() > deadline:
            raise TimeoutError(f"Job {job_id} still {info.status} after {timeout:.0f} s.")
        time.sleep(poll)


# -- cancelling and cleaning up --------------------------------------------------
def cancel(ws: Workspace, job_id: str) -> None:
    """Ask the job to stop; a job not yet started is cancelled at once."""
    now = datetime.now(UTC)
    with ws.db.session() as s:
        row = s.get(Job, job_id)
        if row is None:
            raise NotFoundError(f"There is no job {job_id!r}.")
        if row.status not in ACTIVE:
            return
        row.cancel_requested, row.cancel_requested_at = True, now
        if row.status == JobStatus.QUEUED:
            row.status, row.finished_at, row.message = JobStatus.CANCELLED, now, "Cancelled before it started."


def enforce_cancel(ws: Workspace, grace: float = CANCEL_GRACE_SECONDS) -> list[str]:
    """Kill local job processes that ignored a cancel request for ``grace`` seconds."""
    cutoff = datetime.now(UTC) - timedelta(seconds=grace)
    killed = []
    with ws.db.session() as s:
        rows = s.scalars(select(Job).where(Job.status == JobStatus.RUNNING, Job.cancel_requested.is_(True)))
        for row in rows:
            overdue = row.cancel_requested_at is not None and row.cancel_requested_at < cutoff
            if overdue and row.host == socket.gethostname():
                if row.pid and _alive(row.pid):
                    os.killpg(row.pid, signal.SIGKILL)
                row.status, row.finished_at = JobStatus.CANCELLED, datetime.now(UTC)
                row.message = "Cancelled (stopped by force after it did not stop by itself)."
                killed.append(row.id)
    return killed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours still answers kill(0): look at its state.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except (OSError, IndexError):
        return True


def mark_interrupted(ws: Workspace) -> int:
    """Close jobs whose process is gone (run at start-up); returns how many."""
    now = datetime.now(UTC)
    host = socket.gethostname()
    count = 0
    with ws.db.session() as s:
        for row in s.scalars(select(Job).where(Job.status.in_(list(ACTIVE)))):
            beat = row.heartbeat_at or row.started_at or row.created_at
            gone = (row.host == host and row.pid is not None and not _alive(row.pid)) or now - beat > STALE_AFTER
            if gone:
                row.status, row.finished_at = JobStatus.INTERRUPTED, now
                row.message = "Interrupted: the process running this job stopped (server restart or crash)."
                count += 1
    return count


# -- running (inside the job's own process) ---------------------------------------
class JobContext:
    """What the work sees: report progress, log, publish results, check cancel."""

    def __init__(self, ws: Workspace, job_id: str) -> None:
        self.ws, self.job_id = ws, job_id
        self._last_write = 0.0
        self._last_check = 0.0
        self._cancelled = False

    def progress(self, fraction: float, message: str | None = None) -> None:
        now = time.monotonic()
        if fraction < 1.0 and now - self._last_write < 0.25:
            return  # the page polls about once a second: no need to write more often
        self._last_write = now
        values: dict[str, Any] = {"progress": max(0.0, min(1.0, float(fraction))), "heartbeat_at": datetime.now(UTC)}
        if message is not None:
            values["message"] = message
        with self.ws.db.session() as s:
            s.execute(update(Job).where(Job.id == self.job_id).values(**values))

    def log(self, line: str) -> None:
        with self.ws.db.session() as s:
            s.add(JobLog(job_id=self.job_id, line=str(line)))

    def publish(self, **partial: Any) -> None:
        """Merge interim results (a growing results table, say) into the job row."""
        with self.ws.db.session() as s:
            row = s.get(Job, self.job_id)
            row.result = {**(row.result or {}), **partial}

    def cancelled(self) -> bool:
        now = time.monotonic()
        if not self._cancelled and now - self._last_check > 0.5:
            self._last_check = now
            with self.ws.db.session() as s:
                self._cancelled = bool(s.scalar(select(Job.cancel_requested).where(Job.id == self.job_id)))
        return self._cancelled

    def check_cancelled(self) -> None:
        if self.cancelled():
            raise JobCancelledError("The job was cancelled.")


def _heartbeat(ws: Workspace, job_id: str, stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT_SECONDS):
        try:
            with ws.db.session() as s:
                s.execute(update(Job).where(Job.id == job_id).values(heartbeat_at=datetime.now(UTC)))
        except Exception:  # a missed beat is harmless; the next one retries
            log.debug("heartbeat failed", exc_info=True)


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
        kind, params = row.kind, dict(row.params)
    ctx = JobContext(ws, job_id)
    stop = threading.Event()
    threading.Thread(target=_heartbeat, args=(ws, job_id, stop), daemon=True).start()
    status, message, error = JobStatus.SUCCEEDED, "Done.", None
    result: dict[str, Any] = {}
    try:
        result = _resolve(kind)(ctx, **params) or {}
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
        print("usage: python -m core.jobs run JOB_ID", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO)
    run_job(argv[1])
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
