"""Background jobs: long work outside the Streamlit script run.

:func:`submit` records a job row and starts the work in a separate local process (forked by the
warm worker of :mod:`.worker` when this process started one) or, when ``ATELIER_DASK_SCHEDULER``
is set, on a Dask cluster.  The work gets a :class:`JobContext` through which it reports
progress, log lines and interim results to the metadata store, and learns whether the user asked
it to stop.  Pages only poll the row, so a page switch, a refresh or a second browser all see the
same live job.

Cancel is cooperative first (the work checks a flag), then forced: :func:`supervise` kills a
process that ignored a cancel for a grace period, and closes jobs whose process is gone.

Modules: ``records`` (rows and reading), ``context`` (what the work sees), ``runner`` (one job to
its end, the kind registry), ``launch`` (submit), ``worker`` (the warm forking worker),
``supervise`` (forced cancels, interrupted jobs).
"""

from core.platform.jobs.context import JobContext
from core.platform.jobs.launch import submit
from core.platform.jobs.records import ACTIVE, JobInfo, JobStatus, cancel, get, list_jobs, logs, wait
from core.platform.jobs.runner import KINDS, run_job
from core.platform.jobs.supervise import enforce_cancel, mark_interrupted, supervise

__all__ = [
    "ACTIVE", "KINDS", "JobContext", "JobInfo", "JobStatus", "cancel", "enforce_cancel", "get", "list_jobs", "logs",
    "mark_interrupted", "run_job", "submit", "supervise", "wait",
]
