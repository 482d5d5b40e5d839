"""The Deployment tab's traffic section: the model's A/B or shadow route and its recent alerts."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.models.registry import ModelVersionInfo
from core.platform.workspace import Workspace
from core.serve import alerts, routing

ALERTS_SHOWN = 20


def traffic_section(ws: Workspace, mv: ModelVersionInfo) -> None:
    """The route (``python -m core models route``) and the alerts of the served model, newest first."""
    route = routing.get_route(ws, mv.name)
    st.markdown(f"**Traffic:** {route.describe()}. Change it with "
                f"`python -m core models route {mv.name} --challenger V --share 0.1`, `--shadow V` or `--clear`.")
    events = alerts.list_events(ws, mv.name, limit=ALERTS_SHOWN)
    if not events:
        st.caption("No alerts: no monitoring window of the API crossed the drift or error-rate threshold "
                   f"(drift share {ws.settings.alert_drift_share:.0%}, error rate {ws.settings.alert_error_rate:.0%}).")
        return
    st.markdown(f"**Alerts** ({len(events)} most recent):")
    st.dataframe(pd.DataFrame([{
        "when": e.created_at, "version": e.version, "kind": e.kind.replace("_", " "), "message": e.message,
        "webhook": e.webhook_status or "",
    } for e in events]), hide_index=True, width="stretch",
        column_config={"when": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")})
