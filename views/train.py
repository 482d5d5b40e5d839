"""Train: choose target, features, split, preprocessing and algorithms; train them as one job."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from components import automl_form, data_cache, estimates, train_form
from components.dataset_picker import pick_version
from components.guard import guard
from components.job_panel import job_panel, watch
from components.state import workspace
from core.ml import config as ml_config
from core.ml import train_dask
from core.models import registry
from core.models.training import TRAIN_JOB, submit_training
from core.platform.display import format_number, metric_label
from core.platform.jobs import JobInfo

st.title("Train")
ws = workspace()


def results_table(info: JobInfo) -> None:
    rows = info.result.get("results", [])
    estimated = info.params.get("estimates") or {}  # kept with the job: still there after a reload
    if rows:
        # The time columns first, metrics in words and by magnitude after: at 1280 px nothing key is cut off.
        st.dataframe(pd.DataFrame([
            {"algorithm": r["label"], "status": r["status"], "model": r["model"] or "—",
             "took s": _seconds(r.get("total_seconds") or r.get("train_seconds")),
             **({"estimated s": _seconds((estimated.get(r["algorithm"]) or {}).get("seconds"))} if estimated else {}),
             **{metric_label(k): format_number(v) for k, v in r["metrics"].items() if isinstance(v, int | float)},
             "error": r["error"] or ""}
            for r in rows
        ]), hide_index=True, width="stretch")


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


with st.container(border=True):
    version = pick_version("train")
if version is None:
    st.stop()

with guard("Reading the dataset"):
    columns = version.columns
    target_column, kind_column = st.columns(2)
    target = target_column.selectbox(
        "Target", [None, *columns], index=columns.index(version.target) + 1 if version.target else 0,
        format_func=lambda c: "— none: clustering —" if c is None else c, key=f"train.target.{version.id}",
    )
    detected = data_cache.detected_problem(version, target)
    kinds = list(ml_config.PROBLEM_KINDS)
    kind = kind_column.selectbox("Problem type", kinds, index=kinds.index(detected.kind), key=f"train.kind.{target}",
                        help="Detected from the target; change it if the guess is wrong.")
    st.caption(f"Detected: **{detected.kind}**, from {detected.evidence}")
    sample = data_cache.sample(version)
    candidates = [c for c in columns if c != target]
    default = data_cache.default_features(version, target)  # cached per version and target, like the warnings
    features = st.multiselect("Features", candidates, default=default, key=f"train.features.{version.id}.{target}")
    for warning in data_cache.feature_warnings(version, target, tuple(features)) if features else []:
        st.warning(warning, icon=":material/warning:")
    if automl_form.auto_mode():
        automl_form.automl_section(ws, version, target, features, kind)
        st.stop()  # the manual settings below do not apply

    st.subheader("Split and validation")
    split = train_form.split_settings(version, kind)
    preprocessing = train_form.preprocessing_settings()
    st.subheader("Algorithms")
    automl_form.recommendations(version, target, features, kind)
    algorithms = train_form.algorithm_choice(kind)
    tuning = train_form.tuning_settings()
    distributed = None  # not offered: trains in this process (core decides, as for the CLI)
    if train_dask.offers_cluster(ws.settings, version):
        distributed = st.toggle("Train on the cluster", value=True, key=f"train.cluster.{version.id}",
                                help="Runs on the Dask cluster set by ATELIER_DASK_SCHEDULER, reading the "
                                     "dataset by partition; off: in one process, which must hold it whole.")
        if distributed and algorithms:
            st.caption(train_dask.cluster_notice(algorithms, version.n_rows))

    # Estimated in the background, stage by stage: the Train button never waits for them; the table fills in.
    run = estimates.run_settings(split, tuning)
    pending = estimates.request(version, sample, algorithms, target, tuple(features), kind, run)
    estimates.table(pending)

    if st.button("Train", type="primary", disabled=not algorithms or not features, key="train.start"):
        config = {"target": target, "features": features, "problem_kind": kind, "split": split,
                  "preprocessing": preprocessing, "tuning": tuning, "seed": split["seed"], "distributed": distributed}
        known = estimates.finished(pending)  # those still running cannot hold back a start
        chosen = [k for k in algorithms if known.get(k, {}).get("fits_in_memory", True)]
        job_id = submit_training(ws, version, config, chosen, estimates={
            k: {"seconds": e["seconds"], "raw_seconds": e["raw_seconds"]} for k, e in known.items() if k in chosen})
        estimates.keep_late(ws, job_id, pending, chosen, known)  # the rest join the job as they arrive
        watch("train.job", job_id)
        st.rerun()

finished = job_panel(TRAIN_JOB, key="train.job", extra=results_table,
                     scope=lambda job: job.params.get("dataset_version_id") == version.id)

st.subheader("Results")
with guard("Showing the results"):
    models = [m for m in registry.list_versions(ws) if m.dataset_version_id == version.id]
    if not models:
        st.info("No model has been trained on this dataset version yet.")
    else:
        from components.model_views import render_model_results
        from core.ml.catalogue import algorithm_label
        from core.models.ranking import best_first

        models = best_first(models)  # production, else the best by the task's primary metric, first
        model = st.selectbox("Model", models, key=f"train.result_model.{version.id}",
                             format_func=lambda m: f"{m.label} · {algorithm_label(m.algorithm)} · "
                             f"{m.created_at:%Y-%m-%d %H:%M}")
        render_model_results(model.card, model.metrics, key=f"train.results.{model.id}")
