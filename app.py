"""Atelier: the entry point.  A router over pages/, nothing more."""

from __future__ import annotations

import logging

import streamlit as st

from components.guard import show_error

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
st.set_page_config(page_title="Atelier", page_icon="🧪", layout="wide")

PAGES = [
    st.Page("pages/data.py", title="Data", icon=":material/table:", default=True),
    st.Page("pages/eda.py", title="EDA", icon=":material/query_stats:"),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/benchmarks.py", title="Benchmarks", icon=":material/leaderboard:"),
    st.Page("pages/predict.py", title="Predict", icon=":material/online_prediction:"),
    st.Page("pages/settings.py", title="Settings", icon=":material/settings:"),
]

navigation = st.navigation(PAGES)
with st.sidebar:
    st.caption("Atelier · machine learning for tables")
if navigation.title != "Settings":
    from components.state import workspace

    try:
        workspace()
    except Exception as exc:  # every page needs the workspace: say why it is unusable, then stop
        show_error(exc, "Opening the workspace")
        st.page_link("pages/settings.py", label="Open Settings to see what is configured", icon=":material/settings:")
        st.stop()
navigation.run()
