"""The Data page's SQL, S3 and Kaggle forms: browse the source, preview, then hand the import to a job.

Everything is decided in core (:mod:`core.data.sources.sql`, :mod:`core.data.sources.s3`,
:mod:`core.data.remote`); these forms only collect input and render what comes back.  A password is
never typed here: the form takes the *name* of the environment variable or secret that holds it.
"""

from __future__ import annotations

import streamlit as st

from components.guard import guard
from components.job_panel import watch
from core.data.remote import submit_kaggle_import, submit_kaggle_imports, submit_s3_import, submit_sql_import
from core.data.sources import kaggle as kaggle_source
from core.data.sources import s3 as s3_source
from core.data.sources import sql
from core.platform.workspace import Workspace

JOB_KEY = "data.remote"


def _submitted(job_id: str) -> None:
    watch(JOB_KEY, job_id)
    st.rerun()


def sql_form(ws: Workspace, key: str = "data.sql") -> None:
    st.caption(sql.BOUNDARY_NOTE)
    url = st.text_input("Database URL (no password)", key=f"{key}.url",
                        placeholder="postgresql+psycopg://user@host:5432/db · mysql+pymysql://… · sqlite:///file.db")
    secret = st.text_input("Name of the secret holding the password (optional)", key=f"{key}.secret",
                           placeholder="e.g. SHOP_DB_PASSWORD: an environment variable or a secrets.toml key")
    if not url:
        return
    conn = sql.SqlConnection(url.strip(), secret.strip() or None)
    if st.button("Test connection and list tables", key=f"{key}.test"):
        with guard("Connecting to the database"):
            check = sql.check_connection(conn)
            tables = sql.list_tables(conn)
            st.session_state[f"{key}.tables"] = [
                {"table": t.qualified, "kind": t.kind, "rows": t.rows, "approximate": t.approximate} for t in tables]
            st.success(f"Connected: {check.dialect} {check.server_version} ({check.database or 'default database'}).")
    if tables := st.session_state.get(f"{key}.tables"):
        st.dataframe(tables, hide_index=True, width="stretch")
    mode = st.radio("Import", ["A table", "A SELECT query"], horizontal=True, key=f"{key}.mode")
    table = query = None
    if mode == "A table":
        names = [t["table"] for t in tables or []]
        table = (st.selectbox("Table", names, key=f"{key}.table") if names else
                 st.text_input("Table (schema.table works too)", key=f"{key}.table_name"))
    else:
        query = st.text_area("SELECT query", key=f"{key}.query", placeholder="SELECT * FROM orders WHERE …")
        if query and st.button("Preview the first rows", key=f"{key}.preview"):
            with guard("Previewing the query"):
                st.dataframe(sql.preview_query(conn, query, rows=20), hide_index=True, width="stretch")
    cap_col, timeout_col = st.columns(2)
    row_cap = cap_col.number_input("Row cap", min_value=1, value=1_000_000, step=100_000, key=f"{key}.cap")
    timeout = timeout_col.number_input("Statement timeout (s)", min_value=1, value=300, key=f"{key}.timeout")
    name = st.text_input("Dataset name", value=(table or "").rsplit(".", 1)[-1][:100], key=f"{key}.name")
    if st.button("Import", type="primary", key=f"{key}.import", disabled=not (table or query)):
        with guard("Starting the import"):
            _submitted(submit_sql_import(ws, conn.url, name, table=table or None, query=query or None,
                                         password_secret=conn.password_secret, row_cap=int(row_cap),
                                         statement_timeout_s=float(timeout)))


def s3_form(ws: Workspace, key: str = "data.s3") -> None:
    st.caption("Credentials come from the standard AWS variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY).")
    left, right = st.columns(2)
    endpoint = left.text_input("Endpoint URL (R2, MinIO; empty for AWS)", value=ws.settings.s3_endpoint_url or "",
                               key=f"{key}.endpoint")
    region = right.text_input("Region", value=ws.settings.s3_region or "", key=f"{key}.region")
    location = st.text_input("Bucket and prefix", key=f"{key}.location", placeholder="s3://bucket/folder/")
    if not location:
        return
    options = {"endpoint_url": endpoint.strip() or None, "region": region.strip() or None}
    if st.button("Browse", key=f"{key}.browse"):
        with guard("Listing the bucket"):
            bucket, prefix = s3_source.parse_s3_url(location)
            st.session_state[f"{key}.listing"] = [
                {"key": f"s3://{bucket}/{o.key}", "name": o.name, "size (MB)": round(o.size / 2**20, 3),
                 "modified": o.modified} for o in s3_source.list_objects(bucket, prefix, **options)]
    listing = st.session_state.get(f"{key}.listing") or []
    if listing:
        st.dataframe(listing, hide_index=True, width="stretch")
    choices = [row["key"] for row in listing]
    target = (st.selectbox("Object (or a prefix/ of Parquet parts) to import", choices, key=f"{key}.object")
              if choices else location.strip())
    name = st.text_input("Dataset name", value=target.rstrip("/").rsplit("/", 1)[-1].split(".")[0][:100],
                         key=f"{key}.name")
    if st.button("Import", type="primary", key=f"{key}.import"):
        with guard("Starting the import"):
            _submitted(submit_s3_import(ws, target, name, **options))


def kaggle_form(ws: Workspace, key: str = "data.kaggle") -> None:
    st.caption("Credentials: KAGGLE_API_TOKEN (or KAGGLE_USERNAME and KAGGLE_KEY), or a kaggle.json uploaded on the "
               "Settings page. Get a token at https://www.kaggle.com/settings.")
    handle = st.text_input("Dataset handle, competition or kaggle.com link", key=f"{key}.handle",
                           placeholder="owner/slug · owner/slug/versions/3 · competitions/titanic")
    if not handle:
        return
    if st.button("List files", key=f"{key}.list"):
        with guard("Listing the Kaggle files"):
            ref, version, files = kaggle_source.list_files(handle.strip(), home=ws.settings.home)
            st.session_state[f"{key}.listing"] = {
                "handle": handle.strip(), "version": version,
                "files": [{"file": f.name, "size": f.size_text, "bytes": f.size, "table": f.is_table} for f in files]}
    listing = st.session_state.get(f"{key}.listing")
    if not listing or listing["handle"] != handle.strip():
        return
    if listing["version"]:
        st.caption(f"Version {listing['version']}")
    st.dataframe(listing["files"], hide_index=True, width="stretch")
    tables = [f["file"] for f in listing["files"] if f["table"]]
    if not tables:
        st.warning("This handle has no CSV, Parquet, JSON or Excel file (nor a zip of one) to import.")
        return
    sizes = {f["file"]: f["size"] for f in listing["files"]}
    picked = st.multiselect("Files to import (each becomes a dataset of its own)", tables, default=tables[:1],
                            key=f"{key}.files", format_func=lambda n: f"{n} ({sizes[n]})")
    if not picked:
        st.info("Pick the file, or files, to import.")
        return
    if len(picked) == 1:
        file = picked[0]
        member = st.text_input("File inside the zip (optional)", key=f"{key}.member") if file.endswith(".zip") else ""
        name = st.text_input("Dataset name", value=_default_name(file), key=f"{key}.name")
        if st.button("Import", type="primary", key=f"{key}.import"):
            with guard("Starting the import"):
                _submitted(submit_kaggle_import(ws, handle.strip(), name, file=file, member=member.strip() or None))
        return
    names = [st.text_input(f"Dataset name for {file}", value=_default_name(file), key=f"{key}.name.{file}")
             for file in picked]
    if st.button(f"Import {len(picked)} files", type="primary", key=f"{key}.import"):
        with guard("Starting the imports"):
            job_ids = submit_kaggle_imports(ws, handle.strip(), picked, names)
            _submitted(job_ids[-1])  # the others show in the panel as running imports


def _default_name(file: str) -> str:
    return file.rsplit("/", 1)[-1].split(".")[0][:100]
