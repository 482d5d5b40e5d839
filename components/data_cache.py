"""Cached reads of dataset versions, keyed by the version's id (never by the frame)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components.state import workspace
from core import datasets

SAMPLE_ROWS = 20_000


@st.cache_data(max_entries=32, show_spinner=False)
def column(version_id: int, name: str) -> pd.Series:
    """One whole column (cheap: Parquet reads only that column)."""
    version = datasets.get_version_by_id(workspace(), version_id)
    return datasets.load_frame(workspace(), version, [name])[name]


@st.cache_data(max_entries=8, show_spinner="Reading a sample of the dataset…")
def sample(version_id: int, rows: int = SAMPLE_ROWS) -> pd.DataFrame:
    """A seeded random sample of at most ``rows`` rows, for quick checks and estimates."""
    version = datasets.get_version_by_id(workspace(), version_id)
    frame = datasets.load_frame(workspace(), version)
    return frame.sample(rows, random_state=0) if len(frame) > rows else frame
