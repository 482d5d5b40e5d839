"""Renderers for the Data page: upload options, schema with roles, quality report."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.data.datasets import VersionInfo

_SEVERITY = {"error": "Error", "warning": "Warning", "info": "Info"}  # words: not a coloured dot alone


def roles_editor(version: VersionInfo, key: str) -> dict[str, str]:
    """The schema table plus one control per role; returns the chosen roles."""
    st.dataframe(
        pd.DataFrame({
            "column": [c["name"] for c in version.schema],
            "type": [c.get("logical_type", "") for c in version.schema],
            "role": [version.roles.get(c["name"], "feature") for c in version.schema],
            "missing": [c.get("n_missing", 0) for c in version.schema],
            "unique": [c.get("n_unique", 0) for c in version.schema],
            "examples": [", ".join(map(str, c.get("examples", [])[:3])) for c in version.schema],
        }),
        hide_index=True, width="stretch",
    )
    columns = version.columns
    current = version.target
    target = st.selectbox("Target (what to predict)", [None, *columns], key=f"{key}.target",
                          index=columns.index(current) + 1 if current else 0,
                          format_func=lambda c: "— none (clustering) —" if c is None else c)
    roles = {c: "feature" for c in columns}
    if target:
        roles[target] = "target"
    left, middle, right = st.columns(3)
    for box, role, label in ((left, "id", "ID columns"), (middle, "datetime", "Datetime columns"),
                             (right, "ignore", "Ignored columns")):
        options = [c for c in columns if c != target]
        chosen = box.multiselect(label, options, default=[c for c in version.columns_with_role(role) if c in options],
                                 key=f"{key}.{role}")
        roles.update(dict.fromkeys(chosen, role))
    return roles


def quality_view(version: VersionInfo, ws=None) -> None:
    quality = version.quality
    summary = quality.get("summary", {})
    cols = st.columns(4)
    cols[0].metric("Rows", f"{version.n_rows:,}")
    cols[1].metric("Columns", version.n_columns)
    cols[2].metric("Duplicate rows", f"{summary.get('duplicate_rows', 0):,}")
    cols[3].metric("Missing cells", f"{summary.get('missing_cells', 0):,}")
    issues = quality.get("issues", [])
    if not issues:
        st.success("No quality issues found.")
        return
    st.dataframe(
        pd.DataFrame([
            {"severity": _SEVERITY.get(i.get("severity"), ""), "check": i.get("check"),
             "column": i.get("column") or "—",
             "finding": i.get("detail"), "suggested action": i.get("suggestion")} for i in issues
        ]),
        hide_index=True, width="stretch",
    )
    if ws is not None and any(i.get("check") == "placeholders" for i in issues):
        _placeholder_fix(ws, version)


def _placeholder_fix(ws, version: VersionInfo) -> None:
    """One click: a new version with placeholders ('?', 'NA', '-', blank) as missing and padding stripped."""
    from components.dataset_picker import remember
    from components.guard import guard
    from core.data.cleanup import fix_placeholders

    if st.button("Turn placeholders into missing values", key=f"data.fix_placeholders.{version.id}",
                 help="Makes a new version; this one stays as it is."):
        with guard("Fixing placeholders"):
            new = fix_placeholders(ws, version)
            remember(new)
            st.session_state["data.flash"] = f"Saved {new.label} with placeholders as missing values."
            st.rerun()


def manage_actions(ws, version: VersionInfo) -> None:
    """Remove columns (a new version), clone, and delete after confirmation."""
    from components.dataset_picker import remember
    from components.guard import guard
    from core.data import datasets

    st.markdown("**Remove columns** (makes a new version; this one stays as it is)")
    drop = st.multiselect("Columns to remove", version.columns, key=f"data.drop.{version.id}")
    if st.button("Save without these columns", disabled=not drop, key="data.drop_save"):
        with guard("Removing columns"):
            new = datasets.derive_version(ws, version, drop_columns=drop)
            remember(new)
            st.session_state["data.flash"] = f"Saved {new.label} without {', '.join(drop)}."
            st.rerun()

    st.markdown("**Clone** (a new dataset starting from this one's latest version)")
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    new_name = left.text_input("Name of the clone", value=f"{version.name}-copy"[:100], key="data.clone_name")
    if right.button("Clone", key="data.clone", width="stretch"):
        with guard("Cloning"):
            clone = datasets.clone_dataset(ws, version.name, new_name)
            remember(clone)
            st.session_state["data.flash"] = f"Cloned {version.name} as {clone.label}."
            st.rerun()

    st.markdown("**Delete** the dataset and all its versions")
    confirm = st.text_input(f"Type {version.name!r} to confirm", key=f"data.delete_confirm.{version.name}")
    if st.button("Delete dataset", type="primary", disabled=confirm != version.name, key="data.delete"):
        with guard("Deleting"):
            count = datasets.delete_dataset(ws, version.name)
            st.session_state.pop("dataset.current", None)
            st.session_state["data.flash"] = f"Deleted {version.name!r} ({count} version(s))."
            st.rerun()
