"""Fixtures shared by the integration tests: projects and sign-in, and a real Dask cluster."""

from __future__ import annotations

import pytest

from core.platform.config import Settings
from core.platform.workspace import Workspace
from tests.support.dask_cluster import local_cluster
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


@pytest.fixture(scope="module")
def cluster():
    """A real two-worker LocalCluster, one per test module."""
    with local_cluster(2) as local:
        yield local


@pytest.fixture
def cluster_ws(ws, cluster):
    """``ws`` with ``cluster`` as its Dask scheduler."""
    workspace = Workspace.open(ws.settings.with_(dask_scheduler=cluster.scheduler_address))
    yield workspace
    workspace.db.dispose()
