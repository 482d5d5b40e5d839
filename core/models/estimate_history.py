"""What this workspace's finished training runs say about the time estimates shown before them.

Each Train job keeps the estimates the page showed (``params["estimates"]``: the raw one and the one
shown), and each result row records the seconds the algorithm really took (``total_seconds``: tuning,
folds, final fit, evaluation, explanations).  :func:`correction_factors` turns recent pairs into one
multiplier per algorithm (:func:`core.ml.estimate.correction_factor`), so the next estimate on this
machine is calibrated by the runs it has already made.  An estimate still running when Train was
pressed is added to the job when it arrives (:func:`add_estimate`), so its row still compares.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from core.ml.estimate import correction_factor
from core.models.training import TRAIN_JOB
from core.platform import jobs
from core.platform.metadata.models import Job
from core.platform.workspace import Workspace

__all__ = ["add_estimate", "correction_factors", "estimate_pairs"]

RECENT_JOBS = 100


def estimate_pairs(ws: Workspace, *, limit: int = RECENT_JOBS) -> dict[str, list[tuple[float, float]]]:
    """``{algorithm: [(raw estimated seconds, actual seconds), …]}`` from the last ``limit`` Train jobs."""
    pairs: dict[str, list[tuple[float, float]]] = {}
    for job in jobs.list_jobs(ws, kind=TRAIN_JOB, limit=limit):
        estimates = job.params.get("estimates") or {}
        for row in (job.result or {}).get("results", []):
            estimate = estimates.get(row.get("algorithm")) or {}
            raw, actual = estimate.get("raw_seconds", estimate.get("seconds")), row.get("total_seconds")
            if row.get("status") == "ok" and raw and actual:
                pairs.setdefault(row["algorithm"], []).append((float(raw), float(actual)))
    return pairs


def correction_factors(ws: Workspace) -> dict[str, tuple[float, int]]:
    """``{algorithm: (factor, runs)}`` for the algorithms with finished runs to learn from."""
    out = {}
    for algorithm, pairs in estimate_pairs(ws).items():
        factor = correction_factor(pairs)
        if factor is not None:
            out[algorithm] = (factor, len(pairs))
    return out


def add_estimate(ws: Workspace, job_id: str, algorithm: str, estimate: Mapping[str, float]) -> None:
    """Keep ``estimate`` (``{"seconds": …, "raw_seconds": …}``) with the job, unless it already has one.

    Only ``params["estimates"]`` changes: the job's process writes its progress and results to other
    columns of the row, so the two never overwrite each other.
    """
    with ws.db.session() as s:
        row = s.scalar(select(Job).where(Job.id == str(job_id)))
        if row is None:
            return
        params = dict(row.params or {})
        known = dict(params.get("estimates") or {})
        if algorithm in known:
            return
        known[algorithm] = {k: float(v) for k, v in estimate.items() if v is not None}
        row.params = {**params, "estimates": known}  # a new dict: the JSON column sees the change
