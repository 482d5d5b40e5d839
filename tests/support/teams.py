"""Users of a signed-in workspace, for the project and isolation tests."""

from __future__ import annotations

from collections.abc import Callable

from core.platform.config import Settings
from core.platform.workspace import Workspace

ADMIN, ALICE, BOB, CAROL = "admin@example.org", "alice@example.org", "bob@example.org", "carol@example.org"


def team_settings(tmp_path, database_url: str | None = None) -> Settings:
    """OIDC sign-in with ADMIN as the admin, on ``database_url`` (a SQLite file by default)."""
    url = database_url or f"sqlite:///{tmp_path / 'meta.db'}"
    return Settings(home=tmp_path / "home", database_url=url, auth="oidc", admins=ADMIN)


def opener(base: Settings) -> tuple[Callable[..., Workspace], list[Workspace]]:
    """A function opening the workspace as a user (in a project), and the list of those opened, to dispose."""
    opened: list[Workspace] = []

    def _open(user: str, project: str = "") -> Workspace:
        ws = Workspace.open(base.with_(user=user, project=project))
        opened.append(ws)
        return ws

    return _open, opened
