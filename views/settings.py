"""Settings: what this server uses, and whether each connection works."""

import streamlit as st

from components.guard import guard
from components.kaggle_credentials import kaggle_credentials
from components.project_settings import project_settings
from components.sign_in import auth_secrets, stop_unless_signed_in
from core.platform import sign_in
from core.platform.compute import cluster_summary
from core.platform.config import Settings
from core.platform.errors import AtelierError
from core.platform.jobs import worker
from core.platform.workspace import Workspace

stop_unless_signed_in()  # with sign-in configured, settings are for signed-in members only
st.title("Settings")
st.caption("Set with ATELIER_* environment variables or .streamlit/secrets.toml; passwords are never shown.")

with guard("Reading the settings"):
    settings = Settings.load()
    shown = settings.describe()
    st.table({"setting": [f"ATELIER_{k.upper()}" for k in shown], "value": [v or "—" for v in shown.values()]})
    st.markdown(f"**Sign-in:** {sign_in.describe(settings, auth_secrets())}")
    if settings.dask_scheduler:
        st.caption(f"Background jobs run on the Dask cluster at {settings.dask_scheduler}.")
        try:
            st.markdown(cluster_summary(settings).describe())  # workers, threads, memory, dashboard link
        except AtelierError as exc:
            st.error(f"{exc} {exc.hint or ''}".strip())
    elif worker.pid():
        st.caption(f"Background jobs are forked by this server's warm worker (process {worker.pid()}); "
                   f"its log: {settings.home / 'logs' / 'worker.log'}.")
    else:
        st.caption("Background jobs start as local processes (the warm worker is starting or not running).")

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

    kaggle_credentials(settings)

project_settings()  # the project worked in: statistics, members, audit trail
