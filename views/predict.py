"""Predict: one row through a form, a whole file as a job, drift of new data, health over time, retraining."""

from __future__ import annotations

import streamlit as st

from components import predict_views as views
from components.guard import guard
from components.model_picker import pick_model
from components.model_views import render_model_results
from components.state import model_cache, workspace
from core.serve.loaded import load_model

st.title("Predict")
ws = workspace()

with st.container(border=True):
    mv = pick_model("predict")
if mv is None:
    st.stop()

model = None
with guard(f"Loading {mv.label}"):
    model = load_model(ws, mv, model_cache())
    views.card_summary(model)
    _ = model.reference  # a model without reference statistics is refused here, with the reason
if model is None or not model.card.reference:
    st.stop()

with st.expander("Model card: metrics, curves, importances"):
    render_model_results(model.card, mv.metrics, key=f"predict.card.{mv.id}")

row_tab, batch_tab, drift_tab, health_tab, retrain_tab, deploy_tab = st.tabs(
    ["One row", "Batch", "Drift", "Health", "Retrain", "Deployment"])
with row_tab:
    st.caption("Every field starts at the training median or most frequent value; change any, then Predict.")
    with guard("Building the form"):
        views.row_form(model, key="predict.row")
with batch_tab:
    st.caption("Score a whole file or dataset version. It is checked against the model first; scoring runs in "
               "the background, so you can leave the page.")
    views.batch_view(ws, model, key="predict.batch")
with drift_tab:
    st.caption("Compare new rows with the data the model was trained on, feature by feature.")
    views.drift_view(ws, model, key="predict.drift")
with health_tab, guard("Showing the prediction history"):
    views.health_view(ws, model, key="predict.health")
with retrain_tab:
    st.caption("Train the same algorithm with the same settings on a newer version of its dataset, then compare "
               "it with the production version before promoting it.")
    with guard("Preparing the retraining"):
        views.retrain_view(ws, model, key="predict.retrain")
with deploy_tab, guard("Showing the deployment"):
    views.deployment_view(ws, model, key="predict.deploy")
