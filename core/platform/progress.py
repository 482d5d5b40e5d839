"""How long work reports back: one progress callback type, one reporter, one job-context protocol.

Stage code never knows whether it runs inside a background job, a notebook or the command line.
It takes a :data:`ProgressFn` (``fn(fraction, message)``, fraction in [0, 1]) when it only reports
progress, or a :class:`Progress` when it also logs and must stop on cancel.  A job's context
(:class:`core.platform.jobs.JobContext`) satisfies :class:`JobReporter`, so
``Progress.of_job(ctx)`` hands a job's hooks to any stage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

__all__ = ["JobReporter", "Progress", "ProgressFn"]

ProgressFn = Callable[[float, str], None]


class JobReporter(Protocol):
    """What a background job's work is handed: progress, log lines, the cancel check."""

    def progress(self, fraction: float, message: str | None = None) -> None: ...

    def log(self, line: str) -> None: ...

    def check_cancelled(self) -> None: ...


def _noop_progress(fraction: float, message: str | None = None) -> None:
    return None


def _noop_log(line: str) -> None:
    return None


def _noop_check() -> None:
    return None


@dataclass(frozen=True)
class Progress:
    """The three hooks a run reports through; each defaults to doing nothing.

    ``progress(fraction, message)`` gets a fraction in [0, 1]; ``log(line)`` a line of text;
    ``check_cancelled()`` raises :class:`core.platform.errors.JobCancelledError` when the user
    asked to stop.
    """

    progress: Callable[..., None] = _noop_progress
    log: Callable[[str], None] = _noop_log
    check_cancelled: Callable[[], None] = _noop_check

    @classmethod
    def of(
        cls,
        progress: Callable[..., None] | None = None,
        log: Callable[[str], None] | None = None,
        check_cancelled: Callable[[], None] | None = None,
    ) -> Progress:
        return cls(progress or _noop_progress, log or _noop_log, check_cancelled or _noop_check)

    @classmethod
    def of_job(cls, ctx: JobReporter) -> Progress:
        """A job context's own hooks."""
        return cls(ctx.progress, ctx.log, ctx.check_cancelled)

    def step(self, fraction: float, message: str) -> None:
        """Check for cancel, then report progress: the usual pair between two pieces of work."""
        self.check_cancelled()
        self.progress(max(0.0, min(1.0, fraction)), message)

    def scaled(self, start: float, end: float) -> Progress:
        """Hooks whose progress 0..1 maps onto ``start..end`` of these (for a run inside a run)."""
        outer = self.progress

        def progress(fraction: float, message: str | None = None) -> None:
            outer(start + (end - start) * max(0.0, min(1.0, fraction)), message)

        return Progress(progress, self.log, self.check_cancelled)
