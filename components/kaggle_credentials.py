"""Settings: which Kaggle credentials are in use (where from, never the key), a kaggle.json uploader
that keeps the file as the workspace's secret (``<home>/secrets/kaggle.json``, mode 0600), never in
metadata, and a button that removes the stored file again."""

from __future__ import annotations

import streamlit as st

from components.guard import guard
from core.data.sources.kaggle_refs import (
    TOKEN_HELP,
    find_credentials,
    kaggle_json_path,
    remove_kaggle_json,
    store_kaggle_json,
)
from core.platform.config import Settings


def kaggle_credentials(settings: Settings, key: str = "settings.kaggle") -> None:
    st.subheader("Kaggle")
    with guard("Looking for Kaggle credentials"):
        found = find_credentials(settings.home)
        if found:
            st.caption(f"Kaggle imports sign in with the credentials from {found.source}.")
        else:
            st.caption("No Kaggle credentials yet. " + TOKEN_HELP)
    upload = st.file_uploader("Upload kaggle.json", type=["json"], key=f"{key}.upload")
    if upload is not None and st.button("Store kaggle.json", key=f"{key}.store"):
        with guard("Storing kaggle.json"):
            store_kaggle_json(settings.home, upload.getvalue())
            st.success("Stored kaggle.json with the workspace's secrets; Kaggle imports use it when no "
                       "KAGGLE_* variable is set.")
    if kaggle_json_path(settings.home).is_file() and st.button("Remove the stored kaggle.json", key=f"{key}.remove"):
        with guard("Removing kaggle.json"):
            remove_kaggle_json(settings.home)
            left = find_credentials(settings.home)
            st.success("Removed the stored kaggle.json."
                       + (f" Kaggle imports now use the credentials from {left.source}." if left else ""))
