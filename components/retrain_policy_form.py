"""The Deployment tab's retraining policy: when the served model retrains itself, set in a small form."""

from __future__ import annotations

import streamlit as st

from components.guard import guard
from core.models.registry import ModelVersionInfo
from core.platform.workspace import Workspace
from core.serve import retrain_policy


def retrain_policy_section(ws: Workspace, mv: ModelVersionInfo, *, key: str) -> None:
    """The policy in a sentence and a form to change or remove it (``python -m core models policy`` does
    the same); the decisions it takes are listed with the alerts."""
    policy = retrain_policy.get_policy(ws, mv.name)
    st.markdown(f"**Retraining policy:** {policy.describe() if policy else 'none'}.")
    with st.form(f"{key}.policy", border=False):
        left, mid, right = st.columns(3)
        windows = left.number_input("Drifted windows in a row (0: off)", 0, retrain_policy.MAX_WINDOWS,
                                    value=(policy.drift_windows or 0) if policy else 3, key=f"{key}.windows")
        hours = mid.number_input("Every N hours (0: off)", 0.0, float(retrain_policy.MAX_HOURS),
                                 value=float(policy.every_hours or 0) if policy else 0.0, key=f"{key}.hours")
        gain = right.number_input("Promote when better by at least", 0.0, 0.99, step=0.001, format="%.3f",
                                  value=policy.min_gain if policy else 0.005, key=f"{key}.gain")
        new_data = st.checkbox("Retrain when a newer version of the dataset appears",
                               value=policy.on_new_data if policy else True, key=f"{key}.new_data")
        save, clear = st.columns(2)
        saved = save.form_submit_button("Save policy")
        cleared = clear.form_submit_button("Remove policy", disabled=policy is None)
    if saved:
        with guard("Saving the retraining policy"):
            retrain_policy.set_policy(ws, mv.name, drift_windows=int(windows) or None, on_new_data=new_data,
                                      every_hours=float(hours) or None, min_gain=float(gain))
            st.rerun()
    if cleared:
        with guard("Removing the retraining policy"):
            retrain_policy.clear_policy(ws, mv.name)
            st.rerun()
    st.caption("The API checks the policy after each monitoring window; `python -m core retrain check` checks "
               "now (for cron). Each decision (promoted, kept, skipped) is in the audit trail and below.")
