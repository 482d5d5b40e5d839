"""Plotly figures of one column's distribution and of a correlation matrix.

Every figure carries aggregates, never the raw rows: a histogram's bin counts and a box plot's
precomputed quartiles and fences, the most frequent categories, counts per period over time.  A
million-row column therefore makes a figure of a few kilobytes that a browser draws at once.

``log_scale``: a numeric histogram gets log-spaced bins on a log x axis (values <= 0 are left out
and counted in a note); category bars and counts over time get a log y axis.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.eda._common import (
    Chart,
    check_columns,
    check_frame,
    check_positive,
    column_kind,
    date_formats,
    datetime_ns,
    label_text,
    looks_like_dates,
    numeric_values,
    parse_dates,
    sample_positions,
)
from core.eda.correlations import Correlations
from core.platform.display import format_number

__all__ = ["correlation_figure", "distribution_figure"]

_NAT = np.iinfo(np.int64).min
_PARSE_ROWS = 50_000
_PERIODS = (  # (minimum span, numpy unit, label)
    (3 * 365 * 86400, "M", "month"), (120 * 86400, "W", "week"), (3 * 86400, "D", "day"), (0, "h", "hour"),
)


def distribution_figure(
    df: pd.DataFrame, column: Any, *, log_scale: bool = False, bins: int = 50, top_n: int = 30, seed: int = 0
) -> Chart:
    """The distribution of one column, drawn to suit its kind.

    Numeric: histogram with a box plot above it.  Categorical and boolean: bars of the ``top_n``
    most frequent values.  Datetime (or dates written as text): counts per month, week, day or
    hour, whichever suits the span.  Free text: a histogram of text lengths.

    Parameters
    ----------
    df : DataFrame
    column : column name
    log_scale : bool, default False
        See the module docstring.
    bins : int, default 50
    top_n : int, default 30
    seed : int, default 0
        Seed of the sample of text parsed as dates (above 50,000 rows).

    Returns
    -------
    Chart
        ``figure`` is ``None`` when the column is missing in every row.
    """
    check_frame(df, "The distribution chart")
    check_columns(df, [column], "column")
    check_positive("bins", bins)
    check_positive("top_n", top_n)
    series = df[column]
    kind = column_kind(series)
    name = str(column)
    if kind == "empty":
        return Chart(None, [f"{name!r} is missing in every row: there is no distribution to draw."])
    notes: list[str] = []
    missing = int(series.isna().sum())
    if missing:
        notes.append(f"{missing:,} missing values ({missing / len(series):.1%}) are not drawn.")
    if kind == "numeric":
        return _numeric(name, numeric_values(series), log_scale, bins, notes)
    if kind == "datetime":
        ns = datetime_ns(series)
        return _over_time(name, ns[ns != _NAT], log_scale, notes)
    if looks_like_dates(series):
        return _text_dates(name, series, log_scale, seed, notes)
    if kind == "text":
        notes.append(f"{name!r} is free text: showing the length of its values instead of the values.")
        lengths = series.dropna().astype(str).str.len().to_numpy(dtype=np.float64)
        chart = _numeric(name, lengths, log_scale, bins, notes, x_title=f"length of {name} (characters)")
        return chart
    return _bars(name, series, log_scale, top_n, notes)


def _numeric(name: str, values: np.ndarray, log_scale: bool, bins: int, notes: list[str],
             x_title: str | None = None) -> Chart:
    values = values[~np.isnan(values)]
    if log_scale:
        positive = values[values > 0]
        if len(positive) < len(values):
            notes.append(f"Log scale: {len(values) - len(positive):,} values <= 0 cannot be placed on it and are "
                         "left out.")
        if not len(positive):
            return Chart(None, [*notes, f"{name!r} has no value above 0: nothing to draw on a log scale."])
        values = positive
    low, high = float(values.min()), float(values.max())
    whole = False
    if low == high:
        notes.append(f"{name!r} has one value ({label_text(low)}) in every row where it is present.")
        edges = np.array([low - 0.5, high + 0.5]) if not log_scale else np.array([low / 1.1, high * 1.1])
    elif not log_scale and high - low < bins and np.array_equal(values, np.round(values)):
        edges = np.arange(low - 0.5, high + 1.5)  # whole numbers: one bar per value, centred on it
        whole = True
    else:
        edges = np.geomspace(low, high, bins + 1) if log_scale else np.linspace(low, high, bins + 1)
    counts, edges = np.histogram(values, bins=edges)
    q1, median, q3 = np.quantile(values, [0.25, 0.5, 0.75])
    reach = 1.5 * (q3 - q1)
    inside = values[(values >= q1 - reach) & (values <= q3 + reach)]
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.2, 0.8], vertical_spacing=0.03)
    mean = float(values.mean())
    # Hover text is formatted here, by magnitude (house prices in whole dollars, shares to 0.001), not by
    # plotly's own rules; a box's hover is one line however many of its parts the pointer is near.
    summary = (f"median {format_number(median)} · middle half {format_number(q1)} to {format_number(q3)}"
               f"<br>mean {format_number(mean)} · whiskers {format_number(inside.min())} to "
               f"{format_number(inside.max())}")
    figure.add_trace(go.Box(
        y=[name], q1=[q1], median=[median], q3=[q3], lowerfence=[inside.min()], upperfence=[inside.max()],
        mean=[mean], orientation="h", name=name, boxpoints=False, showlegend=False,
        hovertemplate=f"{summary}<extra></extra>", hoveron="boxes",
    ), row=1, col=1)
    figure.add_trace(go.Bar(
        x=(edges[:-1] + edges[1:]) / 2 if not log_scale else np.sqrt(edges[:-1] * edges[1:]), y=counts,
        width=np.diff(edges), name="rows", showlegend=False, marker={"line": {"width": 0}},
        customdata=_bin_labels(edges, whole), hovertemplate="%{customdata}: %{y:,} rows<extra></extra>",
    ), row=2, col=1)
    figure.update_xaxes(type="log" if log_scale else "linear", title_text=x_title or name, row=2, col=1)
    figure.update_xaxes(type="log" if log_scale else "linear", row=1, col=1)
    figure.update_yaxes(title_text="rows", row=2, col=1)
    figure.update_yaxes(showticklabels=False, row=1, col=1)
    figure.update_layout(title=f"Distribution of {name}", bargap=0, margin={"t": 60})
    return Chart(figure, notes)


def _bin_labels(edges: np.ndarray, whole: bool) -> list[str]:
    """Each bar's range in words, numbers by magnitude; a bar per whole value is named by its value."""
    if whole:
        return [format_number(lo + 0.5) for lo in edges[:-1]]
    return [f"{format_number(lo)} to {format_number(hi)}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]


def _bars(name: str, series: pd.Series, log_scale: bool, top_n: int, notes: list[str]) -> Chart:
    counts = series.value_counts(dropna=True)
    counts = counts[counts > 0]
    shown = counts.iloc[:top_n]
    if len(counts) > top_n:
        rest = int(counts.iloc[top_n:].sum())
        notes.append(f"Showing the {top_n} most frequent of {len(counts):,} distinct values; the other "
                     f"{len(counts) - top_n:,} cover {rest:,} rows ({rest / counts.sum():.1%}).")
    labels = [label_text(v) for v in shown.index]
    figure = go.Figure(go.Bar(
        x=shown.to_numpy(), y=labels, orientation="h", text=[f"{c / counts.sum():.1%}" for c in shown],
        textposition="auto", hovertemplate="%{y}: %{x:,} rows<extra></extra>",
    ))
    figure.update_layout(
        title=f"Most frequent values of {name}", margin={"t": 60}, height=max(300, 22 * len(shown) + 120),
        yaxis={"autorange": "reversed", "type": "category"},
        xaxis={"title": "rows", "type": "log" if log_scale else "linear"},
    )
    return Chart(figure, notes)


def _over_time(name: str, ns: np.ndarray, log_scale: bool, notes: list[str]) -> Chart:
    moments = ns.view("datetime64[ns]")
    span = (int(ns.max()) - int(ns.min())) / 1e9
    unit, label = next((u, lab) for minimum, u, lab in _PERIODS if span >= minimum)
    if unit == "W":  # numpy weeks start on Thursday (1970-01-01): shift so they start on Monday
        days = moments.astype("datetime64[D]").astype(np.int64)
        periods = (days - (days + 3) % 7).astype("datetime64[D]")
    else:
        periods = moments.astype(f"datetime64[{unit}]")
    counts = pd.Series(periods).value_counts().sort_index()
    figure = go.Figure(go.Bar(x=counts.index, y=counts.to_numpy(), marker={"line": {"width": 0}},
                              hovertemplate=f"{label} of %{{x}}: %{{y:,}} rows<extra></extra>"))
    figure.update_layout(title=f"{name}: rows per {label}", bargap=0.05, margin={"t": 60},
                         yaxis={"title": "rows", "type": "log" if log_scale else "linear"}, xaxis={"title": name})
    return Chart(figure, notes)


def _text_dates(name: str, series: pd.Series, log_scale: bool, seed: int, notes: list[str]) -> Chart:
    present = series.dropna()
    positions = sample_positions(len(present), _PARSE_ROWS, seed)
    used = present if positions is None else present.iloc[positions]
    parsed = parse_dates(used)
    unread = int(parsed.isna().sum())
    examples = ", ".join(map(repr, date_formats(used)))
    notes.append(f"{name!r} holds dates written as text ({examples}); they were read in whichever format each "
                 "value uses" + (f", {unread:,} could not be read and are not drawn." if unread else "."))
    if positions is not None:
        notes.append(f"Counts come from a random sample of {len(used):,} of the {len(present):,} values (seed {seed}).")
    ns = datetime_ns(parsed.dropna())
    if not len(ns):
        return Chart(None, notes, None if positions is None else len(used))
    chart = _over_time(name, ns, log_scale, notes)
    chart.sampled_rows = None if positions is None else len(used)
    return chart


def correlation_figure(result: Correlations, *, max_columns: int = 40) -> Chart:
    """A heatmap of a :class:`Correlations` matrix, red for positive, blue for negative.

    Above ``max_columns`` columns it keeps those with the strongest correlations and says so.
    """
    check_positive("max_columns", max_columns)
    notes = list(result.notes)
    matrix = result.matrix
    if matrix.shape[0] < 2:
        return Chart(None, notes, result.sampled_rows)
    if len(matrix) > max_columns:
        strength = matrix.abs().where(~np.eye(len(matrix), dtype=bool)).max().fillna(0)
        keep = strength.sort_values(ascending=False, kind="stable").index[:max_columns]
        matrix = matrix.loc[[c for c in matrix.index if c in set(keep)], [c for c in matrix.columns if c in set(keep)]]
        notes.append(f"Showing the {max_columns} of {len(result.matrix)} columns with the strongest correlations.")
    labels = [str(c) for c in matrix.columns]
    measures = result.measures.loc[matrix.index, matrix.columns].to_numpy()
    values = matrix.to_numpy()
    figure = go.Figure(go.Heatmap(
        z=values, x=labels, y=labels, zmin=-1, zmax=1, colorscale="RdBu", reversescale=True,
        text=np.where(np.isnan(values), "", np.vectorize(lambda v: f"{v:.2f}")(np.nan_to_num(values))),
        texttemplate="%{text}" if len(labels) <= 15 else None, customdata=measures,
        hovertemplate="%{y} × %{x}<br>%{customdata}: %{z:.3f}<extra></extra>",
    ))
    title = {"pearson": "Pearson correlation", "spearman": "Spearman correlation",
             "associations": "Associations (r, Cramér's V, eta)"}[result.method]
    if result.sampled_rows:
        title += f", random sample of {result.sampled_rows:,} rows"
    figure.update_layout(title=title, yaxis={"autorange": "reversed"}, margin={"t": 60},
                         height=max(400, 18 * len(labels) + 200))
    return Chart(figure, notes, result.sampled_rows)
