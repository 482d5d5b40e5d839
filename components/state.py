"""The workspace for this server process, opened once and shared by sessions."""

from __future__ import annotations

import os

import streamlit as st

from core.platform import jobs
from core.platform.config import ENV_PREFIX, SECRETS_FILE, Settings
from core.platform.jobs import worker
from core.platform.workspace import Workspace
from core.serve.loaded import ModelCache


@st.cache_resource(show_spinner="Opening the workspace…")
def _open(_settings: Settings, source: tuple) -> Workspace:
    # Keyed by ``source`` (what the settings were read from): hashing the Settings object itself cost
    # ~20 ms on every call, and a page run asks for the workspace several times.
    ws = Workspace.open(_settings)
    jobs.mark_interrupted(ws)  # jobs left "running" by a previous server are closed now
    return ws


_loaded: dict[tuple, Settings] = {}


def _settings_source() -> tuple:
    """What Settings.load() reads: the ATELIER_* environment and the secrets file's identity."""
    try:
        stat = SECRETS_FILE.stat()
        secrets = (os.getcwd(), stat.st_mtime_ns, stat.st_size)
    except OSError:
        secrets = (os.getcwd(), None, None)
    return secrets, tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(ENV_PREFIX)))


def _current() -> tuple[Settings, tuple]:
    source = _settings_source()
    if source not in _loaded:
        _loaded.clear()  # one environment at a time; a change (tests, an edited secrets file) reloads
        _loaded[source] = Settings.load()
    return _loaded[source], source


def settings() -> Settings:
    """The settings, read again only when the environment or the secrets file changed."""
    return _current()[0]


def shared_workspace() -> Workspace:
    """The workspace of this server process, acting as ATELIER_USER: for the sign-in gate only."""
    return _open(*_current())


def workspace() -> Workspace:
    """The open workspace, acting as this session's signed-in user; raises StorageError (shown by the
    guard) when unreachable."""
    from components.sign_in import acting

    ws = _open(*_current())
    if not ws.settings.dask_scheduler:  # local jobs: (re)start the warm worker before the first is submitted
        worker.start(ws.settings.home / "logs")
    from components.project_picker import in_picked_project

    return in_picked_project(acting(ws))  # the project picked in the sidebar


@st.cache_resource
def model_cache() -> ModelCache:
    """Loaded model versions shared by every session of this server (a version loads once)."""
    return ModelCache()


def last_task(versions) -> tuple[str, str, str] | None:
    """The task (dataset, target, problem kind) last worked on in this session, among ``versions``' tasks.

    The dataset last opened on any page (with its target) comes first, then the model last
    chosen; otherwise the task of the newest version.
    """
    from components.dataset_picker import CURRENT as DATASET
    from components.model_picker import CURRENT as MODEL
    from core.data import datasets
    from core.models.ranking import choose_task
    from core.platform.errors import AtelierError

    name, number = st.session_state.get(DATASET, (None, None))
    target = None
    if name is not None and number is not None:
        try:
            target = datasets.get_version(workspace(), name, number).target
        except AtelierError:  # deleted since: the dataset's name still says which task
            target = None
    return choose_task(versions, model=st.session_state.get(MODEL), dataset=name, target=target)
