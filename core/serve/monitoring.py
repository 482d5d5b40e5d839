"""New data against a stored model: check an input file, read a sample of it, measure its drift,
hand back a prediction run's output as bytes, and summarise the runs over time (health).

Shared by the Predict page and ``python -m core predict`` / ``drift``, so both
refuse a missing, unsupported or unreadable file with the same message
before any work starts, and measure drift on the same rows.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from core.data.sources.sniff import SUPPORTED_EXTENSIONS
from core.platform.errors import InvalidInputError
from core.platform.workspace import Workspace
from core.serve.drift import DriftReport, detect_drift
from core.serve.prediction_runs import PredictionRunInfo

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["DRIFT_ROWS", "check_input_file", "drift_of_file", "health_figure", "health_table", "output_bytes",
           "read_rows"]

# As core.serve.predict: drift is measured on at most this many rows (the first ones).
DRIFT_ROWS = 200_000


def check_input_file(path: str | Path) -> Path:
    """Return ``path`` when it is a readable file of a supported format; else say what is wrong.

    Raises
    ------
    InvalidInputError
        The file does not exist, is a folder, has an unsupported extension,
        or (Parquet) cannot be opened.
    """
    path = Path(path)
    if not path.exists():
        raise InvalidInputError(f"There is no file at {str(path)!r}.", hint="Check the path and try again.")
    if not path.is_file():
        raise InvalidInputError(f"{str(path)!r} is a folder, not a file.", hint="Name one data file.")
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in SUPPORTED_EXTENSIONS:
        listed = ", ".join(f".{e}" for e in SUPPORTED_EXTENSIONS)
        raise InvalidInputError(
            f"Files ending in {'.' + suffix if suffix else '(no extension)'} cannot be read; "
            f"the supported extensions are {listed}.",
            hint="Export the data as CSV, Excel (.xlsx), Parquet or JSON.")
    if suffix == "parquet":
        import pyarrow.parquet as pq

        try:
            pq.ParquetFile(path).close()
        except Exception as exc:  # pyarrow raises ArrowInvalid/OSError for anything it cannot parse
            raise InvalidInputError(f"{path.name} is not a readable Parquet file ({exc}).",
                                    hint="Write the file again, or export it as CSV.") from exc
    return path


def read_rows(path: str | Path, limit: int = DRIFT_ROWS) -> pd.DataFrame:
    """The first ``limit`` rows of a data file (Parquet is streamed, other formats read once).

    Raises
    ------
    InvalidInputError
        The file cannot be read, or it has no rows.
    """
    from core.serve.predict import iter_input

    path = check_input_file(path)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InvalidInputError(f"The row limit must be a whole number from 1 up; got {limit!r}.")
    chunks: list[pd.DataFrame] = []
    taken = 0
    for chunk in iter_input(path, chunk_rows=min(limit, 100_000)):
        chunks.append(chunk.iloc[: limit - taken])
        taken += len(chunks[-1])
        if taken >= limit:
            break
    if taken == 0:
        raise InvalidInputError(f"{path.name} has no rows.", hint="Check that the file is the one you meant.")
    return pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0].reset_index(drop=True)


def drift_of_file(reference: dict[str, Any], path: str | Path, limit: int = DRIFT_ROWS) -> DriftReport:
    """Drift of the first ``limit`` rows of ``path`` against a model's reference statistics."""
    return detect_drift(reference, read_rows(path, limit))


def output_bytes(ws: Workspace, run: PredictionRunInfo, fmt: str) -> bytes:
    """A prediction run's output as ``"csv"`` or ``"parquet"`` bytes (for a download button)."""
    from core.serve.predict import write_output

    fmt = str(fmt).lower().lstrip(".")
    if fmt not in ("csv", "parquet"):
        raise InvalidInputError(f"Predictions can be downloaded as csv or parquet; got {fmt!r}.")
    if not run.artifact_key:
        raise InvalidInputError(f"Prediction run {run.id} has no stored output.")
    ws.settings.staging_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ws.settings.staging_dir) as tmp:
        return write_output(ws, run, Path(tmp) / f"predictions.{fmt}").read_bytes()


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
    return fig
