"""Choose a dataset and one of its versions; remembers the last one used."""

from __future__ import annotations

import streamlit as st

from components.state import workspace
from core.data import datasets
from core.data.datasets import VersionInfo

CURRENT = "dataset.current"  # (name, version) last used on any page
OPENED = "dataset.opened_rev"  # bumped by remember(): every picker moves to CURRENT on its next render


def remember(version: VersionInfo) -> None:
    """Open ``version`` everywhere: after a save, every picker (this page's too) selects the version just made."""
    st.session_state[CURRENT] = (version.name, version.version)
    st.session_state[OPENED] = st.session_state.get(OPENED, 0) + 1


def pick_version(key: str, *, container=None) -> VersionInfo | None:
    """Dataset and version selects; ``None`` (with a pointer to Data) when there are none."""
    box = container or st
    ws = workspace()
    summaries = datasets.list_datasets(ws)
    if not summaries:
        box.info("There are no datasets yet. Load a sample or upload a file on the Data page.")
        box.page_link("views/data.py", label="Go to Data", icon=":material/table:")
        return None
    names = [s.name for s in summaries]
    last_name, last_version = st.session_state.get(CURRENT, (names[0], None))
    opened = st.session_state.get(OPENED, 0)
    follow = st.session_state.get(f"{key}.opened_rev") != opened  # a save since this picker last drew
    st.session_state[f"{key}.opened_rev"] = opened
    if follow and last_name in names:
        st.session_state[f"{key}.dataset"] = last_name
    left, right = box.columns([2, 3])  # one row: the page's own content starts higher at 1280×720
    name = left.selectbox(
        "Dataset", names, index=names.index(last_name) if last_name in names else 0, key=f"{key}.dataset"
    )
    versions = datasets.list_versions(ws, name)[::-1]
    labels = [f"v{v.version} · {v.n_rows:,} rows · {v.note or 'no note'}"[:90] for v in versions]
    numbers = [v.version for v in versions]
    default = numbers.index(last_version) if name == last_name and last_version in numbers else 0
    if follow and name == last_name and last_version in numbers:
        st.session_state[f"{key}.version.{name}"] = default
    chosen = right.selectbox("Version", range(len(versions)), index=default, format_func=labels.__getitem__,
                           key=f"{key}.version.{name}")
    version = versions[chosen]
    st.session_state[CURRENT] = (version.name, version.version)  # what the user picked: not a new opening
    return version
