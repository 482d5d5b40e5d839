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
from core.data.target import ProblemDetection, detect_problem
from core.ml import problem


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


def default_features(version: datasets.VersionInfo, target: str | None) -> list[str]:
    """The Train page's pre-selected features on the version's sample (once per version and target)."""
    return list(_default_features(version.id, version.sha256, target))


def feature_warnings(version: datasets.VersionInfo, target: str | None, features: tuple[str, ...]) -> list[str]:
    """The Train page's warnings on the version's sample: the leakage screen fits a small model per
    feature, seconds on a big table, so a rerun (any widget change) reads them from here instead."""
    return list(_feature_warnings(version.id, version.sha256, target, tuple(features)))


@st.cache_data(max_entries=32, show_spinner=False)
def _default_features(version_id: int, sha256: str, target: str | None) -> tuple[str, ...]:
    version = datasets.get_version_by_id(workspace(), version_id)
    sample = _sample(version_id, sha256, datasets.QUICK_SAMPLE_ROWS)
    return tuple(problem.select_features(sample, target, None, version.roles, drop_text=True))


def screen_key(version_id: int, sha256: str, rows: int = datasets.QUICK_SAMPLE_ROWS) -> tuple:
    """What names a version's sample for core's leakage-screen memo: the warnings here and the
    algorithm ranking pass the same key, so a feature change screens no column again."""
    return ("version sample", version_id, sha256, rows)


@st.cache_data(max_entries=64, show_spinner="Screening the features…")
def _feature_warnings(version_id: int, sha256: str, target: str | None, features: tuple[str, ...]) -> tuple[str, ...]:
    sample = _sample(version_id, sha256, datasets.QUICK_SAMPLE_ROWS)
    return tuple(problem.feature_warnings(sample, target, list(features), screen_key=screen_key(version_id, sha256)))


def detected_problem(version: datasets.VersionInfo, target: str | None) -> ProblemDetection:
    """:func:`core.data.target.detect_problem` of the whole target column, once per version and target."""
    return _detected_problem(version.id, version.sha256, target)


@st.cache_data(max_entries=32, show_spinner=False)
def _detected_problem(version_id: int, sha256: str, target: str | None) -> ProblemDetection:
    return detect_problem(None if target is None else _column(version_id, sha256, target))


def preview(version: datasets.VersionInfo, rows: int = 100) -> pd.DataFrame:
    """:func:`core.data.datasets.preview` of the version, read once (a version never changes)."""
    return _preview(version.id, version.sha256, rows)


@st.cache_data(max_entries=16, show_spinner=False)
def _preview(version_id: int, sha256: str, rows: int) -> pd.DataFrame:
    return datasets.preview(workspace(), datasets.get_version_by_id(workspace(), version_id), rows)
