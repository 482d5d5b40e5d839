"""The target-vs-feature chart counts missing feature values as a category of their own."""

import numpy as np
import pandas as pd

from core.data.sources.samples import load_sample
from core.eda import target_figure


def test_missing_values_are_their_own_category_in_class_shares():
    titanic = load_sample("titanic")
    chart = target_figure(titanic, "boat", "survived", "classification", top_n=30)
    bars = chart.figure.data
    labels = list(bars[0].x)
    assert labels[-1] == "(missing)"
    missing = labels.index("(missing)")
    rows = sum(t.customdata[missing] for t in bars)
    assert rows == titanic["boat"].isna().sum()  # every passenger without a boat is counted
    died = next(t for t in bars if t.name == "0")
    assert died.y[missing] > 0.9  # nearly everyone without a boat died: the chart now shows it
    assert "Rows where 'boat' is missing are drawn as their own category, '(missing)'." in chart.notes


def test_missing_values_are_a_box_of_their_own_in_regression():
    df = pd.DataFrame({"plan": ["a", "b", None, "a"] * 25, "amount": np.arange(100.0)})
    boxes = target_figure(df, "plan", "amount", "regression").figure
    assert [t.name for t in boxes.data] == ["a", "b", "(missing)"]


def test_a_numeric_feature_reports_how_often_it_is_missing_per_class():
    titanic = load_sample("titanic")
    chart = target_figure(titanic, "body", "survived", "classification")
    note = next(n for n in chart.notes if n.startswith("'body' is missing in"))
    assert "100% of '1'" in note  # no survivor has a body number
