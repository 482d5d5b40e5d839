"""Settings: what this server uses, and whether each connection works."""

import streamlit as st

from components.guard import guard
from core.config import Settings
from core.workspace import Workspace

st.title("Settings")
st.caption("Set with ATELIER_* environment variables or .streamlit/secrets.toml; passwords are never shown.")

with guard("Reading the settings"):
    settings = Settings.load()
    shown = settings.describe()
    st.table({"setting": [f"ATELIER_{k.upper()}" for k in shown], "value": [v or "—" for v in shown.values()]})

    if st.button("Test connections", type="primary"):
        with st.spinner("Connecting…"):
            try:
                status = Workspace.open(settings, migrate=False).check()
            except Exception as exc:  # the database URL itself is unusable
                status = {"database": str(exc), "artifacts": "not tested"}
        for name, outcome in status.items():
            label = {"database": "Metadata database", "artifacts": "Artifact store"}[name]
            if outcome == "ok":
                st.success(f"{label}: connected.")
            else:
                st.error(f"{label}: {outcome}")
