"""Figures that compare model versions: a metric over the leaderboard, score against cost
with the Pareto front, and a model's stage history.  Same conventions as
``core.models.figures``: plain data in, a plotly figure or DataFrame out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.models.figures import ACCENT, MUTED, _finish
from core.models.leaderboard import metric_direction, pareto_front
from core.platform.errors import InvalidInputError

__all__ = ["metric_bar_figure", "pareto_figure", "stage_history_figure", "stage_history_table"]

STAGE_COLOURS = {"none": "#b0b7c0", "staging": "#f2a541", "production": "#2e86ab", "archived": "#7f8c9a",
                 "deleted": "#c0392b"}


def _labels(frame: pd.DataFrame) -> list[str]:
    if "model" in frame.columns:
        return frame["model"].astype(str).tolist()
    return [f"{n}:{v}" for n, v in zip(frame["name"], frame["version"], strict=True)]


def _numeric_metric(frame: pd.DataFrame, metric: str) -> str:
    if metric not in frame.columns:
        raise InvalidInputError(f"The leaderboard has no metric {metric!r}.",
                                hint=f"Choose one of: {', '.join(map(str, frame.columns))}.")
    if not pd.api.types.is_numeric_dtype(frame[metric]) and f"{metric}_mean" in frame.columns:
        return f"{metric}_mean"
    return metric


def metric_bar_figure(frame: pd.DataFrame, metric: str) -> go.Figure:
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
    colours = [ACCENT if i == best else MUTED for i in range(len(shown))]
    fig = go.Figure(go.Bar(x=labels.tolist(), y=shown, marker_color=colours, error_y=error,
                           text=[f"{v:.3f}" for v in shown], textposition="outside"))
    fig.update_xaxes(type="category", title="model")
    fig.update_yaxes(title=metric)
    better = {"max": " (higher is better)", "min": " (lower is better)"}.get(direction or "", "")
    return _finish(fig, f"{metric}{better}", showlegend=False)


def pareto_figure(frame: pd.DataFrame, score: str, cost: str = "train_seconds") -> go.Figure:
    """``score`` against ``cost`` for every model; the Pareto front (nothing both better and cheaper) is joined."""
    column = _numeric_metric(frame, score)
    front = pareto_front(frame, column, cost)
    labels = np.asarray(_labels(frame), dtype=object)
    x = pd.to_numeric(frame[cost], errors="coerce").to_numpy(dtype=float)
    y = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    on = front.to_numpy()
    fig = go.Figure()
    fig.add_scatter(x=x[~on], y=y[~on], mode="markers", name="other models", text=labels[~on].tolist(),
                    marker={"color": MUTED, "size": 9}, hovertemplate="%{text}<br>%{x:.3g}<br>%{y:.4f}<extra></extra>")
    order = np.argsort(x[on], kind="stable")
    fig.add_scatter(x=x[on][order], y=y[on][order], mode="lines+markers", name="Pareto front",
                    text=labels[on][order].tolist(), marker={"color": ACCENT, "size": 11},
                    line={"shape": "hv", "color": ACCENT},
                    hovertemplate="%{text}<br>%{x:.3g}<br>%{y:.4f}<extra></extra>")
    finite = x[np.isfinite(x) & (x > 0)]
    if len(finite) > 1 and finite.max() / finite.min() > 100:
        fig.update_xaxes(type="log")
    fig.update_xaxes(title=cost.replace("_", " "))
    fig.update_yaxes(title=score)
    return _finish(fig, f"{score} against {cost.replace('_', ' ')}")


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
