"""Job supervision: force cancels that were ignored, close jobs whose process is gone.

Run by the job system itself (:func:`supervise`), never decided by a page.
"""

from __future__ import annotations

import os
import signal
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from core.platform.jobs.records import ACTIVE, JobStatus
from core.platform.metadata.models import Job
from core.platform.workspace import Workspace

STALE_AFTER = timedelta(seconds=60)  # no heartbeat for this long: the process is gone
# A queued job has no process to beat yet; a busy Dask cluster or a loaded machine may keep it waiting
# for minutes, and closing it then would leave it unable to claim itself when it starts.
QUEUED_STALE_AFTER = timedelta(minutes=30)
CANCEL_GRACE_SECONDS = 10.0


def enforce_cancel(ws: Workspace, grace: float = CANCEL_GRACE_SECONDS) -> list[str]:
    """Kill local job processes that ignored a cancel request for ``grace`` seconds."""
    cutoff = datetime.now(UTC) - timedelta(seconds=grace)
    killed = []
    with ws.db.session() as s:
        rows = s.scalars(select(Job).where(Job.status == JobStatus.RUNNING, Job.cancel_requested.is_(True)))
        for row in rows:
            overdue = row.cancel_requested_at is not None and row.cancel_requested_at < cutoff
            if overdue and row.host == socket.gethostname():
                if row.pid and process_alive(row.pid):
                    os.killpg(row.pid, signal.SIGKILL)
                row.status, row.finished_at = JobStatus.CANCELLED, datetime.now(UTC)
                row.message = "Cancelled (stopped by force after it did not stop by itself)."
                killed.append(row.id)
    return killed


def process_alive(pid: int) -> bool:
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
            limit = QUEUED_STALE_AFTER if row.status == JobStatus.QUEUED else STALE_AFTER
            gone = (row.host == host and row.pid is not None and not process_alive(row.pid)) or now - beat > limit
            if gone:
                row.status, row.finished_at = JobStatus.INTERRUPTED, now
                row.message = "Interrupted: the process running this job stopped (server restart or crash)."
                count += 1
    return count


def supervise(ws: Workspace, grace: float = CANCEL_GRACE_SECONDS) -> None:
    """One supervision pass: force overdue cancels, then close jobs whose process is gone.

    Cheap (one indexed query each); whoever polls jobs calls it, so a dead or stuck job never
    reads "running" for longer than one poll.
    """
    with ws.db.session() as s:  # the usual case, no live job, costs one query
        if s.scalar(select(Job.id).where(Job.status.in_(list(ACTIVE))).limit(1)) is None:
            return
    enforce_cancel(ws, grace)
    mark_interrupted(ws)
