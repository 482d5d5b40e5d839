"""Fixtures shared by the integration tests of projects and sign-in."""

from __future__ import annotations

import pytest

from core.platform.config import Settings
from tests.support.teams import opener, team_settings


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def base(request, tmp_path) -> Settings:
    """A signed-in workspace's settings, on SQLite and on PostgreSQL."""
    return team_settings(tmp_path, None if request.param == "sqlite" else request.getfixturevalue("pg_url"))


@pytest.fixture
def open_as(base):
    _open, opened = opener(base)
    yield _open
    for ws in opened:
        ws.db.dispose()
