"""Who may do what: the acting user, the project worked in, and the role → actions table.

With ``ATELIER_AUTH=none`` (the default) the actor is the local owner, who may do everything in
every project, and the project is ``default`` unless ``ATELIER_PROJECT`` names another: the
single-user workbench of before.  With sign-in configured the actor is the signed-in user (the
command line and jobs: ``ATELIER_USER``), and each check reads the member's role from the
database, so a removed member loses access at once.  A project the actor does not belong to is
reported as not found, never as forbidden: its existence does not leak.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import or_, select

from core.platform.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from core.platform.metadata.models import AuditEvent, Membership, Project, User

if TYPE_CHECKING:
    from core.platform.workspace import Workspace

DEFAULT_PROJECT = "default"
ROLES = ("owner", "data_scientist", "viewer")
_VIEWER = frozenset({"read", "predict_one", "download_report"})
_DATA_SCIENTIST = _VIEWER | {"import", "train", "promote", "rollback", "predict", "delete_dataset", "delete_model"}
ALLOWED: dict[str, frozenset[str]] = {
    "viewer": _VIEWER,
    "data_scientist": frozenset(_DATA_SCIENTIST),
    "owner": frozenset(_DATA_SCIENTIST | {"members", "delete_project", "archive_project",
                                          "rename_project"}),
}
ACTIONS = ALLOWED["owner"]
_WORDS = {"read": "looking", "predict_one": "predicting one row", "download_report": "downloading a report",
          "import": "importing data", "train": "training", "promote": "promoting a model",
          "rollback": "rolling back a model", "predict": "batch prediction", "delete_dataset": "deleting a dataset",
          "delete_model": "deleting a model", "members": "managing members", "delete_project": "deleting the project",
          "archive_project": "archiving the project", "rename_project": "renaming the project"}
_WHILE_ARCHIVED = _VIEWER | {"archive_project", "members", "delete_project"}  # read, restored, members kept, deleted


@dataclass(frozen=True)
class Actor:
    """The acting user: an email, or the local owner of a single-user workbench (``email=None``)."""

    email: str | None = None

    @property
    def is_local(self) -> bool:
        return self.email is None

    def __str__(self) -> str:
        return self.email or "the local owner"


LOCAL_OWNER = Actor()


@dataclass(frozen=True)
class ProjectInfo:
    id: int
    name: str
    archived: bool
    problem_type: str | None

    @property
    def is_default(self) -> bool:
        return self.name == DEFAULT_PROJECT


def roles_allowed(action: str) -> list[str]:
    """The roles that may do ``action``, least powerful first."""
    if action not in ACTIONS:
        raise InvalidInputError(f"Unknown action {action!r}; known: {', '.join(sorted(ACTIONS))}.")
    return [role for role in reversed(ROLES) if action in ALLOWED[role]]


def allows(role: str | None, action: str) -> bool:
    needed = roles_allowed(action)
    return role in needed


def normalize_email(email: str) -> str:
    text = (email or "").strip().lower()
    if "@" not in text or text.startswith("@") or text.endswith("@") or " " in text:
        raise InvalidInputError(f"{email!r} is not an email address.", hint="Write it as name@example.org.")
    return text


def _emails(text: str) -> list[str]:
    return [e.strip().lower() for e in (text or "").split(",") if e.strip()]


# -- who and where ----------------------------------------------------------------------------
def actor_of(ws: Workspace) -> Actor:
    """The acting user of this workspace's settings."""
    if ws.settings.auth == "none":
        return LOCAL_OWNER
    if not ws.settings.user.strip():
        raise InvalidInputError(
            f"Sign-in is configured (ATELIER_AUTH={ws.settings.auth}) but no user is acting.",
            hint="Set ATELIER_USER to your email to use the command line.",
        )
    return Actor(normalize_email(ws.settings.user))


def is_admin(ws: Workspace, actor: Actor) -> bool:
    return actor.is_local or actor.email in _emails(ws.settings.admins)


def role_of(ws: Workspace, actor: Actor, project: ProjectInfo) -> str | None:
    """The actor's role in the project, read now (None: not a member)."""
    if actor.is_local:
        return "owner"
    with ws.db.session() as s:
        return s.scalar(select(Membership.role).join(User, User.id == Membership.user_id)
                        .where(Membership.project_id == project.id, User.email == actor.email))


def _info(row: Project) -> ProjectInfo:
    return ProjectInfo(row.id, row.name, bool(row.archived), row.problem_type)


_ENSURED: set[tuple[str, str]] = set()  # (database, admins) whose default project is in place


def _ensure_default(ws: Workspace) -> None:
    """The default project exists and, once admins are set, the first admin owns it."""
    admins = _emails(ws.settings.admins)
    token = (ws.db.url, ",".join(admins))
    if token in _ENSURED:
        return
    with ws.db.session() as s:
        project = s.scalar(select(Project).where(Project.name == DEFAULT_PROJECT))
        if project is None:
            project = Project(name=DEFAULT_PROJECT, archived=False)
            s.add(project)
            s.flush()
        if admins and s.scalar(select(Membership.id).where(Membership.project_id == project.id,
                                                           Membership.role == "owner")) is None:
            s.add(Membership(project_id=project.id, user_id=_user_id(s, admins[0]), role="owner"))
    _ENSURED.add(token)


def _user_id(s, email: str) -> int:
    user = s.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email)
        s.add(user)
        s.flush()
    return user.id


# Projects by name, per database: a page asks for its project on every query it filters, so the
# row is kept for a few seconds (renames, archives and creations in this process forget it at once;
# elsewhere they count within PROJECT_TTL_S).  Roles are never kept: a removed member loses access
# at once.
PROJECT_TTL_S = 5.0
_PROJECTS: dict[tuple[str, str], tuple[float, ProjectInfo]] = {}


def forget_projects(ws: Workspace) -> None:
    """Drop this database's remembered projects (after a rename, an archive or a creation)."""
    for key in [k for k in _PROJECTS if k[0] == ws.db.url]:
        _PROJECTS.pop(key, None)


def _project_named(ws: Workspace, name: str) -> ProjectInfo | None:
    key, now = (ws.db.url, name), time.monotonic()
    seen = _PROJECTS.get(key)
    if seen is not None and now - seen[0] < PROJECT_TTL_S:
        return seen[1]
    with ws.db.session() as s:
        row = s.scalar(select(Project).where(Project.name == name))
        info = _info(row) if row is not None else None
    if info is not None:
        _PROJECTS[key] = (now, info)
    return info


def find_project(ws: Workspace, name: str, actor: Actor | None = None) -> ProjectInfo:
    """The project called ``name`` if the actor may see it; NotFoundError otherwise (no leak)."""
    actor = actor or actor_of(ws)
    if name == DEFAULT_PROJECT:
        _ensure_default(ws)
    info = _project_named(ws, name)
    if info is None or role_of(ws, actor, info) is None:
        raise NotFoundError(f"There is no project named {name!r} that {actor} belongs to.",
                            hint="List your projects with `python -m core projects list`.")
    return info


def project_by_id(ws: Workspace, project_id: int) -> ProjectInfo:
    """The project with this id, whoever acts (for a job, which runs in its own project)."""
    with ws.db.session() as s:
        row = s.get(Project, project_id)
        if row is None:
            raise NotFoundError(f"There is no project with id {project_id}.")
        return _info(row)


def current_project(ws: Workspace) -> ProjectInfo:
    """The project this workspace works in (``ATELIER_PROJECT``, else ``default``)."""
    return find_project(ws, ws.settings.project.strip() or DEFAULT_PROJECT)


def require(ws: Workspace, action: str, project: ProjectInfo | None = None, actor: Actor | None = None) -> str:
    """Raise unless the actor may do ``action`` in the project; returns the actor's role."""
    actor = actor or actor_of(ws)
    project = project or current_project(ws)
    role = role_of(ws, actor, project)
    if role is None:
        raise NotFoundError(f"There is no project named {project.name!r} that {actor} belongs to.")
    if project.archived and action not in _WHILE_ARCHIVED:
        raise ConflictError(f"Project {project.name!r} is archived: it can be read, not changed.",
                            hint="An owner can restore it on the Settings page.")
    if not allows(role, action):
        needed = " or ".join(roles_allowed(action))
        raise PermissionDeniedError(
            f"{actor} is a {role} in project {project.name!r}: {_WORDS.get(action, action)} needs the {needed} role.",
            hint="Ask an owner of the project to change your role.",
        )
    return role


def in_project(column, ws: Workspace, project: ProjectInfo | None = None):
    """A filter on a ``project_id`` column: rows of the current project (of ``default``, also rows without one)."""
    project = project or current_project(ws)
    if project.is_default:
        return or_(column == project.id, column.is_(None))
    return column == project.id


def project_id(ws: Workspace) -> int:
    """The id new rows of this workspace carry."""
    return current_project(ws).id


def audit(ws: Workspace, action: str, obj: str = "", project: ProjectInfo | None = None) -> None:
    """Record that the actor did ``action`` to ``obj`` in the project, now."""
    project = project or current_project(ws)
    with ws.db.session() as s:
        s.add(AuditEvent(project_id=project.id, actor=str(actor_of(ws)), action=action, object=str(obj)[:300]))


__all__ = ["ACTIONS", "ALLOWED", "Actor", "DEFAULT_PROJECT", "LOCAL_OWNER", "ProjectInfo", "ROLES", "actor_of",
           "allows", "audit", "current_project", "find_project", "forget_projects", "in_project", "is_admin",
           "project_by_id", "project_id", "require",
           "role_of", "roles_allowed"]
