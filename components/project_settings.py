"""The Projects section of the Settings page: the project worked in, what it holds, its members and
its audit trail; create, rename, archive and delete.

Each control shows only when the user's role allows it (``access.allows``); core checks again on
every call, so a stale page cannot do more than the role.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components.guard import guard
from core.platform import access, project_deletion, projects
from core.platform.display import format_bytes

_NOTICE = "atelier.projects_notice"  # what the last action did, shown after its rerun


def _done(message: str, pick: str | None = None) -> None:
    from components.project_picker import PICKED

    st.session_state[_NOTICE] = message
    if pick is not None:
        st.session_state[PICKED] = pick
    st.rerun()


def project_settings() -> None:
    from components.state import workspace

    st.subheader("Projects", anchor="projects")
    with guard("Reading your projects"):
        ws = workspace()
        actor = access.actor_of(ws)
        mine = projects.list_projects(ws)
        notice = st.session_state.pop(_NOTICE, None)
        if notice:
            st.success(notice)
        if not mine:
            st.info("You belong to no project yet: ask an owner to add you.")
            _create(ws, actor)
            return
        project = access.current_project(ws)
        role = access.role_of(ws, actor, project) or "viewer"
        st.caption(f"Working in **{project.name}** as {role.replace('_', ' ')}"
                   + (" (archived: read only)" if project.archived else "")
                   + ("; pick another in the sidebar." if len(mine) > 1 else "."))
        st.dataframe(pd.DataFrame([{"project": p.name, "your role": r.replace("_", " "), "archived": p.archived,
                                    "problem type": p.problem_type or "—"} for p, r in mine]),
                     hide_index=True, width="stretch")
        _statistics(ws, project)
        _create(ws, actor)
        _rename_and_archive(ws, project, role)
        _delete(ws, project, role)
        _members(ws, project, role)
        _audit(ws, project)


@st.cache_data(max_entries=64, show_spinner=False)
def _counted(_ws, name: str, marker: tuple) -> projects.Statistics:
    # Counting storage joins every version of the project (seconds on a large one): kept until the
    # marker (latest audit event, jobs, stored files) says something changed.
    return projects.statistics(_ws, name)


def _statistics(ws, project: access.ProjectInfo) -> None:
    stats = _counted(ws, project.name, projects.statistics_marker(ws, project.name))
    cols = st.columns(4)
    cols[0].metric("Datasets", f"{stats.datasets:,}", help=f"{stats.dataset_versions:,} versions")
    cols[1].metric("Models", f"{stats.models:,}", help=f"{stats.model_versions:,} versions")
    cols[2].metric("Jobs", f"{stats.jobs:,}")
    cols[3].metric("Storage used", format_bytes(stats.storage_bytes),
                   help="Dataset files, models and prediction outputs, each stored file once.")


def _create(ws, actor: access.Actor) -> None:
    if not access.is_admin(ws, actor):
        return
    with st.expander("Create a project"), st.form("atelier_project_create", clear_on_submit=True):
        name = st.text_input("Name", key="atelier_project_new_name")
        kind = st.selectbox("Problem type (optional)", ["—", *projects.PROBLEM_TYPES], key="atelier_project_new_kind")
        if st.form_submit_button("Create", type="primary"):
            with guard("Creating the project"):
                info = projects.create_project(ws, name, problem_type=None if kind == "—" else kind)
                _done(f"Created project {info.name!r}; you own it and work in it now.", pick=info.name)


def _rename_and_archive(ws, project: access.ProjectInfo, role: str) -> None:
    if project.is_default or not (access.allows(role, "rename_project") or access.allows(role, "archive_project")):
        return
    with st.expander("Rename or archive this project"):
        if access.allows(role, "rename_project") and not project.archived:
            with st.form("atelier_project_rename"):
                new_name = st.text_input("New name", value=project.name, key="atelier_project_rename_to")
                if st.form_submit_button("Rename"):
                    with guard("Renaming the project"):
                        info = projects.rename_project(ws, project.name, new_name)
                        _done(f"Project {project.name!r} is now {info.name!r}.", pick=info.name)
        if access.allows(role, "archive_project"):
            label = "Restore the project" if project.archived else "Archive the project"
            st.caption("An archived project can be read, not changed, until an owner restores it.")
            if st.button(label, key="atelier_project_archive"):
                with guard("Archiving the project"):
                    info = projects.set_archived(ws, project.name, archived=not project.archived)
                    _done(f"Project {info.name!r} is {'archived' if info.archived else 'restored'}.")


def _delete(ws, project: access.ProjectInfo, role: str) -> None:
    if project.is_default or not access.allows(role, "delete_project"):
        return
    with st.expander("Delete this project"):
        st.warning(f"Deleting {project.name!r} removes its datasets, models, jobs, prediction runs, API keys and "
                   "files for good. Its audit trail is kept.")
        confirm = st.text_input(f"Type {project.name!r} to confirm", key="atelier_project_delete_confirm")
        if st.button("Delete the project", type="primary", disabled=confirm != project.name,
                     key="atelier_project_delete"):
            with guard("Deleting the project"):
                gone = project_deletion.delete_project(ws, project.name)
                left = [p.name for p, _ in projects.list_projects(ws)]
                after = access.DEFAULT_PROJECT if access.DEFAULT_PROJECT in left else next(iter(left), None)
                if after is None:
                    from components.project_picker import PICKED

                    st.session_state.pop(PICKED, None)
                _done(f"Deleted project {gone.name!r}: {gone.datasets} dataset(s), {gone.models} model(s) and "
                      f"{gone.jobs} job(s).", pick=after)


def _members(ws, project: access.ProjectInfo, role: str) -> None:
    members = projects.members(ws, project.name)
    with st.expander(f"Members ({len(members)})", expanded=access.allows(role, "members")):
        if members:
            st.dataframe(pd.DataFrame([{"email": m.email, "role": m.role.replace("_", " ")} for m in members]),
                         hide_index=True, width="stretch")
        else:
            st.caption("No members: the local owner works alone (no sign-in is configured).")
        if not access.allows(role, "members"):
            return
        with st.form("atelier_member_add", clear_on_submit=True):
            email = st.text_input("Email", key="atelier_member_email", placeholder="name@example.org")
            new_role = st.selectbox("Role", list(access.ROLES), index=1, key="atelier_member_role",
                                    format_func=lambda r: r.replace("_", " "),
                                    help="Owner: members and the project itself. Data scientist: import, train, "
                                         "promote. Viewer: look, predict one row, download reports.")
            if st.form_submit_button("Add or change the role"):
                with guard("Adding the member"):
                    member = projects.add_member(ws, project.name, email, new_role)
                    _done(f"{member.email} is a {member.role.replace('_', ' ')} in {project.name!r}.")
        if members:
            gone = st.selectbox("Remove a member", [m.email for m in members], index=None,
                                key="atelier_member_remove", placeholder="Pick a member")
            if gone and st.button(f"Remove {gone}", key="atelier_member_remove_button"):
                with guard("Removing the member"):
                    projects.remove_member(ws, project.name, gone)
                    _done(f"{gone} no longer belongs to {project.name!r}.")


def _audit(ws, project: access.ProjectInfo) -> None:
    events = projects.audit_events(ws, project.name)
    with st.expander(f"Audit trail ({len(events)} latest)"):
        if not events:
            st.caption("Nothing recorded yet.")
            return
        st.dataframe(pd.DataFrame([{"when (UTC)": e.at.strftime("%Y-%m-%d %H:%M:%S"), "who": e.actor,
                                    "did": e.action.replace("_", " "), "what": e.object} for e in events]),
                     hide_index=True, width="stretch")
