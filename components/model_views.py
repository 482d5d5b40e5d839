"""Render a model's results (metrics, curves, importances, SHAP, notes) and two models side by side.

``render_model_results(card, metrics, key=...)`` is shared by the Train,
Benchmarks and Predict pages; the figures come from ``core.models.figures``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd
import streamlit as st

from components.guard import guard
from core.ml.catalogue import algorithm_label
from core.models import figures as mf
from core.models.card import ModelCard
from core.models.leaderboard import (
    best_per_metric,
    best_within,
    compare,
    metric_direction,
    shown_as,
    summary_parts,
)
from core.models.ranking import primary_metric
from core.models.registry import ModelVersionInfo
from core.platform.display import format_number, metric_label

_FLOAT = st.column_config.NumberColumn(format="%.4f")


def _plot(fig, key: str) -> None:
    st.plotly_chart(fig, key=key, width="stretch")


def metrics_view(metrics: Mapping[str, Any], cv: Mapping[str, Any] | None = None) -> None:
    """The metrics table: test value, cross-validation mean ± std, which way is better."""
    table = mf.metrics_table(metrics, cv)
    if table.empty:
        st.info("This model has no metrics.")
        return
    # in words, with as many decimals as each value's magnitude needs (an RMSE in dollars, an AUC to 0.001)
    table["cv mean ± std"] = [f"{format_number(m)} ± {format_number(sd)}" if text else ""
                              for text, m, sd in zip(table["cv mean ± std"], table["cv mean"], table["cv std"],
                                                     strict=True)]
    table["metric"] = table["metric"].map(metric_label)
    table["test"] = table["test"].map(format_number)
    if not table["cv mean ± std"].astype(bool).any():
        table = table.drop(columns=["cv mean ± std", "cv mean", "cv std"])
    else:
        table = table.drop(columns=["cv mean", "cv std"])
    st.dataframe(table, hide_index=True, width="stretch")


def _tabs(card: ModelCard) -> list[tuple[str, Callable[[str], None]]]:
    """(title, draw) for every view this card has data for, in the order a reader wants them."""
    curves = card.curves
    one = {card.title or "model": card}
    views: list[tuple[str, Callable[[str], None]]] = []
    if curves.get("confusion_matrix"):
        views.append(("Confusion matrix", lambda k: _confusion(card, k)))
    if curves.get("roc"):
        views.append(("ROC", lambda k: _plot(mf.roc_figure(one), k)))
    if curves.get("pr"):
        views.append(("Precision-recall", lambda k: _plot(mf.pr_figure(one), k)))
    if curves.get("calibration"):
        views.append(("Calibration", lambda k: _plot(mf.reliability_figure(card), k)))
    if curves.get("thresholds"):
        views.append(("Threshold", lambda k: threshold_view(card, k)))
    if curves.get("scatter"):
        views.append(("Predicted vs actual", lambda k: _plot(mf.predicted_vs_actual_figure(one), k)))
        views.append(("Residuals", lambda k: _plot(mf.residuals_figure(card), k)))
    if curves.get("projection"):
        views.append(("Clusters (PCA)", lambda k: _plot(mf.pca_figure(card), k)))
    if curves.get("cluster_sizes"):
        views.append(("Cluster sizes", lambda k: _plot(mf.cluster_sizes_figure(card), k)))
    if not mf.importance_series(card).empty:
        views.append(("Importance", lambda k: _plot(mf.importance_figure(card), k)))
    if card.has_shap:
        views.append(("SHAP", lambda k: _plot(mf.shap_figure(card), k)))
    if card.is_clustering and not views:
        views.append(("Clusters", lambda k: st.info("No cluster projection was stored for this model.")))
    return views


def _confusion(card: ModelCard, key: str) -> None:
    normalized = st.toggle("Share of each actual class", key=f"{key}.normalized")
    _plot(mf.confusion_matrix_figure(card, normalized=normalized), f"{key}.figure")


def threshold_view(card: ModelCard, key: str) -> None:
    """Precision, recall and F1 at a chosen decision threshold (binary models)."""
    table = mf.threshold_table(card)
    positive = card.positive_label if card.positive_label is not None else "the positive class"
    options = [round(float(t), 4) for t in table["threshold"]]
    start = min(options, key=lambda t: abs(t - 0.5))
    chosen = st.select_slider("Decision threshold", options, value=start, key=f"{key}.threshold",
                              help="Rows whose score for the positive class reaches the threshold are predicted "
                              f"positive ({positive}).")
    at = mf.metrics_at_threshold(table, chosen)
    cols = st.columns(4)
    for col, name in zip(cols, ("precision", "recall", "f1", "positive_rate"), strict=True):
        col.metric(name.replace("_", " ").replace("f1", "F1"), f"{at[name]:.3f}")
    st.dataframe(table, hide_index=True, width="stretch",
                 column_config={c: _FLOAT for c in table.columns if c != "threshold"})


def render_model_results(card: ModelCard | Mapping[str, Any] | None, metrics: dict, *, key: str) -> None:
    """Everything a model card says: metrics (with CV mean ± std), curves in tabs by problem type, notes."""
    card = ModelCard.of(card or {})
    metrics = metrics or card.metrics
    st.caption(" · ".join(p for p in (card.title, card.kind, f"target {card.target!r}" if card.target else "",
                                      card.dataset_label) if p))
    if took := card.timings.get("total_seconds"):  # the estimate shown before Train, kept with the model
        estimated = card.timings.get("estimated_seconds")
        st.caption(f"Took {format_number(took)} s" + (f" · estimated {format_number(estimated)} s" if estimated
                                                       else ""))
    with guard("Showing the metrics"):
        metrics_view(metrics, metrics.get("cv") or card.cv)
    views = _tabs(card)
    if views:
        for tab, (title, draw) in zip(st.tabs([t for t, _ in views]), views, strict=True):
            with tab, guard(f"Drawing the {title.lower()} view"):
                draw(f"{key}.{title.lower().replace(' ', '_')}")
    notes, warnings = card.notes, card.warnings
    for line in warnings:
        st.warning(line)
    if notes:
        with st.expander(f"Notes ({len(notes)})"):
            for line in notes:
                st.markdown(f"- {line}")


def compare_view(mv_a: ModelVersionInfo, mv_b: ModelVersionInfo, *, key: str) -> None:
    """Two versions side by side: overview, metrics (with which is better), parameters, importances."""
    result = compare(mv_a, mv_b)
    la, lb = result["labels"]
    overview, metrics, parameters = result["overview"], result["metrics"], result["parameters"]
    importances = result["importances"]
    if importances.empty:  # cards store importances as {feature: value}; build the table from them
        ia, ib = mf.importance_series(mv_a.card), mf.importance_series(mv_b.card)
        top = list(dict.fromkeys([*ia.index[:10], *ib.index[:10]]))
        importances = pd.DataFrame({"feature": top, la: ia.reindex(top).to_numpy(), lb: ib.reindex(top).to_numpy()})
    left, right = st.columns(2)
    with left:
        st.markdown("**Overview**")
        st.dataframe(overview, hide_index=True, width="stretch")
        st.markdown("**Metrics**")
        st.dataframe(metrics, hide_index=True, width="stretch",
                     column_config={la: _FLOAT, lb: _FLOAT, "difference": _FLOAT})
    with right:
        st.markdown("**Parameters**")
        different = st.toggle("Only parameters that differ", key=f"{key}.differ")
        shown = parameters[~parameters["same"]] if different else parameters
        if parameters.empty:
            st.caption("Neither card lists parameters: both use the catalogue's defaults.")
        else:
            st.dataframe(shown, hide_index=True, width="stretch")
        st.markdown("**Importances**")
        if importances.empty:
            st.caption("Neither model has feature importances.")
        else:
            st.dataframe(importances, hide_index=True, width="stretch", column_config={la: _FLOAT, lb: _FLOAT})


def leaderboard_table(frame: pd.DataFrame, groups: list | None = None) -> None:
    """The leaderboard, sortable, with the best value of each metric highlighted.

    ``groups`` (each row's task) makes the best one per task: rows of unrelated tasks never compete.
    """
    best = {c: [i] for c, i in best_per_metric(frame).items()} if groups is None else best_within(frame, groups)
    hidden = summary_parts(frame.columns)
    shown = frame.drop(columns=[*hidden, "id"]).rename(columns={"dataset": "dataset version"})
    shown.insert(0, "model", [f"{n}:{v}" for n, v in zip(frame["name"], frame["version"], strict=True)])
    shown = shown.drop(columns=["name", "version"])
    shown["algorithm"] = shown["algorithm"].map(algorithm_label)
    kinds = set(frame["problem_type"]) if "problem_type" in frame.columns else set()
    if groups is not None and len(set(groups)) == 1:  # one task, named above the table: its columns say nothing
        shown = shown.drop(columns=[c for c in ("dataset version", "problem_type") if c in shown.columns])
    if len(kinds) == 1 and (primary := primary_metric(next(iter(kinds)))):
        # The task's primary metric (test, then CV) right after the model: visible at 1280 px, not scrolled to.
        lead = [c for c in ("model", "algorithm", primary, f"cv_{primary}") if c in shown.columns]
        shown = shown[lead + [c for c in shown.columns if c not in lead]]
    marks: dict[str, list] = {}
    for column, rows in best.items():
        target = shown_as(column, shown.columns)
        if target in shown.columns:
            marks.setdefault(target, rows)

    def highlight(col: pd.Series) -> list[str]:
        return ["background-color: rgba(228, 87, 46, 0.25); font-weight: bold"
                if col.name in marks and index in marks[col.name] else "" for index in col.index]

    scores = [c for c in shown.columns if metric_direction(c) and pd.api.types.is_numeric_dtype(shown[c])]
    styler = (shown.style.apply(highlight, axis=0).format(na_rep="—")
              .format(format_number, subset=scores)  # by magnitude: an RMSE in dollars, an AUC to 0.001
              .format("{:.2f}", subset=["train_seconds", "predict_ms_per_1k"], na_rep="—")
              .format("{:,.0f}", subset=["size_bytes"])
              .format(lambda t: f"{t:%Y-%m-%d %H:%M}", subset=["created_at"]))
    fixed = {"model", "stage", "dataset version", "algorithm", "problem_type", "train_seconds", "size_bytes",
             "predict_ms_per_1k", "created_at"}
    st.dataframe(styler, hide_index=True, width="stretch", column_config={
        **{c: metric_label(c) for c in shown.columns if c not in fixed},  # "CV ROC AUC", not cv_roc_auc
        "train_seconds": "train s", "size_bytes": "size (bytes)", "predict_ms_per_1k": "predict ms / 1k rows",
        "created_at": "created", "problem_type": "problem type",
    })
    within = "each dataset and target" if groups is not None and len(set(groups)) > 1 else "the rows shown"
    st.caption(f"Highlighted: the best value of each metric within {within}. Click a header to sort.")
