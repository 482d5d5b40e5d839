"""The upload form: stage the file, show what was detected, allow overrides,
preview the head, then hand the conversion to a background job."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from components.guard import guard
from components.job_panel import watch
from core.data.ingest import stage_upload, submit_import
from core.data.sources import files
from core.platform.workspace import Workspace

ENCODINGS = ["utf-8", "utf-8-sig", "cp1252", "latin-1"]
DELIMITERS = {",": "comma ,", ";": "semicolon ;", "\t": "tab", "|": "pipe |"}


def _staged(ws: Workspace, uploaded, key: str) -> Path:
    """Stage each uploaded file once per session (reruns reuse the copy)."""
    cache = st.session_state.setdefault(f"{key}.staged", {})
    if uploaded.file_id not in cache or not Path(cache[uploaded.file_id]).exists():
        cache[uploaded.file_id] = str(stage_upload(ws.settings, uploaded.name, uploaded))
    return Path(cache[uploaded.file_id])


def _options(detection: files.Detection, key: str) -> dict:
    """Detected settings, with the user's overrides."""
    options: dict = {}
    if detection.format == "excel":
        sheets = detection.sheets or []
        options["sheet"] = st.selectbox("Sheet", sheets, key=f"{key}.sheet")
    if detection.format in ("csv", "tsv"):
        with st.expander("Change what was detected"):
            enc_choices = list(dict.fromkeys([detection.encoding, *ENCODINGS]))
            options["encoding"] = st.selectbox("Encoding", enc_choices, key=f"{key}.encoding")
            delims = list(dict.fromkeys([detection.delimiter, *DELIMITERS]))
            options["delimiter"] = st.selectbox(
                "Delimiter", delims, format_func=lambda d: DELIMITERS.get(d, repr(d)), key=f"{key}.delimiter"
            )
    return options


def _preview(staged: Path, options: dict, key: str):
    """The head of the file; offers renamed columns when names are duplicate or empty."""
    try:
        return files.read_preview(staged, options, n=20)
    except files.ColumnNameError as exc:
        st.error(exc.message, icon=":material/error:")
        if not st.checkbox(f"Use these names instead: {', '.join(exc.suggested_names)}", key=f"{key}.rename"):
            return None
        options["rename_columns"] = True
        return files.read_preview(staged, options, n=20)


def upload_form(ws: Workspace, key: str) -> None:
    round_ = st.session_state.setdefault(f"{key}.round", 0)  # a new key empties the uploader after an import
    uploaded = st.file_uploader(
        "CSV, TSV, Excel, Parquet, JSON or JSON Lines", type=list(files.SUPPORTED_EXTENSIONS),
        key=f"{key}.file.{round_}",
    )
    if uploaded is None:
        return
    with guard("Reading the file"):
        staged = _staged(ws, uploaded, key)
        detection = files.sniff(staged)
        st.caption(f"Detected: {detection.describe()}")
        for note in detection.notes:
            st.warning(note)
        options = _options(detection, key)
        head = _preview(staged, options, key)
        if head is None:
            return
        st.dataframe(head, width="stretch", hide_index=True)
        st.caption(f"The first {len(head)} rows; the whole file is read when you import it.")
        name = st.text_input("Dataset name", value=Path(uploaded.name).stem[:100], key=f"{key}.name.{round_}")
        new_version = st.checkbox("If this name exists, add the file as a new version", key=f"{key}.new_version")
        if st.button("Import", type="primary", key=f"{key}.import"):
            job_id = submit_import(ws, staged, name, options=options, original_name=uploaded.name,
                                   new_version=new_version)
            watch("data.import", job_id)
            st.session_state[f"{key}.round"] = round_ + 1
            st.session_state.pop(f"{key}.staged", None)
            st.rerun()
