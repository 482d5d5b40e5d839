"""Cached reads of dataset versions, keyed by the version (never by the frame).

The key is the version's id *and* its file's sha256: ids restart in every
metadata database, so the checksum keeps two workspaces served by one
process (tests, a settings change) from reading each other's entries.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components.state import workspace
from core.data import datasets


def column(version: datasets.VersionInfo, name: str) -> pd.Series:
    """One whole column (cheap: Parquet reads only that column)."""
    return _column(version.id, version.sha256, name)


def sample(version: datasets.VersionInfo, rows: int = datasets.QUICK_SAMPLE_ROWS) -> pd.DataFrame:
    """A seeded random sample of at most ``rows`` rows, for quick checks and estimates."""
    return _sample(version.id, version.sha256, rows)


@st.cache_data(max_entries=32, show_spinner=False)
def _column(version_id: int, sha256: str, name: str) -> pd.Series:
    version = datasets.get_version_by_id(workspace(), version_id)
    return datasets.load_frame(workspace(), version, [name])[name]


@st.cache_resource(max_entries=2, show_spinner="Reading the dataset…")
def frame(version_id: int, sha256: str) -> pd.DataFrame:
    """The whole version, shared read-only between reruns, pages and sessions: never modify it."""
    version = datasets.get_version_by_id(workspace(), version_id)
    return datasets.load_frame(workspace(), version)


@st.cache_data(max_entries=8, show_spinner="Reading a sample of the dataset…")
def _sample(version_id: int, sha256: str, rows: int) -> pd.DataFrame:
    return datasets.sample_rows(frame(version_id, sha256), rows)
