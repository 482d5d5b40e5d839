"""Atelier: the entry point.  A router over views/, nothing more."""

from __future__ import annotations

import streamlit as st

from components.guard import show_error
from components.project_picker import project_picker
from components.sign_in import gate
from core.platform.logging_setup import configure_logging

configure_logging("%(asctime)s %(levelname)s %(name)s: %(message)s")
st.set_page_config(page_title="Atelier", page_icon="🧪", layout="wide")
# Compact at 1280×720 (a projector): less empty space above and beside the page, a smaller title, so each
# page's main content (preview, chart, Train button) starts above the fold.
st.html("<style>[data-testid='stMainBlockContainer']{padding:2.2rem 2rem 3rem 2rem}"
        "[data-testid='stMainBlockContainer'] h1{font-size:2rem;padding:0 0 0.3rem 0}</style>")

PAGES = [
    st.Page("views/data.py", title="Data", icon=":material/table:", default=True),
    st.Page("views/eda.py", title="EDA", icon=":material/query_stats:"),
    st.Page("views/train.py", title="Train", icon=":material/model_training:"),
    st.Page("views/benchmarks.py", title="Benchmarks", icon=":material/leaderboard:"),
    st.Page("views/predict.py", title="Predict", icon=":material/online_prediction:"),
    st.Page("views/settings.py", title="Settings", icon=":material/settings:"),
]

gate()  # with sign-in configured, a visitor who has not signed in sees the sign-in screen only
navigation = st.navigation(PAGES)
with st.sidebar:
    st.caption("Atelier · machine learning for tables")
if navigation.title != "Settings":
    from components.state import workspace

    try:
        with st.spinner("Opening the workspace…"):  # the first run migrates the database: never a blank page
            workspace()
    except Exception as exc:  # every page needs the workspace: say why it is unusable, then stop
        show_error(exc, "Opening the workspace")
        st.page_link("views/settings.py", label="Open Settings to see what is configured", icon=":material/settings:")
        st.stop()
project_picker()  # the sidebar's project: every page works in it
with st.spinner("Working…"):  # shown once a run takes over half a second, gone when the page is drawn
    navigation.run()
