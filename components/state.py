"""The workspace for this server process, opened once and shared by sessions."""

from __future__ import annotations

import streamlit as st

from core.platform import jobs
from core.platform.config import Settings
from core.platform.jobs import worker
from core.platform.workspace import Workspace
from core.serve.loaded import ModelCache


@st.cache_resource(show_spinner="Opening the workspace…")
def _open(settings: Settings) -> Workspace:
    ws = Workspace.open(settings)
    jobs.mark_interrupted(ws)  # jobs left "running" by a previous server are closed now
    return ws


def settings() -> Settings:
    return Settings.load()


def workspace() -> Workspace:
    """The open workspace; raises StorageError (shown by the guard) when unreachable."""
    ws = _open(settings())
    if not ws.settings.dask_scheduler:  # local jobs: (re)start the warm worker before the first is submitted
        worker.start(ws.settings.home / "logs")
    return ws


@st.cache_resource
def model_cache() -> ModelCache:
    """Loaded model versions shared by every session of this server (a version loads once)."""
    return ModelCache()
