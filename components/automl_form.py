"""The Train page's "Let Atelier choose" mode: the ranking, a time budget, and the live leaderboard."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import streamlit as st

from components import data_cache
from components.guard import guard
from components.job_panel import job_panel, watch
from components.state import workspace
from core.data import datasets
from core.ml.automl import AutoMLConfig, recommend_for
from core.models.automl_runs import AUTOML_JOB, submit_automl
from core.platform.jobs import JobInfo
from core.platform.workspace import Workspace

MODES = ("Choose algorithms", "Let Atelier choose")


def auto_mode() -> bool:
    """The mode switch; ``True`` when Atelier chooses."""
    return st.radio("Mode", MODES, horizontal=True, key="train.mode") == MODES[1]


@st.cache_data(max_entries=16, show_spinner="Ranking the algorithms…")
def _ranking(version_id: int, sha256: str, target: str, features: tuple[str, ...], n_rows: int) -> tuple[
        list[dict], list[dict]]:
    version = datasets.get_version_by_id(workspace(), version_id)
    frame = data_cache.sample(version)
    ranked, excluded = recommend_for(frame, AutoMLConfig(target=target, budget=60, features=list(features),
                                                         roles=version.roles), n_rows,
                                     screen_key=data_cache.screen_key(version_id, sha256))
    return [r.to_dict() for r in ranked], excluded


def recommendations(version: datasets.VersionInfo, target: str | None, features: Sequence[str], kind: str) -> None:
    """The ranked algorithms for this data (the same table in both modes)."""
    if target is None or kind == "clustering" or not features:
        return
    with guard("Ranking the algorithms"):
        ranked, excluded = _ranking(version.id, version.sha256, target, tuple(features), version.n_rows)
        st.dataframe(pd.DataFrame([{"#": r["rank"], "algorithm": r["label"],
                                    "expected (share of best)": r["expected_score"],
                                    "est. seconds": r["seconds"], "memory MB": r["memory_mb"],
                                    "interpretability": r["interpretability"], "why": r["why"]} for r in ranked]),
                     hide_index=True, width="stretch")
        for item in excluded:
            st.caption(f"AutoML leaves out {item['feature']!r}: {item['reason']}")


def leaderboard(info: JobInfo) -> None:
    """The job's published leaderboard and the best score over time."""
    rows = info.result.get("leaderboard", [])
    if info.result.get("best"):
        best = info.result["best"]
        st.success(f"Best: {best['model']} ({best['algorithm']})")
    points = info.result.get("best_over_time", [])
    if points:
        st.line_chart(pd.DataFrame(points).set_index("seconds")["best"], height=160)
    if rows:
        st.dataframe(pd.DataFrame([{k: r.get(k) for k in ("trial", "algorithm", "status", "score", "seconds",
                                                          "origin", "error")} for r in rows]),
                     hide_index=True, width="stretch")


def automl_section(ws: Workspace, version: datasets.VersionInfo, target: str | None, features: Sequence[str],
                   kind: str) -> None:
    """Budget, the ranking, a start button, and the live run."""
    if target is None or kind == "clustering":
        st.info("AutoML needs a target: choose one above.")
        return
    recommendations(version, target, features, kind)
    budget = st.number_input("Time budget (seconds)", min_value=5, max_value=24 * 3600, value=60, step=10,
                             key="train.automl.budget")
    keep = st.checkbox("Keep features suspected of leakage", value=False, key="train.automl.keep")
    if st.button("Find the best model", type="primary", disabled=not features, key="train.automl.start"):
        config = AutoMLConfig(target=target, budget=float(budget), features=list(features), keep_suspects=keep)
        watch("train.automl", submit_automl(ws, version, config))
        st.rerun()
    job_panel(AUTOML_JOB, key="train.automl", extra=leaderboard,
              scope=lambda job: job.params.get("dataset_version_id") == version.id)
