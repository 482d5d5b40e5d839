"""Figures and small tables read off model cards (one model's results).

Every builder takes plain data (a model card: a :class:`~core.models.card.ModelCard` or its
stored dict; a registry ``metrics`` dict, a
leaderboard frame, a one-row explanation) and returns a plotly figure or a
DataFrame; nothing here reads the database or draws in a page.  Figures that
compare many models (leaderboard, Pareto front, stage history) live in
``core.models.comparison_figures``.  Builders that
overlay several models take ``{label: card}``; one model is a one-item dict.
A card without what a figure needs raises :class:`InvalidInputError` saying
what is missing, so a page can show the message instead of an empty chart.

Card parts used (see ``core.ml.evaluate`` and ``core.ml.explain``):
``curves.confusion_matrix``, ``curves.roc`` / ``curves.pr`` (one entry per
positive class: one for binary, one-vs-rest per class for multiclass),
``curves.calibration``, ``curves.thresholds``, ``curves.scatter`` (regression),
``curves.projection`` and ``curves.cluster_sizes`` (clustering),
``importances`` and ``shap.mean_abs``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.ml.catalogue import algorithm_label
from core.models.card import ModelCard
from core.models.leaderboard import metric_direction
from core.platform.chart_style import model_colours, style
from core.platform.errors import InvalidInputError

__all__ = [
    "calibration_figure", "cluster_sizes_figure", "confusion_matrix_figure",
    "importance_figure", "importance_series", "metrics_at_threshold", "metrics_table", "model_label",
    "pca_figure", "pr_figure", "predicted_vs_actual_figure", "probability_figure", "reliability_figure",
    "residual_interval", "residuals_figure", "roc_figure", "shap_figure", "threshold_table", "waterfall_figure",
]

MUTED = "#7f8c9a"
ACCENT = "#e4572e"
Card = ModelCard | Mapping[str, Any]  # a card, or its stored JSON (read through ModelCard.of)
_LAYOUT = {"margin": {"l": 10, "r": 10, "t": 50, "b": 10}, "legend": {"orientation": "h", "y": -0.2}}


def _curves(card: Card) -> Mapping[str, Any]:
    return ModelCard.of(card).curves


def _need(value: Any, what: str) -> Any:
    if not value:
        raise InvalidInputError(f"This model has no {what} to draw.",
                                hint="It is stored only for the problem types that have it; retrain to add it.")
    return value


def _cards(cards: Mapping[str, Card]) -> Mapping[str, Card]:
    if not isinstance(cards, Mapping) or not cards:
        raise InvalidInputError("Choose at least one model to draw.")
    return cards


def model_label(algorithm: str, name: str, version: int | str) -> str:
    """How charts and pickers name a model version: ``"Logistic regression (titanic-survived:3)"``.

    The same label gives the same colour (:func:`core.platform.chart_style.model_colour`) in every chart.
    """
    return f"{algorithm_label(algorithm)} ({name}:{version})"


def _colour(colours: Mapping[str, str], model: str, n_models: int, n_classes: int) -> dict[str, Any]:
    """A model's line colour: its own when models are compared; plotly's per class for one multiclass model."""
    return {"line": {"color": colours[model]}} if n_models > 1 or n_classes == 1 else {}


def _finish(fig: go.Figure, title: str, **layout: Any) -> go.Figure:
    fig.update_layout(title=title, **{**_LAYOUT, **layout})
    return style(fig)  # text at least 14 px: legible on a projector


# -- classification ---------------------------------------------------------------------
def confusion_matrix_figure(card: Card, *, normalized: bool = False) -> go.Figure:
    """Heatmap of actual (rows) against predicted (columns); ``normalized`` shows each row's shares."""
    cm = _need(_curves(card).get("confusion_matrix"), "confusion matrix")
    labels = [str(v) for v in cm["labels"]]
    z = np.asarray(cm["normalized"] if normalized else cm["counts"], dtype=float)
    text = [[f"{v:.0%}" if normalized else f"{int(v):,}" for v in row] for row in z]
    fig = go.Figure(go.Heatmap(z=z, x=labels, y=labels, text=text, texttemplate="%{text}", colorscale="Blues",
                               showscale=False,
                               hovertemplate="actual %{y}<br>predicted %{x}<br>%{text}<extra></extra>"))
    fig.update_xaxes(title="predicted", type="category", side="bottom")
    fig.update_yaxes(title="actual", type="category", autorange="reversed")
    return _finish(fig, "Confusion matrix" + (" (share of each actual class)" if normalized else " (counts)"))


def _line_name(model: str, cls: str, n_models: int, n_classes: int, score: str) -> str:
    if n_models == 1:
        return f"{score}" if n_classes == 1 else f"{cls} vs rest ({score})"
    return f"{model} ({score})" if n_classes == 1 else f"{model} · {cls} ({score})"


def roc_figure(cards: Mapping[str, Card], colours: Mapping[str, str] | None = None) -> go.Figure:
    """ROC curves of one or several models; multiclass models draw one one-vs-rest line per class."""
    cards = _cards(cards)
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance", line={"dash": "dot", "color": MUTED}))
    colours = {**model_colours(list(cards)), **(colours or {})}  # the page's colours win
    for model, card in cards.items():
        roc = _curves(card).get("roc") or {}
        for cls, curve in roc.items():
            name = _line_name(model, str(cls), len(cards), len(roc), f"AUC {curve['auc']:.3f}")
            fig.add_scatter(x=curve["fpr"], y=curve["tpr"], mode="lines", name=name,
                            **_colour(colours, model, len(cards), len(roc)))
    _need(len(fig.data) > 1, "ROC curve")
    fig.update_xaxes(title="false positive rate", range=[0, 1])
    fig.update_yaxes(title="true positive rate", range=[0, 1.02])
    return _finish(fig, "ROC curve" + ("s" if len(fig.data) > 2 else ""))


def pr_figure(cards: Mapping[str, Card], colours: Mapping[str, str] | None = None) -> go.Figure:
    """Precision-recall curves, as :func:`roc_figure`; a single binary model also shows the no-skill line."""
    cards = _cards(cards)
    fig = go.Figure()
    colours = {**model_colours(list(cards)), **(colours or {})}  # the page's colours win
    for model, card in cards.items():
        pr = _curves(card).get("pr") or {}
        for cls, curve in pr.items():
            name = _line_name(model, str(cls), len(cards), len(pr), f"AP {curve['average_precision']:.3f}")
            fig.add_scatter(x=curve["recall"], y=curve["precision"], mode="lines", name=name,
                            **_colour(colours, model, len(cards), len(pr)))
    _need(fig.data, "precision-recall curve")
    if len(cards) == 1 and len(fig.data) == 1:
        share = _positive_share(next(iter(cards.values())))
        if share is not None:
            fig.add_scatter(x=[0, 1], y=[share, share], mode="lines", name=f"no skill ({share:.0%} positive)",
                            line={"dash": "dot", "color": MUTED})
    fig.update_xaxes(title="recall", range=[0, 1])
    fig.update_yaxes(title="precision", range=[0, 1.02])
    return _finish(fig, "Precision-recall curve" + ("s" if len(fig.data) > 1 else ""))


def _positive_share(card: Card) -> float | None:
    curves = _curves(card)
    cm, positive = curves.get("confusion_matrix"), curves.get("positive_label")
    if not cm or positive is None or positive not in cm["labels"]:
        return None
    counts = np.asarray(cm["counts"], dtype=float)
    total = counts.sum()
    return float(counts[cm["labels"].index(positive)].sum() / total) if total else None


def calibration_figure(cards: Mapping[str, Card], colours: Mapping[str, str] | None = None) -> go.Figure:
    """Observed share of positives against the mean predicted probability, per probability bin."""
    cards = _cards(cards)
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfectly calibrated",
                               line={"dash": "dot", "color": MUTED}))
    colours = {**model_colours(list(cards)), **(colours or {})}  # the page's colours win
    for model, card in cards.items():
        cal = _curves(card).get("calibration")
        if cal:
            fig.add_scatter(x=cal["predicted"], y=cal["observed"], mode="lines+markers", name=model,
                            customdata=cal["count"], marker={"color": colours[model]},
                            line={"color": colours[model]},
                            hovertemplate="predicted %{x:.2f}<br>observed %{y:.2f}<br>%{customdata} rows")
    _need(len(fig.data) > 1, "calibration curve")
    fig.update_xaxes(title="mean predicted probability", range=[0, 1])
    fig.update_yaxes(title="observed share of positives", range=[0, 1.02])
    return _finish(fig, "Calibration")


def reliability_figure(card: Card) -> go.Figure:
    """One binary model's reliability curve over the rows in each probability bin, titled with its Brier score.

    The line is the observed share of positives against the mean predicted probability per bin
    (on the diagonal: a predicted 30% comes true 30% of the time); the bars, on the right axis,
    how many test rows each bin holds, so a bend drawn from a handful of rows reads as such.
    """
    one = ModelCard.of(card)
    cal = _need(one.curves.get("calibration"), "calibration curve")
    predicted = np.asarray(cal["predicted"], dtype=float)
    counts = np.asarray(cal["count"], dtype=float)
    if cal.get("bin_low") is not None and cal.get("bin_high") is not None:
        low, high = np.asarray(cal["bin_low"], dtype=float), np.asarray(cal["bin_high"], dtype=float)
    else:  # stored before the bins were: tenths, as evaluate has always binned
        low = np.clip(np.floor(predicted * 10) / 10, 0.0, 0.9)
        high = low + 0.1
    fig = go.Figure()
    fig.add_bar(x=(low + high) / 2, y=counts, width=high - low, name="test rows in the bin", yaxis="y2",
                marker={"color": MUTED, "opacity": 0.25},
                hovertemplate="%{y:,} rows predicted %{customdata}<extra></extra>",
                customdata=[f"{a:.0%}–{b:.0%}" for a, b in zip(low, high, strict=True)])
    fig.add_scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfectly calibrated",
                    line={"dash": "dot", "color": MUTED})
    fig.add_scatter(x=predicted, y=cal["observed"], mode="lines+markers", name="observed share", customdata=counts,
                    line={"color": ACCENT}, marker={"color": ACCENT},
                    hovertemplate="predicted %{x:.0%}<br>observed %{y:.0%}<br>%{customdata:,} rows<extra></extra>")
    brier = cal.get("brier", one.metrics.get("brier"))
    title = "Calibration" + (f": Brier score {float(brier):.3f} (0 is perfect, 0.25 a coin toss)"
                             if isinstance(brier, int | float) else "")
    return _finish(fig, title, xaxis={"title": "predicted probability", "range": [0, 1], "tickformat": ".0%"},
                   yaxis={"title": "observed share of positives", "range": [0, 1.02], "tickformat": ".0%"},
                   yaxis2={"title": "test rows", "overlaying": "y", "side": "right", "showgrid": False,
                           "rangemode": "tozero"})


def threshold_table(card: Card) -> pd.DataFrame:
    """Precision, recall, F1 and positive rate at each stored decision threshold (binary models)."""
    rows = _need(_curves(card).get("thresholds"), "threshold table")
    table = pd.DataFrame(rows, columns=["threshold", "precision", "recall", "f1", "positive_rate"])
    return table.sort_values("threshold", ignore_index=True)


def metrics_at_threshold(table: pd.DataFrame, threshold: float) -> dict[str, float]:
    """The row of :func:`threshold_table` nearest to ``threshold``, as a dict."""
    if table.empty:
        raise InvalidInputError("The threshold table is empty.")
    row = table.iloc[int(np.argmin(np.abs(table["threshold"].to_numpy(dtype=float) - float(threshold))))]
    return {k: float(v) for k, v in row.items()}


# -- regression -------------------------------------------------------------------------
def _scatter(card: Card) -> Mapping[str, Any]:
    return _need(_curves(card).get("scatter"), "predicted-vs-actual data (regression only)")


def residuals_figure(card: Card) -> go.Figure:
    """Residual (actual − predicted) against predicted, on the stored sample of test rows."""
    scatter = _scatter(card)
    fig = go.Figure(go.Scattergl(x=scatter["predicted"], y=scatter["residual"], mode="markers", name="test rows",
                                 marker={"size": 5, "opacity": 0.6}))
    fig.add_hline(y=0, line={"dash": "dot", "color": MUTED})
    fig.update_xaxes(title="predicted")
    fig.update_yaxes(title="residual (actual − predicted)")
    return _finish(fig, "Residuals" + _sample_note(card, len(scatter["predicted"])))


def _sample_note(card: Card, shown: int) -> str:
    total = _curves(card).get("n_total")
    return f" ({shown:,} of {total:,} test rows)" if total and total > shown else ""


def predicted_vs_actual_figure(cards: Mapping[str, Card], colours: Mapping[str, str] | None = None) -> go.Figure:
    """Predicted against actual values of one or several regression models, with the ideal diagonal."""
    cards = _cards(cards)
    fig = go.Figure()
    low, high = np.inf, -np.inf
    colours = {**model_colours(list(cards)), **(colours or {})}  # the page's colours win
    for model, card in cards.items():
        scatter = _curves(card).get("scatter")
        if not scatter:
            continue
        actual = np.asarray(scatter["actual"], dtype=float)
        predicted = np.asarray(scatter["predicted"], dtype=float)
        low = min(low, np.nanmin(actual), np.nanmin(predicted))
        high = max(high, np.nanmax(actual), np.nanmax(predicted))
        fig.add_trace(go.Scattergl(x=actual, y=predicted, mode="markers", name=model,
                                   marker={"size": 5, "opacity": 0.6, "color": colours[model]}))
    _need(fig.data, "predicted-vs-actual data (regression only)")
    fig.add_scatter(x=[low, high], y=[low, high], mode="lines", name="perfect", line={"dash": "dot", "color": MUTED})
    fig.update_xaxes(title="actual")
    fig.update_yaxes(title="predicted")
    return _finish(fig, "Predicted vs actual")


def residual_interval(card: Card, prediction: float, level: float = 0.9) -> tuple[float, float] | None:
    """A rough range for a regression prediction from the test residuals; ``None`` when there are too few.

    No Atelier model gives its own prediction interval, so this says where
    ``level`` of the test rows' errors lay, shifted to ``prediction``.
    """
    if not 0 < level < 1:
        raise InvalidInputError(f"The interval level must lie strictly between 0 and 1; got {level!r}.")
    residuals = np.asarray((_curves(card).get("scatter") or {}).get("residual") or [], dtype=float)
    residuals = residuals[np.isfinite(residuals)]
    if len(residuals) < 20:
        return None
    lo, hi = np.quantile(residuals, [(1 - level) / 2, (1 + level) / 2])
    return float(prediction + lo), float(prediction + hi)


# -- importances and explanations ---------------------------------------------------------
def importance_series(card: Card) -> pd.Series:
    """Feature importances, largest first; accepts ``{feature: value}`` or ``[{feature, importance}]``."""
    raw = ModelCard.of(card).importances or {}
    if isinstance(raw, Mapping):
        values = {str(k): float(v) for k, v in raw.items() if isinstance(v, int | float)}
    else:
        values = {str(i["feature"]): float(i["importance"]) for i in raw
                  if isinstance(i, Mapping) and isinstance(i.get("importance"), int | float)}
    return pd.Series(values, dtype=float, name="importance").sort_values(ascending=False)


def _bars(values: pd.Series, top: int, title: str, x_title: str) -> go.Figure:
    shown = values.head(top)[::-1]  # largest at the top of a horizontal bar chart
    fig = go.Figure(go.Bar(x=shown.to_numpy(), y=[str(i) for i in shown.index], orientation="h",
                           marker_color="#2e86ab"))
    fig.update_xaxes(title=x_title)
    fig.update_yaxes(type="category")
    rest = len(values) - len(shown)
    return _finish(fig, title + (f" (top {len(shown)}; {rest} more)" if rest > 0 else ""),
                   height=max(250, 24 * len(shown) + 100))


def importance_figure(card: Card, top: int = 20) -> go.Figure:
    """Horizontal bars of the ``top`` most important features."""
    values = importance_series(card)
    _need(not values.empty, "feature importances")
    method = ModelCard.of(card).importance_method
    return _bars(values, top, "Feature importance" + (f" ({method})" if method and method != "none" else ""),
                 "share of importance")


def shap_figure(card: Card, top: int = 20) -> go.Figure:
    """Mean |SHAP value| per input feature: how much each moves the predictions on average."""
    shap = ModelCard.of(card).shap or {}
    values = pd.Series({str(k): float(v) for k, v in (shap.get("mean_abs") or {}).items()}, dtype=float)
    _need(not values.empty, "SHAP summary")
    return _bars(values.sort_values(ascending=False), top, f"SHAP summary ({shap.get('method', '')}, "
                 f"{shap.get('n_rows', 0):,} rows)", "mean |SHAP value|")


def waterfall_figure(contributions: pd.Series, base_value: float, *, top: int = 10,
                     explained_class: Any = None) -> go.Figure:
    """One row's explanation: from the base value, the ``top`` largest contributions, the rest pooled, to the total.

    Drawn across, largest contribution first (zero ones left out), starting at ``base_value``
    (the model's average output) and ending at ``base_value +
    contributions.sum()``: the model's raw output for this row (log-odds for
    boosters and linear classifiers, a probability for forests, the target's
    unit for regression).
    """
    if contributions is None or len(contributions) == 0:
        raise InvalidInputError("There are no contributions to draw: this prediction was not explained.")
    values = pd.Series(contributions, dtype=float).dropna()
    values = values[values != 0]  # features the model ignores (dropped free text) would only add empty rows
    order = values.abs().sort_values(ascending=False, kind="stable").index
    shown, rest = values[order[:top]], values[order[top:]]
    names = [str(i) for i in shown.index]
    steps = shown.to_numpy().tolist()
    if len(rest):
        names.append(f"{len(rest)} other features")
        steps.append(float(rest.sum()))
    base, total = float(base_value), float(base_value) + float(values.sum())
    fig = go.Figure(go.Waterfall(
        orientation="h", y=[*names, "prediction"], x=[*steps, total], base=base,
        measure=[*["relative"] * len(steps), "total"], text=[*(f"{v:+.3f}" for v in steps), f"{total:.3f}"],
        textposition="outside", increasing={"marker": {"color": ACCENT}}, decreasing={"marker": {"color": "#2e86ab"}},
        totals={"marker": {"color": MUTED}}, connector={"line": {"color": "#ccc"}},
    ))
    path = base + np.concatenate([[0.0], np.cumsum(steps)])
    low, high = float(min(path.min(), total)), float(max(path.max(), total))
    pad = (high - low) * 0.15 or abs(base) * 0.1 or 1.0
    fig.update_xaxes(title="model output", range=[low - pad, high + pad])
    fig.update_yaxes(autorange="reversed", type="category")
    fig.add_vline(x=base, line={"dash": "dot", "color": MUTED})
    what = f" towards class {explained_class}" if explained_class is not None else ""
    return _finish(fig, f"What moved this prediction{what}: from the base value {base:.3f} to {total:.3f}",
                   showlegend=False, height=max(300, 32 * (len(names) + 1) + 120))


def probability_figure(probabilities: Mapping[str, float], predicted: Any = None) -> go.Figure:
    """Bars of each class's probability, the predicted class highlighted."""
    if not probabilities:
        raise InvalidInputError("This model gives no class probabilities.")
    items = sorted(((str(k), float(v)) for k, v in probabilities.items()), key=lambda kv: kv[1])
    colours = [ACCENT if k == str(predicted) else MUTED for k, _ in items]
    fig = go.Figure(go.Bar(x=[v for _, v in items], y=[k for k, _ in items], orientation="h", marker_color=colours,
                           text=[f"{v:.1%}" for _, v in items], textposition="auto"))
    fig.update_xaxes(title="probability", range=[0, 1], tickformat=".0%")
    fig.update_yaxes(type="category")
    return _finish(fig, "Class probabilities", height=max(200, 40 * len(items) + 100))


# -- clustering ---------------------------------------------------------------------------
def pca_figure(card: Card) -> go.Figure:
    """The rows projected on their first two principal components, coloured by cluster."""
    projection = _need(_curves(card).get("projection"), "PCA projection (clustering only)")
    frame = pd.DataFrame({"x": projection["x"], "y": projection["y"], "cluster": projection["cluster"]})
    fig = go.Figure()
    for cluster, rows in frame.groupby("cluster", sort=True):
        name = "noise" if str(cluster) == "-1" else f"cluster {cluster}"
        fig.add_trace(go.Scattergl(x=rows["x"], y=rows["y"], mode="markers", name=name,
                                   marker={"size": 5, "opacity": 0.7}))
    ratio = list(projection.get("explained_variance_ratio") or []) + [None, None]
    for axis, value, update in (("PC1", ratio[0], fig.update_xaxes), ("PC2", ratio[1], fig.update_yaxes)):
        update(title=axis + (f" ({value:.0%} of variance)" if value is not None else ""))
    return _finish(fig, "Clusters on the first two principal components")


def cluster_sizes_figure(card: Card) -> go.Figure:
    """Rows per cluster (``-1`` is DBSCAN's noise)."""
    sizes = _need(_curves(card).get("cluster_sizes"), "cluster sizes (clustering only)")
    labels = ["noise" if str(k) == "-1" else str(k) for k in sizes]
    fig = go.Figure(go.Bar(x=labels, y=list(sizes.values()), marker_color="#2e86ab", text=list(sizes.values())))
    fig.update_xaxes(title="cluster", type="category")
    fig.update_yaxes(title="rows")
    return _finish(fig, "Cluster sizes")


# -- metrics ------------------------------------------------------------------------------
def metrics_table(metrics: Mapping[str, Any], cv: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """One row per metric: the test value, cross-validation mean ± std when there is one, and which way is better.

    ``cv`` defaults to ``metrics["cv"]`` (how the registry stores it).
    """
    cv = dict(cv if cv is not None else (metrics.get("cv") or {}))
    names = [k for k, v in metrics.items() if isinstance(v, int | float) and not isinstance(v, bool)]
    names += [k for k in cv if k not in names]
    rows = []
    for name in names:
        test = metrics.get(name)
        summary = cv.get(name) if isinstance(cv.get(name), Mapping) else {}
        mean, std = summary.get("mean"), summary.get("std")
        rows.append({
            "metric": name, "test": float(test) if isinstance(test, int | float) else np.nan,
            "cv mean ± std": f"{mean:.4f} ± {std:.4f}" if mean is not None and std is not None else "",
            "cv mean": np.nan if mean is None else float(mean), "cv std": np.nan if std is None else float(std),
            "better": {"max": "higher", "min": "lower"}.get(metric_direction(name) or "", ""),
        })
    return pd.DataFrame(rows, columns=["metric", "test", "cv mean ± std", "cv mean", "cv std", "better"])
