"""A model's health over time, from its prediction runs: class mix or mean score, and drift share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from core.platform.chart_style import style
from core.platform.errors import InvalidInputError
from core.serve.prediction_runs import PredictionRunInfo

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["health_figure", "health_table"]


def health_table(runs: Sequence[PredictionRunInfo]) -> pd.DataFrame:
    """Prediction runs, newest first, as a table: when, rows, class mix or mean score, drift share."""
    rows = []
    for run in runs:
        summary = run.summary or {}
        mix = summary.get("class_mix") or {}
        rows.append({
            "when": run.created_at, "version": run.version, "source": run.source, "rows": run.n_rows,
            "class mix": ", ".join(f"{k}: {v:.0%}" for k, v in mix.items()),
            "mean prediction": summary.get("mean", np.nan), "drift share": run.drift_share, "id": run.id,
        })
    columns = ["when", "version", "source", "rows", "class mix", "mean prediction", "drift share", "id"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["drift share"] = pd.to_numeric(frame["drift share"], errors="coerce")
    frame["mean prediction"] = pd.to_numeric(frame["mean prediction"], errors="coerce")
    return frame.sort_values("when", ascending=False, kind="stable", ignore_index=True)


def health_figure(runs: Sequence[PredictionRunInfo]) -> go.Figure:
    """Over time: each class's share of the predictions (or the mean prediction), and the drift share."""
    from plotly.subplots import make_subplots  # plotly is only needed to draw

    if not runs:
        raise InvalidInputError("This model has not scored any file yet.")
    ordered = sorted(runs, key=lambda r: r.created_at)
    when = [r.created_at for r in ordered]
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.12,
                        subplot_titles=("Predictions", "Share of drifted features"))
    classes = list(dict.fromkeys(k for r in ordered for k in (r.summary or {}).get("class_mix", {})))
    for cls in classes:
        fig.add_scatter(x=when, y=[(r.summary or {}).get("class_mix", {}).get(cls, 0.0) for r in ordered],
                        mode="lines+markers", name=f"share of {cls}", row=1, col=1)
    if not classes:
        fig.add_scatter(x=when, y=[(r.summary or {}).get("mean") for r in ordered], mode="lines+markers",
                        name="mean prediction", row=1, col=1)
    fig.add_scatter(x=when, y=[r.drift_share for r in ordered], mode="lines+markers", name="drift share",
                    line={"color": "#e4572e"}, row=2, col=1)
    fig.update_yaxes(tickformat=".0%", range=[0, 1.05], row=2, col=1)
    if classes:
        fig.update_yaxes(tickformat=".0%", range=[0, 1.05], row=1, col=1)
    fig.update_layout(title="Health over time", height=500, margin={"l": 10, "r": 10, "t": 60, "b": 10},
                      legend={"orientation": "h", "y": -0.15})
    return style(fig)  # text at least 14 px: legible on a projector
