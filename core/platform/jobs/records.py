"""Job rows as plain records: status, reading, waiting and asking to cancel.

A job row is written by :mod:`.launch` (queued), claimed and closed by :mod:`.runner`, and read
here by pages and the command line, which only ever poll it.  Every read is of the workspace's
project: another project's job is "not found", by id as in a listing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select

from core.platform import access
from core.platform.errors import NotFoundError
from core.platform.metadata.models import Job, JobLog
from core.platform.workspace import Workspace


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"


ACTIVE = (JobStatus.QUEUED, JobStatus.RUNNING)
_STOP_NEEDS = {"train": "train", "automl": "train", "predict_batch": "predict"}  # other kinds: "import"


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
    project_id: int | None = None

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
        row.project_id,
    )


def _row(s, ws: Workspace, job_id: str) -> Job:
    """The job if it is of the workspace's project; "not found" otherwise, as for no job at all."""
    row = s.scalar(select(Job).where(Job.id == str(job_id), access.in_project(Job.project_id, ws)))
    if row is None:
        raise NotFoundError(f"There is no job {job_id!r}.")
    return row


def get(ws: Workspace, job_id: str) -> JobInfo:
    with ws.db.session() as s:
        return _info(_row(s, ws, job_id))


def list_jobs(ws: Workspace, *, kind: str | None = None, active_only: bool = False, limit: int = 50) -> list[JobInfo]:
    """The project's jobs, newest first."""
    query = select(Job).where(access.in_project(Job.project_id, ws)).order_by(Job.created_at.desc()).limit(limit)
    if kind:
        query = query.where(Job.kind == kind)
    if active_only:
        query = query.where(Job.status.in_(list(ACTIVE)))
    with ws.db.session() as s:
        return [_info(r) for r in s.scalars(query)]


def logs(ws: Workspace, job_id: str, *, tail: int = 200) -> list[str]:
    query = select(JobLog.line).where(JobLog.job_id == job_id).order_by(JobLog.id.desc()).limit(tail)
    with ws.db.session() as s:
        _row(s, ws, job_id)
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


def cancel(ws: Workspace, job_id: str) -> None:
    """Ask the job to stop; a job not yet started is cancelled at once."""
    now = datetime.now(UTC)
    with ws.db.session() as s:
        row = _row(s, ws, job_id)
        access.require(ws, _STOP_NEEDS.get(row.kind, "import"))  # who may start such a job may stop it
        if row.status not in ACTIVE:
            return
        row.cancel_requested, row.cancel_requested_at = True, now
        if row.status == JobStatus.QUEUED:
            row.status, row.finished_at, row.message = JobStatus.CANCELLED, now, "Cancelled before it started."
