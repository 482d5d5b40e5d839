"""Registry actions on one model name: promote, roll back, delete a version, and the stage history."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components.guard import guard
from core.models import comparison_figures as cf
from core.models import registry
from core.platform.workspace import Workspace


def _done(key: str, message: str) -> None:
    st.session_state[f"{key}.flash"] = message
    st.rerun()


def versions_table(versions: list[registry.ModelVersionInfo]) -> pd.DataFrame:
    return pd.DataFrame([
        {"version": v.version, "stage": v.stage, "algorithm": v.algorithm, "dataset": v.dataset_label,
         "created": v.created_at.strftime("%Y-%m-%d %H:%M")} for v in versions[::-1]
    ])


def registry_actions(ws: Workspace, name: str, *, key: str) -> None:
    """The versions of ``name`` with promote, one-click roll back, delete (production only when confirmed)."""
    if flash := st.session_state.pop(f"{key}.flash", None):
        st.success(flash)
    versions = registry.list_versions(ws, name)
    if not versions:
        st.info(f"Model {name!r} has no versions left.")
        return
    st.dataframe(versions_table(versions), hide_index=True, width="stretch")
    by_number = {v.version: v for v in versions}
    numbers = sorted(by_number, reverse=True)
    production = next((v for v in versions if v.stage == "production"), None)
    promote_col, rollback_col, delete_col = st.columns(3)
    with promote_col:
        candidates = [n for n in numbers if by_number[n].stage != "production"]
        chosen = st.selectbox("Version to promote", candidates, key=f"{key}.promote_version.{name}",
                              format_func=lambda n: f"v{n} · {by_number[n].stage}", disabled=not candidates)
        if st.button("Promote to production", key=f"{key}.promote", type="primary", disabled=chosen is None):
            with guard("Promoting the version"):
                mv = registry.promote(ws, name, chosen)
                before = f" (v{production.version} archived)" if production else ""
                _done(key, f"Promoted {mv.label} to production{before}.")
    with rollback_col:
        st.caption(f"In production: v{production.version}" if production else "No version is in production.")
        if st.button("Roll back", key=f"{key}.rollback", disabled=production is None,
                     help="Put back the version that was in production before this one."):
            with guard("Rolling back"):
                mv = registry.rollback(ws, name)
                _done(key, f"Rolled back {name!r}: v{mv.version} is in production again "
                           f"(v{production.version} archived).")
    with delete_col:
        doomed = st.selectbox("Version to delete", numbers, key=f"{key}.delete_version.{name}",
                              format_func=lambda n: f"v{n} · {by_number[n].stage}")
        is_production = by_number[doomed].stage == "production"
        confirmed = not is_production or st.checkbox(
            f"Yes, delete v{doomed}, the production version", key=f"{key}.delete_confirm.{name}.{doomed}")
        if st.button("Delete version", key=f"{key}.delete", disabled=not confirmed):
            with guard("Deleting the version"):
                mv = registry.delete_version(ws, name, doomed, confirm_production=is_production)
                _done(key, f"Deleted {mv.label} (it was at stage {mv.stage!r}); its history is kept.")
    history_view(ws, name, key=key)


def history_view(ws: Workspace, name: str, *, key: str) -> None:
    """The stage changes as a table and a timeline."""
    moves = registry.history(ws, name)
    st.markdown("**Stage history**")
    if not moves:
        st.caption("No stage changes yet: promote a version to start the history.")
        return
    table = cf.stage_history_table(moves)
    table["when"] = table["when"].map(lambda t: t.strftime("%Y-%m-%d %H:%M:%S"))
    left, right = st.columns([2, 3])
    left.dataframe(table, hide_index=True, width="stretch")
    right.plotly_chart(cf.stage_history_figure(moves), key=f"{key}.history.{name}", width="stretch")
