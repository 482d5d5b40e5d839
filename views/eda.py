"""EDA: explore one dataset version, view by view, and make its full profiling report."""

from __future__ import annotations

import streamlit as st

from components import eda_views
from components.dataset_picker import pick_version
from components.guard import guard
from components.state import workspace

st.title("EDA")
ws = workspace()

with st.container(border=True):
    version = pick_version("eda")
if version is None:
    st.stop()

if flash := st.session_state.pop("eda.flash", None):  # set by an action on the last run
    st.success(flash)
target = f" · target: {version.target}" if version.target else " · no target"
st.caption(f"{version.label} · {version.n_rows:,} rows × {version.n_columns} columns{target} · {version.note}")

VIEWS = list(eda_views.VIEWS)
# Streamlit forgets a widget's value while another page is shown: keep the chosen view apart from it.
if "eda.view" not in st.session_state:
    st.session_state["eda.view"] = st.session_state.get("eda.last_view", VIEWS[0])
view = st.segmented_control("View", VIEWS, key="eda.view", label_visibility="collapsed") or VIEWS[0]
st.session_state["eda.last_view"] = view

if version.n_rows == 0 and view != "Overview":
    st.info(eda_views.empty_version_note(version, view), icon=":material/info:")
else:
    with guard(f"Showing {view.lower()} of {version.label}"):
        eda_views.VIEWS[view](ws, version)
