"""Data: bring tables in (samples, files), then browse, version and manage them."""

from __future__ import annotations

import streamlit as st

from components import combine, data_cache, data_views, dataset_picker, remote_sources, upload
from components.guard import guard
from components.job_panel import job_panel
from components.state import workspace
from core.data import datasets
from core.data.ingest import IMPORT_JOB, existing_sample, import_sample
from core.data.remote import REMOTE_IMPORT_JOB
from core.data.sources import samples

st.title("Data")
ws = workspace()

VIEWS = ("Add data", "Datasets")
if pending := st.session_state.pop("data.goto", None):  # set by an action on the last run
    st.session_state["data.view"] = pending
elif "data.view" not in st.session_state:
    st.session_state["data.view"] = "Datasets" if datasets.list_datasets(ws) else "Add data"
view = st.segmented_control("View", VIEWS, key="data.view", label_visibility="collapsed") or "Datasets"


def show_dataset(version, message: str) -> None:
    """After an action: remember the version and open it in the Datasets view."""
    dataset_picker.remember(version)
    st.session_state["data.flash"] = message
    st.session_state["data.goto"] = "Datasets"
    st.rerun()


def not_yet_opened(job) -> bool:
    """An import's panel gives way, once it succeeded, to the dataset it made (opened below, with a message)."""
    return job.status != "succeeded" or st.session_state.get("data.opened") != job.id


for kind, panel_key in ((IMPORT_JOB, "data.import"), (REMOTE_IMPORT_JOB, remote_sources.JOB_KEY)):
    finished = job_panel(kind, key=panel_key, scope=not_yet_opened)
    if finished and finished.status == "succeeded" and st.session_state.get("data.opened") != finished.id:
        st.session_state["data.opened"] = finished.id
        with guard("Opening the imported dataset"):
            show_dataset(datasets.get_version_by_id(ws, finished.result["version_id"]),
                         f"Imported {finished.title.removeprefix('Import ')} as {finished.result['label']}.")

if view == "Add data":
    sample_tab, upload_tab, sql_tab, s3_tab, kaggle_tab = st.tabs(["Samples", "Upload a file", "SQL", "S3", "Kaggle"])
    with sample_tab:
        st.caption("Real, well-known tables bundled with Atelier: no network needed.")
        for info in samples.list_samples():
            text, button = st.columns([5, 1], vertical_alignment="center")
            text.markdown(f"**{info.title}** · {info.task} · {info.rows:,} rows × {info.columns} columns  \n"
                          f"{info.description}")
            if button.button("Load", key=f"data.sample.{info.key}", width="stretch"):
                with guard(f"Loading the {info.title} sample"):
                    if same := existing_sample(ws, info.key):  # loaded before, unchanged: open it, no copy
                        show_dataset(same, f"The {info.title} sample is already loaded as {same.label}; "
                                           "opened it.")
                    version = import_sample(ws, info.key)
                    show_dataset(version, f"Loaded the {info.title} sample as {version.label}.")
    with upload_tab:
        upload.upload_form(ws, key="data.upload")
    with sql_tab:
        remote_sources.sql_form(ws)
    with s3_tab:
        remote_sources.s3_form(ws)
    with kaggle_tab:
        remote_sources.kaggle_form(ws)

else:
    flash_box = st.container()  # always drawn, so the tabs below keep their place (and their open tab) once it empties
    if flash := st.session_state.pop("data.flash", None):
        flash_box.success(flash)
    search = st.text_input("Search datasets", key="data.search", placeholder="name contains…")
    with guard("Listing datasets"):
        rows = datasets.list_datasets(ws, search)
        if rows:
            st.dataframe(
                [{"name": r.name, "rows": r.n_rows, "columns": r.n_columns, "latest version": r.latest_version,
                  "versions": r.versions, "created": r.created_at.strftime("%Y-%m-%d %H:%M")} for r in rows],
                hide_index=True, width="stretch",
            )
        elif search:
            st.info(f"No dataset name contains {search!r}.")
    version = dataset_picker.pick_version("data.browse")
    if version is not None:
        st.subheader(version.label)
        st.caption(f"{version.note} · created {version.created_at:%Y-%m-%d %H:%M} · "
                   f"source: {version.provenance.get('source', '?')}")
        preview_tab, schema_tab, quality_tab, manage_tab, combine_tab = st.tabs(
            ["Preview", "Schema & roles", "Quality", "Manage", "Combine"])
        with preview_tab, guard("Reading the preview"):
            st.caption("The first 100 rows; the whole table stays on the server.")
            st.dataframe(data_cache.preview(version, 100), width="stretch")
        with schema_tab, guard("Saving the roles"):
            roles = data_views.roles_editor(version, key=f"data.roles.{version.id}")
            if st.button("Save roles as a new version", key="data.save_roles", disabled=roles == version.roles):
                new = datasets.set_roles(ws, version, roles)
                dataset_picker.remember(new)
                st.session_state["data.flash"] = f"Saved {new.label} with the new roles."
                st.rerun()
        with quality_tab:
            data_views.quality_view(version, ws)
        with manage_tab:
            data_views.manage_actions(ws, version)
        with combine_tab:
            combine.combine_panel(ws, version)
