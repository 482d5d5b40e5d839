"""Job functions used by the job-system tests (run in a separate process)."""

from __future__ import annotations

import time

from core.platform.errors import InvalidInputError
from core.platform.jobs import JobContext


def count_job(ctx: JobContext, steps: int = 5, delay: float = 0.05) -> dict:
    for i in range(steps):
        ctx.check_cancelled()
        ctx.log(f"step {i + 1} of {steps}")
        ctx.publish(done=i + 1)
        ctx.progress((i + 1) / steps, f"step {i + 1}")
        time.sleep(delay)
    return {"total": steps}


def failing_job(ctx: JobContext) -> None:
    raise InvalidInputError("The column 'x' is missing.", hint="Pick another column.")


def crashing_job(ctx: JobContext) -> None:
    raise RuntimeError("internal detail that users must not see")


def stubborn_job(ctx: JobContext, seconds: float = 60) -> None:
    """Never checks the cancel flag: only a forced cancel stops it."""
    ctx.progress(0.1, "sleeping")
    time.sleep(seconds)


def whereami_job(ctx: JobContext) -> dict:
    """Where the job ran, and whether the heavy libraries were loaded before it began."""
    import os
    import sys

    return {"pid": os.getpid(), "parent": os.getppid(), "session": os.getsid(0),
            "lightgbm_preloaded": "lightgbm" in sys.modules, "home": os.environ.get("ATELIER_HOME")}
