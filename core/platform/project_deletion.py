"""Deleting a project (owners): its datasets, models, jobs, prediction runs, keys and reports, then
every stored file under its prefix.

The rows go first, in one transaction (the database's ``ON DELETE CASCADE`` takes versions, logs,
routes, alerts and policies with their parents); the files after, so a failure half-way leaves
stray files that only cost space, never rows that point at missing files.  The project's audit
trail is kept, detached from the project (its ``project_id`` becomes empty), and the deletion
itself is recorded there too: the instance remembers who deleted what, and when.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from sqlalchemy import delete, func, select, update

from core.platform import access
from core.platform.errors import ConflictError, InvalidInputError
from core.platform.jobs.records import ACTIVE
from core.platform.metadata.models import (
    ApiKey,
    AuditEvent,
    Dataset,
    Job,
    Membership,
    PredictionRun,
    Project,
    RegisteredModel,
)
from core.platform.storage import keys
from core.platform.workspace import Workspace

__all__ = ["Deleted", "delete_project", "project_prefix"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deleted:
    """What went with a deleted project."""

    name: str
    datasets: int
    models: int
    jobs: int
    files: int


def project_prefix(project_id: int) -> str:
    """Where the project's files live in the artifact store."""
    return keys.in_project(project_id, "")


def delete_project(ws: Workspace, name: str) -> Deleted:
    """Delete the project ``name`` and all it holds (owners only; never the default project)."""
    project = access.find_project(ws, name)
    access.require(ws, "delete_project", project)
    if project.is_default:
        raise InvalidInputError(
            f"The project named {access.DEFAULT_PROJECT!r} cannot be deleted: it is where the "
            "command line and the app work when no project is named.",
            hint="Delete its datasets and models one by one instead.",
        )
    pid = project.id
    with ws.db.session() as s:
        active = s.scalar(select(func.count()).where(Job.project_id == pid, Job.status.in_(list(ACTIVE))))
        if active:
            raise ConflictError(
                f"Project {project.name!r} has {active} job(s) queued or running.",
                hint="Cancel them (or wait until they finish), then delete the project.",
            )
        job_ids = list(s.scalars(select(Job.id).where(Job.project_id == pid)))
        counts = Deleted(
            name=project.name,
            datasets=int(s.scalar(select(func.count()).where(Dataset.project_id == pid)) or 0),
            models=int(s.scalar(select(func.count()).where(RegisteredModel.project_id == pid)) or 0),
            jobs=len(job_ids),
            files=0,
        )
        for table in (PredictionRun, RegisteredModel, Dataset, Job, ApiKey, Membership):
            s.execute(delete(table).where(table.project_id == pid))
        s.execute(update(AuditEvent).where(AuditEvent.project_id == pid).values(project_id=None))
        s.execute(delete(Project).where(Project.id == pid))
        s.add(
            AuditEvent(
                project_id=None,
                actor=str(access.actor_of(ws)),
                action="delete_project",
                object=f"{project.name} (id {pid}): {counts.datasets} datasets, {counts.models} models, "
                f"{counts.jobs} jobs",
            )
        )
    access.forget_projects(ws)
    return replace(counts, files=_delete_files(ws, pid, job_ids))


def _delete_files(ws: Workspace, project_id: int, job_ids: list[str]) -> int:
    """Every file under the project's prefix (recorded or not) and its AutoML runs' receipts."""
    prefix = project_prefix(project_id)
    recorded = set(ws.artifact_keys(prefix))
    for job_id in job_ids:  # AutoML receipts are keyed by the run (= job) id, outside the prefix
        recorded.update(ws.artifact_keys(f"automl/{job_id}/"))
    stored = set(ws.store.list(prefix))
    failed = 0
    for key in sorted(recorded | stored):
        try:
            ws.delete_artifact(key) if key in recorded else ws.store.delete(key)
        except Exception:  # the project is gone already; a stray file only costs space
            failed += 1
            log.warning("could not delete %s of deleted project %s", key, project_id, exc_info=True)
    if failed:
        log.warning("%s file(s) of deleted project %s are left in the store", failed, project_id)
    return len(recorded | stored) - failed
