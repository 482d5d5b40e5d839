"""Scatter plots (WebGL) and target-versus-feature figures.

Above ``max_points`` rows a scatter draws a random sample and says so in its title; the trend
line of a regression target is an ordinary least-squares fit (``numpy.polyfit``) over every row
where both values are present, so sampling the points never moves the line.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative

from core.eda._common import (
    MISSING,
    OTHER,
    Chart,
    capped_categories,
    check_columns,
    check_frame,
    check_positive,
    column_kind,
    datetime_ns,
    label_text,
    numeric_values,
    sample_positions,
)
from core.eda.target import problem_kind
from core.platform.display import format_number

__all__ = ["scatter_figure", "target_figure"]

MAX_POINTS = 50_000
_COLOURS = 10
_GREYS = {OTHER: "#9aa0a6", MISSING: "#d0d4d9"}  # folded and missing values: present but quiet


def _colour(i: int, label: str) -> str:
    return _GREYS.get(label, qualitative.Plotly[i % len(qualitative.Plotly)])


def scatter_figure(
    df: pd.DataFrame,
    x: Any,
    y: Any,
    *,
    color: Any | None = None,
    size: Any | None = None,
    max_points: int = MAX_POINTS,
    seed: int = 0,
) -> Chart:
    """A WebGL scatter of ``y`` against ``x``, optionally coloured and sized by other columns.

    A numeric ``color`` becomes a colour scale, any other one a trace per value (the 10 most
    frequent, the rest as '(other)'); ``size`` must be numeric (marker areas scale with it).
    Above ``max_points`` rows (default 50,000) a random sample is drawn, and the title says so.
    """
    check_frame(df, "The scatter plot")
    check_columns(df, [c for c in (x, y, color, size) if c is not None], "column")
    check_positive("max_points", max_points)
    notes: list[str] = []
    for name in (x, y):
        if column_kind(df[name]) == "empty":
            return Chart(None, [f"{str(name)!r} is missing in every row: there is nothing to draw."])
    if size is not None and column_kind(df[size]) != "numeric":
        notes.append(f"Marker size needs a numeric column; {str(size)!r} is not, so every marker has one size.")
        size = None
    complete = df[x].notna().to_numpy() & df[y].notna().to_numpy()
    if not complete.any():
        return Chart(None, [f"No row has both {str(x)!r} and {str(y)!r}: there is nothing to draw."])
    if not complete.all():
        notes.append(f"{int((~complete).sum()):,} rows missing {str(x)!r} or {str(y)!r} are not drawn.")
    rows = np.flatnonzero(complete)
    positions = sample_positions(len(rows), max_points, seed)
    if positions is not None:
        rows = rows[positions]
    frame = df.iloc[rows]
    title = f"{y} against {x}"
    if positions is not None:
        title += f" (random sample of {len(rows):,} of {int(complete.sum()):,} rows)"
        notes.append(f"Drawing a random sample of {len(rows):,} of {int(complete.sum()):,} rows (seed {seed}).")
    marker: dict[str, Any] = {"size": _sizes(frame[size]) if size is not None else 6, "opacity": 0.7}
    figure = go.Figure()
    hover = (f"{x}: %{{x{_hover_format(df[x])}}}<br>{y}: %{{y{_hover_format(df[y])}}}"
             "<extra>%{fullData.name}</extra>")
    if color is not None and column_kind(df[color]) == "numeric":
        marker |= {"color": numeric_values(frame[color]), "colorscale": "Viridis", "showscale": True,
                   "colorbar": {"title": {"text": str(color)}}}
        figure.add_trace(go.Scattergl(x=_axis(frame[x]), y=_axis(frame[y]), mode="markers", marker=marker,
                                      name=str(y), hovertemplate=hover))
    elif color is not None:
        cats = capped_categories(frame[color], _COLOURS)
        if cats.capped:
            notes.append(f"Colouring the {_COLOURS} most frequent values of {str(color)!r}; the rest are '{OTHER}'.")
        codes = cats.codes
        for code, label in [*enumerate(cats.labels), (-1, MISSING)]:
            keep = codes == code
            if keep.any():
                part = {k: (v[keep] if isinstance(v, np.ndarray) else v) for k, v in marker.items()}
                part["color"] = _colour(code, label)
                figure.add_trace(go.Scattergl(x=_axis(frame[x])[keep], y=_axis(frame[y])[keep], mode="markers",
                                              marker=part, name=label, hovertemplate=hover))
        figure.update_layout(legend={"title": {"text": str(color)}})
    else:
        figure.add_trace(go.Scattergl(x=_axis(frame[x]), y=_axis(frame[y]), mode="markers", marker=marker,
                                      name=str(y), hovertemplate=hover))
    figure.update_layout(title=title, xaxis={"title": str(x)}, yaxis={"title": str(y)}, margin={"t": 60})
    return Chart(figure, notes, None if positions is None else len(rows))


def _hover_format(series: pd.Series) -> str:
    # Numbers by magnitude in the browser (thousands separated, no trailing zeros: 123,457 / 0.91234),
    # as format_number does for the labels computed here; dates and text as they are.
    return ":,~g" if column_kind(series) == "numeric" else ""


def _axis(series: pd.Series) -> np.ndarray:
    """Values plotly can place: numbers, datetimes, or text for anything else."""
    kind = column_kind(series)
    if kind == "numeric":
        return numeric_values(series)
    if kind == "datetime":
        return series.to_numpy()
    return np.asarray([label_text(v) for v in series], dtype=object)


def _sizes(series: pd.Series) -> np.ndarray:
    values = numeric_values(series)
    low, high = np.nanmin(values), np.nanmax(values)
    scaled = (values - low) / (high - low) if high > low else np.zeros(len(values))
    return 4 + 16 * np.sqrt(np.nan_to_num(scaled, nan=0.0))  # area, not diameter, follows the value


def target_figure(
    df: pd.DataFrame,
    feature: Any,
    target: Any,
    kind: str,
    *,
    max_points: int = MAX_POINTS,
    bins: int = 40,
    top_n: int = 10,
    seed: int = 0,
) -> Chart:
    """How one feature relates to the target.

    Classification: the feature's distribution within each class (shares per bin for a numeric
    feature, class shares within each of the ``top_n`` most frequent values for a categorical one).
    Regression: a scatter with its least-squares trend line for a numeric or datetime feature, box
    plots of the target per value for a categorical one.
    """
    check_frame(df, "The target chart")
    check_columns(df, [feature, target], "column")
    kind = problem_kind(kind)
    for name, value in (("max_points", max_points), ("bins", bins), ("top_n", top_n)):
        check_positive(name, value)
    feature_kind, target_kind = column_kind(df[feature]), column_kind(df[target])
    for name, k in ((feature, feature_kind), (target, target_kind)):
        if k == "empty":
            return Chart(None, [f"{str(name)!r} is missing in every row: there is nothing to draw."])
    if feature_kind == "text":
        return Chart(None, [f"{str(feature)!r} is free text: it has no distribution to compare with the target."])
    numeric_feature = feature_kind in ("numeric", "datetime")
    has_target, has_feature = df[target].notna().to_numpy(), df[feature].notna().to_numpy()
    # A category chart draws missing feature values as a category of their own: being missing can
    # itself tell the target (Titanic's body, filled in only for passengers who died).
    rows = has_target & has_feature if numeric_feature else has_target
    if not (rows & has_feature).any():
        return Chart(None, [f"No row has both {str(feature)!r} and {str(target)!r}: there is nothing to draw."])
    frame = df.loc[rows, [feature, target]]
    left_out = "the feature or the target" if numeric_feature else "the target"
    notes = [f"{int((~rows).sum()):,} rows missing {left_out} are not drawn."] if not rows.all() else []
    if not numeric_feature and not has_feature[rows].all():
        notes.append(f"Rows where {str(feature)!r} is missing are drawn as their own category, '{MISSING}'.")
    if kind == "regression":
        if target_kind not in ("numeric", "boolean"):
            return Chart(None, [f"Regression needs a numeric target; {str(target)!r} is {target_kind}."])
        if numeric_feature:
            return _trend(df, feature, target, frame, max_points, seed, notes)
        return _boxes(frame, feature, target, top_n, notes)
    classes = capped_categories(frame[target], top_n)
    if classes.capped:
        notes.append(f"Showing the {top_n} most frequent of {classes.distinct:,} classes; the rest are '{OTHER}'.")
    if numeric_feature:
        notes.extend(_missing_by_class(df, feature, target, has_target))
        return _class_histograms(frame, feature, target, classes, bins, notes)
    return _class_shares(frame, feature, target, classes, top_n, notes)


def _missing_by_class(df, feature, target, has_target) -> list[str]:
    """How often a numeric feature is missing in each class: a histogram cannot draw it."""
    rows = df.loc[has_target, [feature, target]]
    missing = rows[feature].isna()
    if not missing.any():
        return []
    classes = capped_categories(rows[target], _COLOURS)
    shares = []
    for code, label in enumerate(classes.labels):
        in_class = classes.codes == code
        if in_class.any():
            shares.append(f"{missing.to_numpy()[in_class].mean():.0%} of {label!r}")
    return [f"{str(feature)!r} is missing in {int(missing.sum()):,} rows with a target: "
            f"{', '.join(shares)}."]


def _with_missing(cats):
    """Missing values (code -1) as a last category, ``(missing)``."""
    missing = cats.codes < 0
    if not missing.any():
        return cats.codes, list(cats.labels)
    return np.where(missing, len(cats.labels), cats.codes), [*cats.labels, MISSING]


def _trend(df, feature, target, frame, max_points, seed, notes) -> Chart:
    x = _seconds_or_values(frame[feature])
    y = numeric_values(frame[target])
    ok = ~np.isnan(x) & ~np.isnan(y)
    chart = scatter_figure(frame, feature, target, max_points=max_points, seed=seed)
    chart.notes = notes + chart.notes
    if ok.sum() >= 2 and np.ptp(x[ok]) > 0:
        slope, intercept = np.polyfit(x[ok], y[ok], 1)
        r = float(np.corrcoef(x[ok], y[ok])[0, 1]) if np.ptp(y[ok]) > 0 else 0.0
        ends = np.array([x[ok].min(), x[ok].max()])
        line_x = ends if column_kind(frame[feature]) != "datetime" else pd.to_datetime(ends, unit="s")
        chart.figure.add_trace(go.Scatter(x=line_x, y=intercept + slope * ends, mode="lines", name="trend (OLS)",
                                          line={"color": "crimson", "width": 3},
                                          hovertemplate=f"slope {format_number(slope)}, R² {r * r:.3f}<extra></extra>"))
        trend = f"trend: slope {format_number(slope)} per unit, R² {r * r:.3f} over {int(ok.sum()):,} rows"
        chart.figure.update_layout(title=f"{chart.figure.layout.title.text}<br><sup>{trend}</sup>")
    else:
        chart.notes.append(f"{str(feature)!r} has a single value: no trend line.")
    return chart


def _seconds_or_values(series: pd.Series) -> np.ndarray:
    if column_kind(series) == "datetime":
        values = datetime_ns(series).astype(np.float64) / 1e9
        values[series.isna().to_numpy()] = np.nan
        return values
    return numeric_values(series)


def _boxes(frame, feature, target, top_n, notes) -> Chart:
    cats = capped_categories(frame[feature], top_n)
    if cats.capped:
        notes.append(f"Showing the {top_n} most frequent of {cats.distinct:,} values of {str(feature)!r}; the rest "
                     f"are '{OTHER}'.")
    y = numeric_values(frame[target])
    codes, labels = _with_missing(cats)
    figure = go.Figure()
    for code, label in enumerate(labels):
        values = y[(codes == code) & ~np.isnan(y)]
        if not len(values):
            continue
        q1, median, q3 = np.quantile(values, [0.25, 0.5, 0.75])
        reach = 1.5 * (q3 - q1)
        inside = values[(values >= q1 - reach) & (values <= q3 + reach)]
        figure.add_trace(go.Box(x=[label], q1=[q1], median=[median], q3=[q3], lowerfence=[inside.min()],
                                upperfence=[inside.max()], mean=[values.mean()], name=label, showlegend=False))
    figure.update_layout(title=f"{target} by {feature}", xaxis={"title": str(feature), "type": "category"},
                         yaxis={"title": str(target)}, margin={"t": 60})
    return Chart(figure, notes)


def _class_histograms(frame, feature, target, classes, bins, notes) -> Chart:
    x = _seconds_or_values(frame[feature])
    edges = np.histogram_bin_edges(x[~np.isnan(x)], bins=bins)
    is_time = column_kind(frame[feature]) == "datetime"
    centres = (edges[:-1] + edges[1:]) / 2
    figure = go.Figure()
    for code, label in enumerate(classes.labels):
        values = x[classes.codes == code]
        counts, _ = np.histogram(values[~np.isnan(values)], bins=edges)
        if counts.sum():
            figure.add_trace(go.Bar(x=pd.to_datetime(centres, unit="s") if is_time else centres,
                                    y=counts / counts.sum(), name=label, opacity=0.55,
                                    marker={"color": _colour(code, label)},
                                    hovertemplate=f"{label}: %{{y:.1%}} of the class<extra></extra>"))
    figure.update_layout(title=f"{feature} by {target} (share of each class)", barmode="overlay", bargap=0,
                         xaxis={"title": str(feature)}, yaxis={"title": "share of class", "tickformat": ".0%"},
                         legend={"title": {"text": str(target)}}, margin={"t": 60})
    return Chart(figure, notes)


def _class_shares(frame, feature, target, classes, top_n, notes) -> Chart:
    cats = capped_categories(frame[feature], top_n)
    if cats.capped:
        notes.append(f"Showing the {top_n} most frequent of {cats.distinct:,} values of {str(feature)!r}; the rest "
                     f"are '{OTHER}'.")
    codes, labels = _with_missing(cats)
    table = np.zeros((len(labels), len(classes.labels)))
    np.add.at(table, (codes, classes.codes), 1)
    shares = table / np.maximum(table.sum(axis=1, keepdims=True), 1)
    figure = go.Figure([
        go.Bar(x=labels, y=shares[:, j], name=label, customdata=table[:, j], marker={"color": _colour(j, label)},
               hovertemplate=f"{label}: %{{y:.1%}} (%{{customdata:,}} rows)<extra></extra>")
        for j, label in enumerate(classes.labels)
    ])
    figure.update_layout(title=f"Share of each {target} class by {feature}", barmode="stack",
                         xaxis={"title": str(feature), "type": "category"},
                         yaxis={"title": "share of rows", "tickformat": ".0%"},
                         legend={"title": {"text": str(target)}}, margin={"t": 60})
    return Chart(figure, notes)
