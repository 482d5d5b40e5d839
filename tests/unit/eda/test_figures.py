"""distribution_figure and scatter_figure: what they draw and what they say."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.eda import distribution_figure, scatter_figure
from core.platform.errors import InvalidInputError


def test_numeric_distribution_is_a_histogram_with_a_box_plot():
    df = pd.DataFrame({"v": [1.0, 2, 3, 4, 5, 6, 7, 8, 9, 100, np.nan]})
    chart = distribution_figure(df, "v", bins=10)
    box, bars = chart.figure.data
    assert (box.type, bars.type) == ("box", "bar")
    assert sum(bars.y) == 10 and len(bars.y) == 10
    assert (box.q1[0], box.median[0], box.q3[0]) == (3.25, 5.5, 7.75)
    assert (box.lowerfence[0], box.upperfence[0]) == (1.0, 9.0)  # 100 lies beyond Q3 + 1.5 IQR = 14.5
    assert chart.notes == ["1 missing values (9.1%) are not drawn."]


def test_log_scale_uses_log_bins_and_drops_values_at_or_below_zero():
    df = pd.DataFrame({"v": [-1.0, 0.0, 1, 10, 100, 1000]})
    chart = distribution_figure(df, "v", log_scale=True, bins=3)
    bars = chart.figure.data[1]
    assert list(bars.y) == [1, 1, 2] and chart.figure.layout.xaxis2.type == "log"
    assert "Log scale: 2 values <= 0 cannot be placed on it and are left out." in chart.notes


def test_categorical_bars_are_capped_to_the_most_frequent():
    df = pd.DataFrame({"code": [f"c{i % 40}" for i in range(400)] + ["c0"] * 10})
    chart = distribution_figure(df, "code", top_n=5)
    bars = chart.figure.data[0]
    assert len(bars.y) == 5 and bars.y[0] == "c0" and bars.x[0] == 20
    assert chart.notes == ["Showing the 5 most frequent of 40 distinct values; the other 35 cover 350 rows (85.4%)."]
    assert distribution_figure(df, "code", log_scale=True).figure.layout.xaxis.type == "log"


def test_datetimes_are_counted_per_period():
    days = pd.Series(pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-02", "2024-01-05", None]))
    chart = distribution_figure(pd.DataFrame({"when": days}), "when")
    bars = chart.figure.data[0]
    assert chart.figure.layout.title.text == "when: rows per day"
    assert list(bars.y) == [2, 1, 1]
    long = pd.DataFrame({"when": pd.date_range("2015-01-01", periods=2000, freq="D")})
    assert distribution_figure(long, "when").figure.layout.title.text == "when: rows per month"
    weeks = pd.DataFrame({"when": pd.date_range("2024-01-01", periods=200, freq="D")})  # a Monday
    chart = distribution_figure(weeks, "when")
    assert chart.figure.layout.title.text == "when: rows per week"
    assert pd.Timestamp(chart.figure.data[0].x[0]).day_name() == "Monday" and chart.figure.data[0].y[0] == 7


def test_dates_written_as_text_in_mixed_formats_are_read_and_said():
    dates = ["2024-01-03", "03/01/2024", "Jan 3 2024", "2024-01-04 10:00", "2024-02-01"]
    text = (dates * 2 + ["31/02/2024", None]) * 5  # one in eleven cannot be a date (no 31 February)
    chart = distribution_figure(pd.DataFrame({"signup": text}), "signup")
    assert chart.figure is not None and sum(chart.figure.data[0].y) == 50
    assert chart.figure.layout.title.text == "signup: rows per day"
    assert any("holds dates written as text ('2024-01-03', '03/01/2024', 'Jan 3 2024')" in n
               and "5 could not be read" in n for n in chart.notes)


def test_free_text_shows_lengths():
    df = pd.DataFrame({"review": [f"review {i}: " + "x" * (40 + i % 7) for i in range(200)]})
    chart = distribution_figure(df, "review")
    assert "'review' is free text: showing the length of its values instead of the values." in chart.notes
    assert chart.figure.layout.xaxis2.title.text == "length of review (characters)"


def test_scatter_is_webgl_and_samples_above_the_limit():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=500), "y": rng.normal(size=500), "g": rng.choice(list("ab"), 500),
                       "s": rng.random(500), "t": ["t"] * 500})
    chart = scatter_figure(df, "x", "y", max_points=100)
    assert chart.figure.data[0].type == "scattergl" and len(chart.figure.data[0].x) == 100
    assert chart.sampled_rows == 100
    assert "(random sample of 100 of 500 rows)" in chart.figure.layout.title.text
    coloured = scatter_figure(df, "x", "y", color="g", size="s")
    assert {t.name for t in coloured.figure.data} == {"a", "b"}
    assert sum(len(t.x) for t in coloured.figure.data) == 500 and coloured.sampled_rows is None
    assert 4 <= min(coloured.figure.data[0].marker.size) and max(coloured.figure.data[0].marker.size) <= 20
    shaded = scatter_figure(df, "x", "y", color="s", size="t")
    assert shaded.figure.data[0].marker.showscale
    assert "Marker size needs a numeric column; 't' is not, so every marker has one size." in shaded.notes


def test_scatter_explains_missing_values():
    df = pd.DataFrame({"x": [1.0, np.nan, 3.0], "y": [np.nan, 2.0, np.nan], "gone": [np.nan] * 3})
    chart = scatter_figure(df, "x", "y")
    assert chart.figure is None and chart.notes == ["No row has both 'x' and 'y': there is nothing to draw."]
    chart = scatter_figure(df, "x", "gone")
    assert chart.notes == ["'gone' is missing in every row: there is nothing to draw."]


def test_unknown_columns_and_bad_parameters_are_refused():
    df = pd.DataFrame({"x": [1.0, 2.0]})
    with pytest.raises(InvalidInputError, match="The column 'y' is not a column of the dataset; it has 'x'"):
        distribution_figure(df, "y")
    with pytest.raises(InvalidInputError, match="'bins' parameter must be a positive integer; got 0"):
        distribution_figure(df, "x", bins=0)
    with pytest.raises(InvalidInputError, match="The columns 'a', 'b' are not columns of the dataset; it has 'x'"):
        scatter_figure(df, "a", "b")


def test_whole_numbers_get_one_bar_per_value():
    chart = distribution_figure(pd.DataFrame({"children": [0, 0, 1, 2, 2, 2, 4]}), "children")
    bars = chart.figure.data[1]
    assert list(bars.x) == [0, 1, 2, 3, 4] and list(bars.y) == [2, 1, 3, 0, 1]


def test_numbers_written_as_text_are_not_dates():
    chart = distribution_figure(pd.DataFrame({"score": ["3.5", "2.7", "10.1", "3.5"] * 10}), "score")
    assert chart.figure.data[0].type == "bar" and chart.figure.layout.title.text == "Most frequent values of score"


def test_hover_text_gives_numbers_by_magnitude():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"price": rng.lognormal(12, 0.4, 1_000), "rooms": rng.integers(1, 6, 1_000),
                       "share": rng.uniform(0, 0.01, 1_000)})
    box, bars = distribution_figure(df, "price").figure.data
    assert all("." not in label and "," in label for label in bars.customdata)  # house prices: whole dollars
    assert bars.hovertemplate == "%{customdata}: %{y:,} rows<extra></extra>"
    assert "median " in box.hovertemplate and "." not in box.hovertemplate.split("<extra>")[0].replace("·", "")
    _, rooms = distribution_figure(df, "rooms").figure.data
    assert list(rooms.customdata) == ["1", "2", "3", "4", "5"]  # a bar per whole value is named by it
    _, shares = distribution_figure(df, "share").figure.data
    assert shares.customdata[1].startswith("0.000") and " to 0.000" in shares.customdata[1]
    [points] = scatter_figure(df, "price", "share").figure.data
    assert "%{x:,~g}" in points.hovertemplate and "%{y:,~g}" in points.hovertemplate
