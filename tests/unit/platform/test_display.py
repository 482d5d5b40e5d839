"""Words and numbers as the UI shows them, and the one chart style: labels, magnitudes, font sizes, colours."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from core.eda.figures import correlation_figure, distribution_figure
from core.ml.catalogue import ALGORITHMS, algorithm_label
from core.models import figures as mf
from core.platform.chart_style import MIN_FONT_PX, PALETTE, model_colour, model_colours, style
from core.platform.display import format_number, humanize, metric_label


def test_metrics_and_algorithms_have_human_names():
    assert metric_label("balanced_accuracy") == "Balanced accuracy"
    assert metric_label("roc_auc") == "ROC AUC" and metric_label("cv_roc_auc") == "CV ROC AUC"
    assert metric_label("cv_f1_macro_mean") == "CV F1 (macro) (mean)"
    assert metric_label("mutual_information") == "Mutual information"
    assert metric_label("some_new_score") == "Some new score"  # never a code-style key
    assert algorithm_label("logistic_regression") == "Logistic regression"
    assert algorithm_label("stacked_ensemble") == "Stacked ensemble"
    assert all("_" not in algorithm_label(key) for key in ALGORITHMS)
    assert humanize("train_seconds") == "Train seconds"


@pytest.mark.parametrize(("value", "shown"), [
    (31234.567, "31,235"),  # an RMSE of house prices: whole dollars
    (123456, "123,456"), (12.345, "12.3"), (1.2345, "1.23"), (0.91234, "0.912"), (0.000123456, "0.000123"),
    (0, "0"), (-2.5, "-2.50"), (float("nan"), "—"), (None, "—"), (np.float64(0.5), "0.500"),
    (9.99996, "10.0"), (0.09999, "0.100"), (1.23e-7, "1.23e-07"), (4.5e18, "4.50e+18"),  # extremes: exponents
])
def test_numbers_are_formatted_by_magnitude(value, shown):
    assert format_number(value) == shown


def _font_sizes(fig: go.Figure) -> list[int]:
    layout = fig.layout
    sizes = [layout.font.size, layout.legend.font.size, layout.hoverlabel.font.size, layout.title.font.size]
    fig.for_each_xaxis(lambda ax: sizes.append(ax.tickfont.size))
    fig.for_each_yaxis(lambda ax: sizes.append(ax.tickfont.size))
    sizes += [t.textfont.size for t in fig.data if "textfont" in t and t.text is not None]
    return sizes


def test_every_chart_text_is_at_least_14_px():
    card = {"kind": "binary", "curves": {"confusion_matrix": {"labels": [0, 1], "counts": [[50, 10], [5, 35]],
                                                              "normalized": [[0.83, 0.17], [0.12, 0.88]]}}}
    confusion = mf.confusion_matrix_figure(card)
    assert confusion.data[0].textfont.size >= MIN_FONT_PX  # the cell values
    frame = pd.DataFrame({"x": np.arange(200.0), "y": np.arange(200.0) ** 2, "c": ["a", "b"] * 100})
    from core.eda.correlations import compute_correlations

    figures = [confusion, distribution_figure(frame, "x").figure, distribution_figure(frame, "c").figure,
               correlation_figure(compute_correlations(frame)).figure]
    for fig in figures:
        sizes = _font_sizes(fig)
        assert sizes and min(sizes) >= MIN_FONT_PX, sizes
    small = style(go.Figure(go.Bar(x=[1], y=[1], text=["1"], textfont={"size": 9}), layout={"font": {"size": 20}}))
    assert small.data[0].textfont.size == MIN_FONT_PX and small.layout.font.size == 20  # larger text is kept


def test_a_model_keeps_its_colour_and_models_on_one_page_get_distinct_ones():
    names = [f"Logistic regression (titanic-survived:{i})" for i in range(1, 8)]
    assert model_colour(names[0]) == model_colour(names[0]) and model_colour(names[0]) in PALETTE
    colours = model_colours(names)
    assert len(set(colours.values())) == len(names)
    assert model_colours(names) == colours  # the same page draws the same colours every time
    roc = {"kind": "binary", "curves": {"roc": {"1": {"fpr": [0, 1], "tpr": [0, 1], "auc": 0.5}}}}
    fig = mf.roc_figure({names[0]: roc, names[1]: roc}, colours)
    assert [t.line.color for t in fig.data[1:]] == [colours[names[0]], colours[names[1]]]
    assert fig.data[1].name.startswith("Logistic regression")


def test_the_detected_problem_is_said_once():
    from core.data.target import detect_problem

    detected = detect_problem(pd.Series([0, 1, 1, 0, 1]))
    assert detected.reason == "2 distinct numeric values → binary"  # stored on cards as it was
    assert detected.evidence == "2 distinct numeric values"  # for "Detected: binary, from …": no "→ binary" again
    assert detect_problem(None).evidence == "no target"
