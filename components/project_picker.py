"""The project picker of the sidebar: which of the user's projects every page works in.

The pick lives in the session; :func:`in_picked_project` gives the workspace its project (core then
filters every query on it and checks the role there).  With one project there is nothing to pick,
and the single-user workbench shows nothing at all.  A pick the user no longer belongs to (removed,
renamed) falls back to a project they do belong to.
"""

from __future__ import annotations

import streamlit as st

from core.platform import access, projects
from core.platform.errors import AtelierError
from core.platform.workspace import Workspace

PICKED = "atelier.project"  # the name of the project picked in this session
_WIDGET = "atelier_project_picker"
_PER_PROJECT = ("dataset.current", "model.current")  # the pickers' last choices: another project's names


def in_picked_project(ws: Workspace) -> Workspace:
    """The workspace in the project picked in this session (as it is when none was picked)."""
    picked = st.session_state.get(PICKED)
    if not picked or picked == (ws.settings.project.strip() or access.DEFAULT_PROJECT):
        return ws
    return Workspace(ws.settings.with_(project=picked), ws.store, ws.db)


def _label(mine: dict[str, tuple[access.ProjectInfo, str]]):
    def label(name: str) -> str:
        project, role = mine[name]
        return f"{name} · {role.replace('_', ' ')}" + (" · archived" if project.archived else "")
    return label


def _picked(value: str) -> None:
    if st.session_state.get(PICKED) != value:
        for key in _PER_PROJECT:
            st.session_state.pop(key, None)
    st.session_state[PICKED] = value


def project_picker() -> None:
    """Render the picker in the sidebar and keep the session's pick valid."""
    from components.state import workspace

    try:
        ws = workspace()
        mine = {p.name: (p, role) for p, role in projects.list_projects(ws)}
    except AtelierError:  # no usable workspace or no user yet: the page itself says why
        return
    if not mine:
        st.session_state.pop(PICKED, None)
        return
    current = st.session_state.get(PICKED) or ws.settings.project.strip() or access.DEFAULT_PROJECT
    if current not in mine:  # removed from it, renamed, or never a member of the default project
        current = next(iter(mine))
        _picked(current)
    if len(mine) == 1:
        if ws.settings.auth != "none":
            st.sidebar.caption(f"Project: **{current}**")
        return
    names = list(mine)
    if st.session_state.get(_WIDGET) not in mine:
        st.session_state[_WIDGET] = current
    chosen = st.sidebar.selectbox("Project", names, key=_WIDGET, format_func=_label(mine),
                                  help="Every page works in this project: its datasets, models and jobs.")
    _picked(chosen)
