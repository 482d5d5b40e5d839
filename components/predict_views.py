"""Sections of the Predict page: one-row form, batch scoring, drift, health and retraining.

Each section takes the workspace, the loaded model and a session-key prefix;
the work is done by ``core`` (predict, monitoring, drift, registry, jobs).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from components.dataset_picker import pick_version
from components.deployment_alerts import traffic_section
from components.guard import guard
from components.job_panel import job_panel, watch
from components.retrain_policy_form import retrain_policy_section
from core.data import datasets
from core.data.ingest import discard_staged, stage_upload
from core.data.sources.files import SUPPORTED_EXTENSIONS
from core.ml.catalogue import algorithm_label
from core.models import figures as mf
from core.models import registry
from core.models.training import TRAIN_JOB
from core.models.training_stats import FeatureSpec, feature_specs
from core.platform.display import format_number, metric_label
from core.platform.workspace import Workspace
from core.serve import api_keys, deployment, prediction_runs
from core.serve.batch import BATCH_JOB, run_of_job, submit_batch, validate_file
from core.serve.health import health_figure, health_table
from core.serve.loaded import LoadedModel
from core.serve.one_row import RowPrediction
from core.serve.outputs import output_bytes
from core.serve.retrain import comparison_base, plan_retraining, submit_retraining

CSV_MAX_ROWS = 500_000  # beyond this a CSV download is slow and huge: Parquet only
_EARLIEST, _LATEST = dt.date(1900, 1, 1), dt.date(2100, 12, 31)


def card_summary(model: LoadedModel) -> None:
    """One paragraph: what the model is, what it predicts, from what, and how well."""
    mv = model.version
    what = f"{mv.problem_type} of **{mv.target}**" if mv.target else mv.problem_type
    st.markdown(f"**{model.card.label or algorithm_label(mv.algorithm)}** · {what} · stage **{mv.stage}** · trained on "
                f"{mv.dataset_label or 'an unknown dataset'} ({len(model.features)} features) on "
                f"{mv.created_at:%Y-%m-%d %H:%M}")
    scores = [f"{metric_label(k)} {format_number(v)}" for k, v in mv.metrics.items()
              if isinstance(v, int | float) and not isinstance(v, bool)][:6]
    if scores:
        st.caption("Test metrics: " + ", ".join(scores))


# -- one row ------------------------------------------------------------------------------
def _range(spec: FeatureSpec) -> str:
    if spec.minimum is None:
        return "Training had no values here."
    fmt = (lambda v: f"{v:%Y-%m-%d}") if spec.widget == "date" else (lambda v: f"{v:,.6g}")
    return f"Training range: {fmt(spec.minimum)} to {fmt(spec.maximum)}; default: the median."


def _widget(spec: FeatureSpec, key: str) -> Any:
    if spec.widget == "number":
        if spec.integer:
            value = None if spec.default is None else int(spec.default)
            return st.number_input(spec.name, value=value, step=1, help=_range(spec), key=key)
        value = None if spec.default is None else float(spec.default)
        return st.number_input(spec.name, value=value, help=_range(spec), key=key, format="%.4g")
    if spec.widget == "select":
        options = list(spec.categories) or [None]
        index = options.index(spec.default) if spec.default in options else 0
        return st.selectbox(spec.name, options, index=index, key=key,
                            help=f"{len(options)} categories seen in training; default: the most frequent.")
    if spec.widget == "checkbox":
        return st.checkbox(spec.name, value=bool(spec.default) if spec.default is not None else False, key=key)
    if spec.widget == "date":
        default = None if spec.default is None else pd.Timestamp(spec.default).date()
        chosen = st.date_input(spec.name, value=default, min_value=_EARLIEST, max_value=_LATEST, key=key,
                               help=_range(spec))
        return None if chosen is None else chosen.isoformat()
    return st.text_input(spec.name, value=str(spec.default or ""), key=key,
                         help="Default: the most frequent text in training.")


def row_form(model: LoadedModel, *, key: str) -> None:
    """A form with one input per feature (training defaults); shows the prediction and its explanation."""
    from core.serve.one_row import predict_one

    mv = model.version
    specs = feature_specs(model.reference)
    types = model.card.feature_types
    drops_text = model.card.drops_text
    unused = [spec.name for spec in specs if drops_text and types.get(spec.name) == "text"]
    values: dict[str, Any] = dict.fromkeys(unused, "")  # the model drops them: nothing to ask
    with st.form(f"{key}.form.{mv.id}"):
        if unused:
            st.caption(f"Not asked: {', '.join(unused)} (free text, which this model does not use).")
        cols = st.columns(3)
        for i, spec in enumerate(s for s in specs if s.name not in unused):
            with cols[i % 3]:
                values[spec.name] = _widget(spec, f"{key}.{mv.id}.{spec.name}")
        submitted = st.form_submit_button("Predict", type="primary")
    if submitted:
        st.session_state.pop(f"{key}.result.{mv.id}", None)
        with guard("Predicting"):
            st.session_state[f"{key}.result.{mv.id}"] = predict_one(model, values)
    result: RowPrediction | None = st.session_state.get(f"{key}.result.{mv.id}")
    if result is not None:
        with guard("Showing the prediction"):
            row_result(model, result, key=f"{key}.{mv.id}")


def row_result(model: LoadedModel, result: RowPrediction, *, key: str) -> None:
    for issue in result.report.warnings:
        st.warning(issue.message)
    kind = model.kind
    left, right = st.columns([1, 2])
    if kind == "regression":
        left.metric("Prediction", format_number(result.prediction))
        interval = mf.residual_interval(model.card, float(result.prediction))
        if interval is None:
            left.caption("This model gives no prediction interval.")
        else:
            left.caption(f"This model gives no prediction interval of its own. 90% of its errors on the test rows "
                         f"put the true value between {format_number(interval[0])} and {format_number(interval[1])}.")
    else:
        left.metric("Cluster" if kind == "clustering" else "Prediction", str(result.prediction))
    if result.probabilities:
        right.plotly_chart(mf.probability_figure(result.probabilities, result.prediction), key=f"{key}.proba")
    if result.contributions is not None and len(result.contributions):
        explained = next((c for c in model.classes if c == result.explained_class), result.explained_class)
        st.plotly_chart(mf.waterfall_figure(result.contributions, result.base_value or 0.0,
                                            explained_class=explained), key=f"{key}.waterfall")
        st.caption("Bars are SHAP contributions in the model's raw output (log-odds for boosted trees and linear "
                   "classifiers, probability for forests, the target's unit for regression).")


# -- choosing rows: an upload or a dataset version ------------------------------------------
def _staged(ws: Workspace, uploaded, key: str) -> Path:
    """Stage an upload once; a new upload replaces the previous one of this key."""
    cache: dict = st.session_state.setdefault(f"{key}.staged", {})
    path = cache.get(uploaded.file_id)
    if path is None or not Path(path).exists():
        for old in cache.values():
            discard_staged(Path(old), ws.settings)
        cache.clear()
        cache[uploaded.file_id] = str(stage_upload(ws.settings, uploaded.name, uploaded))
    return Path(cache[uploaded.file_id])


def choose_rows(ws: Workspace, *, key: str) -> tuple[Path, str, bool] | None:
    """``(path, source name, is an upload)`` of the rows the user chose, or ``None``."""
    kind = st.radio("Rows", ["Upload a file", "A dataset version"], horizontal=True, key=f"{key}.source",
                    label_visibility="collapsed")
    if kind == "Upload a file":
        round_ = st.session_state.get(f"{key}.round", 0)
        uploaded = st.file_uploader("CSV, TSV, Excel, Parquet, JSON or JSON Lines", type=list(SUPPORTED_EXTENSIONS),
                                    key=f"{key}.file.{round_}")
        if uploaded is None:
            return None
        return _staged(ws, uploaded, key), uploaded.name, True
    version = pick_version(f"{key}.dataset")
    if version is None:
        return None
    return datasets.parquet_path(ws, version), version.label, False


# -- batch --------------------------------------------------------------------------------
def batch_view(ws: Workspace, model: LoadedModel, *, key: str) -> None:
    mv = model.version
    finished = job_panel(BATCH_JOB, key=key, scope=lambda job: job.params.get("model") == mv.label)
    if finished is not None and finished.status == "succeeded":
        with guard("Preparing the downloads"):
            downloads(ws, finished, key=key)
    chosen = None
    with guard("Reading the file"):
        chosen = choose_rows(ws, key=key)
    if chosen is None:
        return
    path, source, uploaded = chosen
    reports = st.session_state.setdefault(f"{key}.reports", {})
    report = None
    with guard("Checking the file against the model"):
        token = (mv.id, str(path))
        if token not in reports:
            reports[token] = validate_file(model, path)
        report = reports[token]
    if report is None:
        return
    st.caption(f"{report.n_rows:,} rows: {len(report.errors)} error(s), {len(report.warnings)} warning(s).")
    if report.issues:
        st.dataframe(report.to_frame(), hide_index=True, width="stretch",
                     column_config={"message": st.column_config.TextColumn(width="large")})
    if not report.ok:
        st.error("The file cannot be scored until the errors above are fixed.")
        return
    if not report.issues:
        st.success("Every column matches what the model was trained on.")
    contributions = st.checkbox("Add each row's top-3 feature contributions (slower)", key=f"{key}.contributions",
                                disabled=model.kind == "clustering")
    with_inputs = st.checkbox("Include the input columns in the output", key=f"{key}.with_inputs",
                              help="Without it, the output holds the rows' id columns (the training dataset's "
                              "id role) and the predictions.")
    if st.button(f"Score {report.n_rows:,} rows", type="primary", key=f"{key}.start"):
        with guard("Starting the batch"):
            job_id = submit_batch(ws, mv, path, contributions=contributions, keep_columns=with_inputs,
                                  source=source, discard=uploaded)
            watch(key, job_id)
            if uploaded:  # the job removes the staged copy: empty the uploader
                st.session_state[f"{key}.round"] = st.session_state.get(f"{key}.round", 0) + 1
                st.session_state.pop(f"{key}.staged", None)
            reports.clear()
            st.rerun()


def downloads(ws: Workspace, job, *, key: str) -> None:
    run = run_of_job(ws, job)
    if run is None:
        st.info("The output of this run is no longer stored.")
        return
    stem = Path(run.source).stem or "predictions"
    left, right, _ = st.columns([2, 2, 3])  # wide enough for "Download Parquet" at 1280 px
    left.download_button("Download Parquet", lambda: output_bytes(ws, run, "parquet"), key=f"{key}.parquet",
                         file_name=f"{stem}-predictions.parquet", mime="application/octet-stream",
                         on_click="ignore", icon=":material/download:")
    if run.n_rows <= CSV_MAX_ROWS:
        right.download_button("Download CSV", lambda: output_bytes(ws, run, "csv"), key=f"{key}.csv",
                              file_name=f"{stem}-predictions.csv", mime="text/csv", on_click="ignore",
                              icon=":material/download:")
    else:
        right.caption(f"{run.n_rows:,} rows: download Parquet (a CSV this large is slow to make and to open).")


# -- drift, health, retrain -------------------------------------------------------------
def drift_view(ws: Workspace, model: LoadedModel, *, key: str) -> None:
    from core.data.sources.input_chunks import read_rows
    from core.serve.drift import detect_drift, distribution_figure

    chosen = None
    with guard("Reading the file"):
        chosen = choose_rows(ws, key=key)
    if chosen is None:
        return
    path, source, _ = chosen
    if st.button("Check drift", type="primary", key=f"{key}.run"):
        st.session_state.pop(f"{key}.result", None)
        with guard("Measuring drift"):
            frame = read_rows(path)
            report = detect_drift(model.reference, frame)
            figures = [distribution_figure(model.reference, frame, f) for f in report.worst(3)]
            st.session_state[f"{key}.result"] = (model.version.id, source, report, figures)
    result = st.session_state.get(f"{key}.result")
    if result is None or result[0] != model.version.id:
        return
    _, source, report, figures = result
    left, right = st.columns(2)
    left.metric("Verdict", report.verdict.split(":")[0], help=report.verdict)
    right.metric("Drifted features", f"{report.share_drifted:.0%}", help=f"{report.verdict}, in {report.n_rows:,} "
                 f"rows of {source}")
    table = report.to_frame()[["feature", "logical_type", "test", "statistic", "p_value", "psi", "drifted"]]
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        c: st.column_config.NumberColumn(format="%.4g") for c in ("statistic", "p_value", "psi")})
    for i, figure in enumerate(figures):
        st.plotly_chart(figure, key=f"{key}.figure.{i}")


def health_view(ws: Workspace, model: LoadedModel, *, key: str) -> None:
    runs = prediction_runs.list_runs(ws, model.version.name, limit=500)
    if not runs:
        st.info("This model has not scored a file yet: batch predictions appear here.")
        return
    table = health_table(runs)
    empty = [c for c in ("class mix", "mean prediction") if not table[c].map(lambda v: v != "" and pd.notna(v)).any()]
    st.dataframe(table.drop(columns=["id", *empty]), hide_index=True, width="stretch", column_config={
        "when": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        "drift share": st.column_config.NumberColumn(format="percent"),
    })
    st.plotly_chart(health_figure(runs), key=f"{key}.figure")


def retrain_view(ws: Workspace, model: LoadedModel, *, key: str) -> None:
    """Train the same configuration on a newer dataset version, then compare with production and promote."""
    from components.model_views import compare_view

    mv = model.version
    finished = job_panel(TRAIN_JOB, key=key, scope=lambda job: job.params.get("model_name") == mv.name)
    if finished is not None and finished.status == "succeeded":
        refs = [r["model"] for r in finished.result.get("results", []) if r.get("model")]
        if refs:
            new = registry.get_version(ws, refs[0])
            base = comparison_base(ws, new, mv)
            st.markdown(f"**{new.label}** (new) next to **{base.label}** ({base.stage})")
            compare_view(base, new, key=f"{key}.compare")
            if new.stage != "production" and st.button(f"Promote {new.label} to production", type="primary",
                                                       key=f"{key}.promote"):
                with guard("Promoting"):
                    registry.promote(ws, new.name, new.version, note="retrained on newer data")
                    st.session_state[f"{key}.flash"] = f"Promoted {new.label} to production."
                    st.rerun()
    if flash := st.session_state.pop(f"{key}.flash", None):
        st.success(flash)
    plan = plan_retraining(ws, mv)
    if plan.blocked:
        more = " Add one on the Data page (upload with 'add the file as a new version'), then retrain here."
        st.info(plan.blocked + (more if plan.dataset and plan.config else ""))
        return
    chosen = st.selectbox("Newer dataset version", plan.newer, key=f"{key}.version.{mv.id}",
                          format_func=lambda v: f"{v.label} · {v.n_rows:,} rows · {v.note or 'no note'}"[:90])
    if st.button(f"Retrain {plan.algorithm} on {chosen.label}", type="primary", key=f"{key}.start"):
        with guard("Starting the training"):
            job_id = submit_retraining(ws, plan, chosen)
            watch(key, job_id)
            st.rerun()


def deployment_view(ws: Workspace, model: LoadedModel, *, key: str) -> None:
    """How to serve the model over HTTP: the command, the URL, ready examples, and the API keys."""
    mv = model.version
    schema = deployment.model_schema(mv)
    keys = api_keys.list_keys(ws)
    with_key = bool(api_keys.list_keys(ws, include_revoked=True)) or ws.settings.serve_require_key
    if mv.stage == "production":
        url = deployment.predict_url(mv.name)
        st.caption(f"{mv.label} is in production: the API serves it at the model's URL, and switches on its own "
                   "when another version is promoted or rolled back.")
    else:
        url = deployment.predict_url(mv.name).removesuffix("/predict") + f"/versions/{mv.version}/predict"
        st.caption(f"{mv.label} is not in production: its own URL below serves it; the model's URL "
                   f"(…/v1/models/{mv.name}/predict) serves the production version, once there is one.")
    st.markdown("**Start the server** (no Streamlit needed; the interactive API docs are at /docs):")
    st.code(deployment.serve_command(), language="bash")
    st.markdown(f"**URL:** `{url}`")
    curl_tab, python_tab = st.tabs(["curl", "Python"])
    curl_tab.code(deployment.curl_example(schema, url, with_key=with_key), language="bash")
    python_tab.code(deployment.python_example(schema, url, with_key=with_key), language="python")
    retrain_policy_section(ws, mv, key=key)
    traffic_section(ws, mv)
    st.markdown("**API keys**: " + ("every request needs one." if with_key else
                                    "none yet, so the API answers anyone who can reach it. Create one to "
                                    "require keys."))
    if keys:
        st.dataframe(pd.DataFrame([{"name": k.name, "starts with": k.prefix + "…",
                                    "created": f"{k.created_at:%Y-%m-%d %H:%M}"} for k in keys]),
                     hide_index=True, width="stretch")
    with st.form(f"{key}.create", clear_on_submit=True, border=False):
        name = st.text_input("New key's name", placeholder="e.g. the program that will use it", key=f"{key}.name")
        if st.form_submit_button("Create API key"):
            with guard("Creating the API key"):
                created = api_keys.create_key(ws, name)
                st.success(f"Key {created.info.name!r} created. Copy it now: it is shown only this once.")
                st.code(created.key, language=None)
    if keys:
        chosen = st.selectbox("Key to revoke", [k.name for k in keys], key=f"{key}.revoke_name")
        if st.button("Revoke", key=f"{key}.revoke"):
            with guard("Revoking the API key"):
                api_keys.revoke_key(ws, chosen)
                st.rerun()
