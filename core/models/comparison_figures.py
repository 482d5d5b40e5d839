"""Figures that compare model versions: a metric over the leaderboard, score against cost
with the Pareto front, and a model's stage history.  Same conventions as
``core.models.figures``: plain data in, a plotly figure or DataFrame out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.models.figures import MUTED, _finish, model_label
from core.models.leaderboard import metric_direction, pareto_front
from core.platform.chart_style import model_colours
from core.platform.display import format_number, metric_label
from core.platform.errors import InvalidInputError

__all__ = ["metric_bar_figure", "pareto_figure", "stage_history_figure", "stage_history_table"]

STAGE_COLOURS = {"none": "#b0b7c0", "staging": "#f2a541", "production": "#2e86ab", "archived": "#7f8c9a",
                 "deleted": "#c0392b"}


def _labels(frame: pd.DataFrame) -> list[str]:
    """Each row's model label, as every chart of a page names (and colours) it: the algorithm in words."""
    if "model" in frame.columns:
        return frame["model"].astype(str).tolist()
    if "algorithm" in frame.columns:
        return [model_label(a, n, v) for a, n, v in zip(frame["algorithm"], frame["name"], frame["version"],
                                                       strict=True)]
    return [f"{n}:{v}" for n, v in zip(frame["name"], frame["version"], strict=True)]


def _numeric_metric(frame: pd.DataFrame, metric: str) -> str:
    if metric not in frame.columns:
        raise InvalidInputError(f"The leaderboard has no metric {metric!r}.",
                                hint=f"Choose one of: {', '.join(map(str, frame.columns))}.")
    if not pd.api.types.is_numeric_dtype(frame[metric]) and f"{metric}_mean" in frame.columns:
        return f"{metric}_mean"
    return metric


def metric_bar_figure(frame: pd.DataFrame, metric: str, colours: Mapping[str, str] | None = None) -> go.Figure:
    """One bar per model version for ``metric`` (cross-validated ones with ± std error bars), the best highlighted."""
    column = _numeric_metric(frame, metric)
    values = pd.to_numeric(frame[column], errors="coerce")
    keep = values.notna().to_numpy()
    if not keep.any():
        raise InvalidInputError(f"No model in the table has a value for {metric!r}.")
    labels = np.asarray(_labels(frame), dtype=object)[keep]
    shown = values[keep].to_numpy(dtype=float)
    direction = metric_direction(column)
    best = None if direction is None else int(np.argmax(shown) if direction == "max" else np.argmin(shown))
    std_column = f"{column.removesuffix('_mean')}_std"
    error = None
    if column.endswith("_mean") and std_column in frame.columns:
        error = {"type": "data", "array": pd.to_numeric(frame[std_column], errors="coerce")[keep].fillna(0).tolist()}
    by_model = {**model_colours(labels.tolist()), **(colours or {})}  # the page's colours win
    colours = [by_model[label] for label in labels]
    outline = {"color": ["#222" if i == best else "rgba(0,0,0,0)" for i in range(len(shown))], "width": 3}
    text = [format_number(v) + (" (best)" if i == best else "") for i, v in enumerate(shown)]
    fig = go.Figure(go.Bar(x=labels.tolist(), y=shown, marker={"color": colours, "line": outline}, error_y=error,
                           text=text, textposition="outside",
                           hovertemplate="%{x}<br>%{text}<extra></extra>"))
    fig.update_xaxes(type="category", title="model")
    fig.update_yaxes(title=metric_label(metric))
    better = {"max": " (higher is better)", "min": " (lower is better)"}.get(direction or "", "")
    return _finish(fig, f"{metric_label(metric)}{better}", showlegend=False)


def pareto_figure(frame: pd.DataFrame, score: str, cost: str = "train_seconds",
                  colours: Mapping[str, str] | None = None) -> go.Figure:
    """``score`` against ``cost`` for every model; the Pareto front (nothing both better and cheaper) is joined."""
    column = _numeric_metric(frame, score)
    front = pareto_front(frame, column, cost)
    labels = np.asarray(_labels(frame), dtype=object)
    x = pd.to_numeric(frame[cost], errors="coerce").to_numpy(dtype=float)
    y = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    on = front.to_numpy()
    fig = go.Figure()
    order = np.argsort(x[on], kind="stable")
    fig.add_scatter(x=x[on][order], y=y[on][order], mode="lines", name="Pareto front", hoverinfo="skip",
                    line={"shape": "hv", "color": MUTED, "dash": "dot"})
    colours = {**model_colours(labels.tolist()), **(colours or {})}
    cost_words = metric_label(cost)
    for i, label in enumerate(labels):  # one trace per model: its colour, its name in the legend and on the point
        fig.add_scatter(x=[x[i]], y=[y[i]], mode="markers+text", name=label, text=[label],
                        textposition="top center", marker={"color": colours[label], "size": 14 if on[i] else 10,
                                                           "symbol": "circle" if on[i] else "circle-open"},
                        customdata=[[format_number(x[i]), format_number(y[i]), "on the front" if on[i] else ""]],
                        hovertemplate=f"%{{text}}<br>{cost_words}: %{{customdata[0]}}<br>{metric_label(score)}: "
                        "%{customdata[1]}<br>%{customdata[2]}<extra></extra>")
    finite = x[np.isfinite(x) & (x > 0)]
    if len(finite) > 1 and finite.max() / finite.min() > 100:
        fig.update_xaxes(type="log")
    fig.update_xaxes(title=cost_words)
    fig.update_yaxes(title=metric_label(score))
    return _finish(fig, f"{metric_label(score)} against {cost_words.lower()}")


# -- registry history -------------------------------------------------------------------
def stage_history_table(transitions: Sequence[Any]) -> pd.DataFrame:
    """The stage changes of a model (``core.models.registry.Transition``), newest first."""
    rows = [{"when": t.at, "version": t.version, "from": t.from_stage, "to": t.to_stage, "note": t.note}
            for t in transitions]
    frame = pd.DataFrame(rows, columns=["when", "version", "from", "to", "note"])
    return frame.sort_values("when", ascending=False, kind="stable", ignore_index=True)


def stage_history_figure(transitions: Sequence[Any]) -> go.Figure:
    """A timeline: each change as a marker at its version, the production version as a step line."""
    if not transitions:
        raise InvalidInputError("This model has no stage changes yet.")
    table = stage_history_table(transitions).iloc[::-1]
    fig = go.Figure()
    production = table[table["to"] == "production"]
    if not production.empty:
        fig.add_scatter(x=production["when"], y=production["version"], mode="lines", name="in production",
                        line={"shape": "hv", "color": STAGE_COLOURS["production"], "width": 1})
    for stage, rows in table.groupby("to", sort=False):
        fig.add_scatter(x=rows["when"], y=rows["version"], mode="markers", name=f"→ {stage}",
                        marker={"size": 11, "color": STAGE_COLOURS.get(stage, MUTED)},
                        customdata=rows[["from", "note"]].to_numpy(),
                        hovertemplate="v%{y}: %{customdata[0]} → " + stage + "<br>%{x}<br>%{customdata[1]}"
                                      "<extra></extra>")
    fig.update_yaxes(title="version", dtick=1)
    return _finish(fig, "Stage history")
