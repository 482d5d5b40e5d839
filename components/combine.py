"""The Data page's "Combine" tab: join the open version with another, or filter its rows, and save
the result as a new version through a background job.

Everything is decided in :mod:`core.data.transform`; this only collects the choices (conditions are
structured: column, operator, value) and renders the plan and previews core returns.
"""

from __future__ import annotations

import streamlit as st

from components import dataset_picker
from components.guard import guard
from components.job_panel import job_panel, watch
from core.data import datasets, transform
from core.data.datasets import VersionInfo
from core.platform.workspace import Workspace

JOB_KEY = "data.combine"


def combine_panel(ws: Workspace, version: VersionInfo, key: str = "data.combine") -> None:
    finished = job_panel(transform.TRANSFORM_JOB, key=JOB_KEY,  # a success gives way to the version it made
                         scope=lambda job: job.status != "succeeded" or st.session_state.get(f"{key}.opened") != job.id)
    if finished and finished.status == "succeeded" and st.session_state.get(f"{key}.opened") != finished.id:
        st.session_state[f"{key}.opened"] = finished.id
        with guard("Opening the new version"):
            new = datasets.get_version_by_id(ws, finished.result["version_id"])
            dataset_picker.remember(new)
            st.session_state["data.flash"] = f"Saved {new.label}: {new.n_rows:,} rows × {new.n_columns} columns."
            st.rerun()
    # Nothing is chosen at first, so no table is read until someone asks (tabs all run on every rerun).
    mode = st.radio("Make a new version by", ["Joining with another dataset", "Filtering rows"], index=None,
                    horizontal=True, key=f"{key}.mode")
    if mode == "Filtering rows":
        _filter_form(ws, version, key)
    elif mode:
        _join_form(ws, version, key)


def _submit(ws: Workspace, spec: dict, name: str, new_version: bool) -> None:
    job_id = transform.submit_transform(ws, spec, name, new_version=new_version)
    watch(JOB_KEY, job_id)
    st.rerun()


def _join_form(ws: Workspace, version: VersionInfo, key: str) -> None:
    names = [d.name for d in datasets.list_datasets(ws)]
    other_name = st.selectbox("Join with", names, key=f"{key}.right")
    if not other_name:
        return
    others = datasets.list_versions(ws, other_name)[::-1]
    pick = st.selectbox("Its version", range(len(others)), key=f"{key}.right_version.{other_name}",
                        format_func=lambda i: f"v{others[i].version} · {others[i].n_rows:,} rows")
    right = others[pick]
    if right.id == version.id:
        st.info("Pick another dataset or version to join with.")
        return
    with guard("Suggesting join keys"):
        left_t, right_t = datasets.load_table(ws, version), datasets.load_table(ws, right)
        hints = transform.suggest_keys(left_t, right_t)
        if hints:
            st.caption("Key suggestions (same name, compatible type; overlap of values on a sample): " +
                       ", ".join(f"{h.column} {h.overlap:.0%}" for h in hints))
        shared = [c for c in version.columns if c in right.columns]
        on = st.multiselect("Join on", shared, default=[h.column for h in hints[:1] if h.overlap > 0],
                            key=f"{key}.on.{right.id}")
        how = st.radio("Kind", transform.HOW, horizontal=True, key=f"{key}.how",
                       format_func=lambda h: {"inner": "inner: matched rows only",
                                              "left": "left: every row of this dataset"}[h])
        if not on:
            st.info("Choose the key column(s) both datasets share.")
            return
        plan = transform.plan_join(left_t, right_t, on, how)
        st.markdown(f"The result has **{plan.rows:,} rows**; {plan.left_unmatched:,} row(s) of {version.label} "
                    f"and {plan.right_unmatched:,} of {right.label} find no match.")
        for warning in plan.warnings:
            st.warning(warning)
    name = st.text_input("New dataset name", value=f"{version.name}+{right.name}"[:100], key=f"{key}.join_name")
    if st.button("Save the join as a new version", type="primary", key=f"{key}.join_save"):
        with guard("Starting the join"):
            _submit(ws, transform.join_spec(version, right, on, how), name, new_version=name == version.name)


def _filter_form(ws: Workspace, version: VersionInfo, key: str) -> None:
    chips_key = f"{key}.conditions.{version.id}"
    conditions: list[dict] = st.session_state.setdefault(chips_key, [])
    col, op, value = st.columns([2, 1, 2])
    column = col.selectbox("Column", version.columns, key=f"{key}.col")
    operator = op.selectbox("Operator", transform.OPERATORS, key=f"{key}.op")
    needs_value = operator not in {"is missing", "is not missing"}
    text = value.text_input("Value (a list: S,C)" if operator in {"in", "not in"} else "Value", key=f"{key}.value",
                            disabled=not needs_value)
    if st.button("Add condition", key=f"{key}.add"):
        with guard("Adding the condition"):
            # Only the operator and value are read from text (the column comes from the select).
            parsed = transform.parse_where(f"c {operator} {text}") if needs_value else None
            cond = transform.Condition(column, operator, parsed and parsed.value)
            transform.condition_mask(datasets.load_table(ws, version, [column]).slice(0, 0), cond)  # types checked
            conditions.append({"column": column, "op": operator, "value": cond.value})
            st.rerun()
    for i, cond in enumerate(list(conditions)):
        label, remove = st.columns([6, 1], vertical_alignment="center")
        label.markdown(f"`{transform.Condition(**cond).describe()}`")
        if remove.button("Remove", key=f"{key}.remove.{version.id}.{i}"):
            conditions.pop(i)
            st.rerun()
    combine = st.radio("Keep rows meeting", ["and", "or"], horizontal=True, key=f"{key}.combine",
                       format_func={"and": "all conditions", "or": "any condition"}.get)
    drop = st.multiselect("Drop columns", version.columns, key=f"{key}.drop")
    if not conditions and not drop:
        st.caption("Add a condition or choose columns to drop.")
        return
    out = None
    with guard("Previewing the filter"):
        out = transform.filter_table(datasets.load_table(ws, version), conditions, combine, drop)
        st.markdown(f"Keeps **{out.num_rows:,} of {version.n_rows:,} rows** × {out.num_columns} columns.")
        st.dataframe(out.slice(0, 20).to_pandas(), width="stretch")
    name = st.text_input("Save as (this name makes its next version)", value=version.name, key=f"{key}.filter_name")
    if st.button("Save as a new version", type="primary", key=f"{key}.filter_save",
                 disabled=out is None or out.num_rows == 0):
        with guard("Starting the filter"):
            _submit(ws, transform.filter_spec(version, conditions, combine, drop), name,
                    new_version=name.strip() == version.name)
