"""What a job's work sees: progress, log lines, interim results and the cancel flag.

:class:`JobContext` satisfies :class:`core.platform.progress.JobReporter`, so stage code that
takes a reporter runs the same inside a job, in a notebook or on the command line.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from core.platform.errors import JobCancelledError
from core.platform.metadata.models import Job, JobLog
from core.platform.workspace import Workspace


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
