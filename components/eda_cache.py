"""Cached EDA computations for the EDA page, keyed by (version id, data sha256, parameters), never by a frame.

The sha256 of the version's Parquet file goes into every key next to the id: a version is
immutable, so the pair names exactly one table, even when a database hands out an id again after
a delete, or when tests in one process open several workspaces.  Switching views or widgets
reruns the page, and every result here comes back from the cache instead of being recomputed.

The frame itself is ``data_cache.frame``, a shared resource (no copy per read), so nothing on the
page may modify it; every ``core.eda`` function only reads its input.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from components.data_cache import frame
from core import eda
from core.data.target import detect_problem


@st.cache_data(max_entries=16, show_spinner="Summarising the columns…")
def overview(version_id: int, sha256: str) -> eda.Overview:
    from components.state import workspace
    from core.data import datasets
    from core.eda.overview_parts import uses_merged_overview, version_overview
    from core.platform.compute import executor_for

    ws = workspace()
    version = datasets.get_version_by_id(ws, version_id)
    executor = executor_for(ws.settings)
    if uses_merged_overview(version, executor):  # stored in parts, or big with a cluster: merged by part
        return version_overview(ws, version, executor=executor)
    return eda.describe_dataset(frame(version_id, sha256))


@st.cache_data(max_entries=64, show_spinner="Drawing the distribution…")
def distribution(version_id: int, sha256: str, column: str, log_scale: bool) -> eda.Chart:
    return eda.distribution_figure(frame(version_id, sha256), column, log_scale=log_scale)


@st.cache_data(max_entries=16, show_spinner="Computing correlations…")
def correlations(version_id: int, sha256: str, method: str) -> tuple[eda.Correlations, eda.Chart]:
    result = eda.compute_correlations(frame(version_id, sha256), method)
    return result, eda.correlation_figure(result)


@st.cache_data(max_entries=16, show_spinner="Counting missing values…")
def missing(version_id: int, sha256: str) -> tuple[eda.MissingValues, eda.Chart]:
    df = frame(version_id, sha256)
    return eda.summarize_missing(df), eda.missingness_figure(df)


@st.cache_data(max_entries=16, show_spinner="Looking for outliers…")
def outliers(version_id: int, sha256: str) -> eda.OutlierSummary:
    return eda.detect_outliers(frame(version_id, sha256))


@st.cache_data(max_entries=16, show_spinner="Finding the outlier rows…")
def outlier_rows(version_id: int, sha256: str, method: str) -> eda.OutlierRows:
    return eda.outlier_rows(frame(version_id, sha256), method)


@st.cache_data(max_entries=32, show_spinner=False)
def problem_kind(version_id: int, sha256: str, target: str) -> tuple[str, str]:
    """('classification' or 'regression', the reason in words) as detected from the target's values."""
    detected = detect_problem(frame(version_id, sha256)[target])
    return detected.kind.task, detected.reason


@st.cache_data(max_entries=16, show_spinner="Ranking the features against the target…")
def target_analysis(version_id: int, sha256: str, target: str, kind: str) -> eda.TargetAnalysis:
    return eda.analyze_target(frame(version_id, sha256), target, kind)


@st.cache_data(max_entries=64, show_spinner="Drawing the feature against the target…")
def target_chart(version_id: int, sha256: str, feature: str, target: str, kind: str) -> eda.Chart:
    return eda.target_figure(frame(version_id, sha256), feature, target, kind)


@st.cache_data(max_entries=32, show_spinner="Drawing the scatter plot…")
def scatter(version_id: int, sha256: str, x: str, y: str, color: Any, size: Any) -> eda.Chart:
    return eda.scatter_figure(frame(version_id, sha256), x, y, color=color, size=size)
