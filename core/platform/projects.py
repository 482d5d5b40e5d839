"""Projects and their members: create, rename, archive, list, count what they hold; add or remove a
member, read the audit trail.

The checks are :mod:`core.platform.access`'s: only admins (``ATELIER_ADMINS``, or the local
owner) create projects, and the creator owns them; only an owner manages members.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError as DBIntegrityError

from core.platform import access
from core.platform.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from core.platform.metadata.models import (
    Artifact,
    AuditEvent,
    Dataset,
    DatasetVersion,
    Job,
    Membership,
    ModelVersion,
    PredictionRun,
    Project,
    RegisteredModel,
    User,
)
from core.platform.workspace import Workspace

PROBLEM_TYPES = ("classification", "regression")


@dataclass(frozen=True)
class Member:
    email: str
    role: str


@dataclass(frozen=True)
class Event:
    at: datetime
    actor: str
    action: str
    object: str


def _check_name(name: str) -> str:
    text = (name or "").strip()
    if not text or len(text) > 100:
        raise InvalidInputError(f"A project needs a name of 1 to 100 characters, got {name!r}.")
    return text


def _check_role(role: str) -> str:
    if role not in access.ROLES:
        raise InvalidInputError(f"Unknown role {role!r}; use one of {', '.join(access.ROLES)}.")
    return role


def create_project(ws: Workspace, name: str, problem_type: str | None = None) -> access.ProjectInfo:
    """A new project owned by the actor (an admin)."""
    name = _check_name(name)
    actor = access.actor_of(ws)
    if not access.is_admin(ws, actor):
        raise PermissionDeniedError(f"{actor} may not create projects: only admins may.",
                                    hint="Ask an admin (ATELIER_ADMINS) to create it and add you.")
    if problem_type is not None and problem_type not in PROBLEM_TYPES:
        raise InvalidInputError(f"Unknown problem type {problem_type!r}; use {' or '.join(PROBLEM_TYPES)}.")
    try:
        with ws.db.session() as s:
            row = Project(name=name, archived=False, problem_type=problem_type)
            s.add(row)
            s.flush()
            if not actor.is_local:
                s.add(Membership(project_id=row.id, user_id=access._user_id(s, actor.email), role="owner"))
            info = access.ProjectInfo(row.id, row.name, False, problem_type)
    except DBIntegrityError as exc:
        raise ConflictError(f"A project named {name!r} already exists.", hint="Choose another name.") from exc
    access.audit(ws, "create_project", name, project=info)
    return info


def list_projects(ws: Workspace) -> list[tuple[access.ProjectInfo, str]]:
    """The projects the actor belongs to, with the actor's role in each."""
    actor = access.actor_of(ws)
    access.find_project(ws, access.DEFAULT_PROJECT, actor=access.LOCAL_OWNER)  # makes sure it exists
    with ws.db.session() as s:
        if actor.is_local:
            rows = [(p, "owner") for p in s.scalars(select(Project).order_by(Project.name))]
        else:
            rows = list(s.execute(select(Project, Membership.role).join(Membership, Membership.project_id == Project.id)
                                  .join(User, User.id == Membership.user_id).where(User.email == actor.email)
                                  .order_by(Project.name)))
        return [(access._info(p), role) for p, role in rows]


def members(ws: Workspace, name: str) -> list[Member]:
    project = access.find_project(ws, name)
    with ws.db.session() as s:
        rows = s.execute(select(User.email, Membership.role).join(Membership, Membership.user_id == User.id)
                         .where(Membership.project_id == project.id).order_by(User.email))
        return [Member(email, role) for email, role in rows]


def add_member(ws: Workspace, name: str, email: str, role: str) -> Member:
    """Add ``email`` to the project with ``role``, or change the role of a member."""
    project = access.find_project(ws, name)
    access.require(ws, "members", project)
    email, role = access.normalize_email(email), _check_role(role)
    with ws.db.session() as s:
        user_id = access._user_id(s, email)
        row = s.scalar(select(Membership).where(Membership.project_id == project.id, Membership.user_id == user_id))
        if row is None:
            s.add(Membership(project_id=project.id, user_id=user_id, role=role))
        else:
            _keep_an_owner(s, project, row, role)
            row.role = role
    access.audit(ws, "add_member", f"{email} as {role}", project=project)
    return Member(email, role)


def remove_member(ws: Workspace, name: str, email: str) -> None:
    project = access.find_project(ws, name)
    access.require(ws, "members", project)
    email = access.normalize_email(email)
    with ws.db.session() as s:
        row = s.scalar(select(Membership).join(User, User.id == Membership.user_id)
                       .where(Membership.project_id == project.id, User.email == email))
        if row is None:
            raise NotFoundError(f"{email} is not a member of project {project.name!r}.")
        _keep_an_owner(s, project, row, None)
        s.delete(row)
    access.audit(ws, "remove_member", email, project=project)


def _keep_an_owner(s, project: access.ProjectInfo, row: Membership, new_role: str | None) -> None:
    if row.role != "owner" or new_role == "owner":
        return
    owners = s.scalar(select(func.count()).where(Membership.project_id == project.id, Membership.role == "owner"))
    if owners <= 1:
        raise ConflictError(f"Project {project.name!r} would have no owner left.",
                            hint="Make another member an owner first.")


def audit_events(ws: Workspace, name: str, limit: int = 200) -> list[Event]:
    """The project's audit trail, newest first."""
    project = access.find_project(ws, name)
    access.require(ws, "read", project)
    with ws.db.session() as s:
        rows = s.scalars(select(AuditEvent).where(AuditEvent.project_id == project.id)
                         .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit))
        return [Event(r.at, r.actor, r.action, r.object) for r in rows]


def rename_project(ws: Workspace, name: str, new_name: str) -> access.ProjectInfo:
    """Give the project another name (owners); its datasets, models, jobs and keys stay with it."""
    project = access.find_project(ws, name)
    access.require(ws, "rename_project", project)
    new_name = _check_name(new_name)
    if access.DEFAULT_PROJECT in (project.name, new_name):
        raise InvalidInputError(f"The project named {access.DEFAULT_PROJECT!r} keeps its name, and no other takes it: "
                                "it holds what was made before projects existed.", hint="Choose another name.")
    if new_name == project.name:
        return project
    try:
        with ws.db.session() as s:
            s.get(Project, project.id).name = new_name
    except DBIntegrityError as exc:
        raise ConflictError(f"A project named {new_name!r} already exists.", hint="Choose another name.") from exc
    access.forget_projects(ws)
    access.audit(ws, "rename_project", f"{project.name} → {new_name}", project=project)
    return access.ProjectInfo(project.id, new_name, project.archived, project.problem_type)


def set_archived(ws: Workspace, name: str, archived: bool = True) -> access.ProjectInfo:
    """Archive the project (owners): it can still be read, but nothing in it changes until restored."""
    project = access.find_project(ws, name)
    access.require(ws, "archive_project", project)
    if project.is_default and archived:
        raise InvalidInputError(f"The project named {access.DEFAULT_PROJECT!r} cannot be archived: "
                                "it is where the command line and the app work when no project is named.")
    with ws.db.session() as s:
        s.get(Project, project.id).archived = bool(archived)
    access.forget_projects(ws)
    access.audit(ws, "archive_project" if archived else "restore_project", project.name, project=project)
    return access.ProjectInfo(project.id, project.name, bool(archived), project.problem_type)


@dataclass(frozen=True)
class Statistics:
    datasets: int
    dataset_versions: int
    models: int
    model_versions: int
    jobs: int
    storage_bytes: int  # dataset files, models and prediction outputs, each stored file once


def statistics_marker(ws: Workspace, name: str) -> tuple:
    """What changes whenever :func:`statistics` may: one cheap query, for a page that keeps the numbers.

    The project's latest audit event (imports, deletions, promotions), its job count, and the count
    and latest write of stored files (a trained model or a prediction output is a new file); the
    actor's role is checked now, as by :func:`statistics`.
    """
    project = access.find_project(ws, name)
    access.require(ws, "read", project)
    marker = select(
        select(func.max(AuditEvent.id)).where(AuditEvent.project_id == project.id).scalar_subquery(),
        select(func.count()).select_from(Job).where(access.in_project(Job.project_id, ws, project)).scalar_subquery(),
        select(func.count()).select_from(Artifact).scalar_subquery(),
        select(func.max(Artifact.created_at)).scalar_subquery(),
    )
    with ws.db.session() as s:
        return (ws.db.url, project.id, *s.execute(marker).one())


def statistics(ws: Workspace, name: str) -> Statistics:
    """How much the project holds: what a member sees, counted by the database."""
    project = access.find_project(ws, name)
    access.require(ws, "read", project)

    def mine(column):
        return access.in_project(column, ws, project)

    stored = ModelVersion.sha256.is_not(None)  # a version counts once its bytes are stored (as the registry's)
    with ws.db.session() as s:
        def count(query) -> int:
            return int(s.scalar(select(func.count()).select_from(query.subquery())) or 0)

        dataset_files = (select(DatasetVersion.artifact_key, DatasetVersion.size_bytes)
                         .join(Dataset, Dataset.id == DatasetVersion.dataset_id).where(mine(Dataset.project_id))
                         .distinct())
        model_files = (select(ModelVersion.artifact_key, ModelVersion.size_bytes)
                       .join(RegisteredModel, RegisteredModel.id == ModelVersion.model_id)
                       .where(mine(RegisteredModel.project_id), stored).distinct())
        outputs = (select(Artifact.key, Artifact.size_bytes)
                   .join(PredictionRun, PredictionRun.artifact_key == Artifact.key)
                   .where(mine(PredictionRun.project_id)).distinct())
        used = 0
        for files in (dataset_files, model_files, outputs):
            sizes = files.subquery()
            used += int(s.scalar(select(func.coalesce(func.sum(sizes.c.size_bytes), 0))) or 0)
        return Statistics(
            datasets=count(select(Dataset.id).where(mine(Dataset.project_id))),
            dataset_versions=count(select(DatasetVersion.id).join(Dataset, Dataset.id == DatasetVersion.dataset_id)
                                   .where(mine(Dataset.project_id))),
            models=count(select(RegisteredModel.id).join(ModelVersion, ModelVersion.model_id == RegisteredModel.id)
                         .where(mine(RegisteredModel.project_id), stored).distinct()),
            model_versions=count(select(ModelVersion.id)
                                 .join(RegisteredModel, RegisteredModel.id == ModelVersion.model_id)
                                 .where(mine(RegisteredModel.project_id), stored)),
            jobs=count(select(Job.id).where(mine(Job.project_id))),
            storage_bytes=used,
        )
