"""Every EDA function against every awkward dataset the issue names (the convention in core/eda/__init__.py).

Zero rows: InvalidInputError (the overview alone still shows the schema).  Everything else: a
result whose notes name the column and the reason, never an exception or a warning (pytest turns
warnings into errors).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from core import eda
from core.eda.profiling import profile_report_html
from core.platform.errors import InvalidInputError

ROWS = 30_000


@pytest.fixture(scope="module")
def awkward() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    days = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 900, ROWS), unit="D")
    formats = ["%Y-%m-%d", "%d/%m/%Y", "%b %d %Y", "%Y-%m-%d %H:%M"]
    words = np.array("the a quick slow brown red fox dog jumps runs over under lazy happy cat".split())
    x = rng.normal(size=ROWS)
    return pd.DataFrame({
        "x": x,
        "y": 2 * x + rng.normal(size=ROWS),
        "empty": np.full(ROWS, np.nan),
        "constant": np.full(ROWS, 7.0),
        "comment": [f"review {i}: " + " ".join(rng.choice(words, 8)) for i in range(ROWS)],
        "zip": [f"Z{v:05d}" for v in rng.permutation(np.arange(ROWS) % 10_000)],
        "signup": [d.strftime(formats[i % 4]) for i, d in enumerate(days)],
        "label": rng.choice(["yes", "no"], ROWS),
    })


def notes_of(result) -> str:
    return "\n".join(result.notes)


# Each entry: what the page would call, on a frame, as notes-carrying results.
CALLS: dict[str, Callable[[pd.DataFrame], list]] = {
    "overview": lambda df: [eda.describe_dataset(df)],
    "pearson": lambda df: [eda.compute_correlations(df, "pearson")],
    "associations": lambda df: [eda.compute_correlations(df, "associations")],
    "missing": lambda df: [eda.summarize_missing(df), eda.missingness_figure(df)],
    "outliers": lambda df: [eda.detect_outliers(df, forest_rows=2000), eda.outlier_rows(df, "iqr")],
    "target": lambda df: [eda.analyze_target(df, df.columns[-1], "regression" if df.shape[1] == 1 else
                                             "classification")],
    "distributions": lambda df: [eda.distribution_figure(df, c) for c in df.columns],
    "scatter": lambda df: [eda.scatter_figure(df, df.columns[0], df.columns[-1])],
    "correlation figure": lambda df: [eda.correlation_figure(eda.compute_correlations(df, "associations"))],
}

ZERO_ROW_CALLS = {name: call for name, call in CALLS.items() if name != "overview"} | {
    "profile": lambda df: [profile_report_html(df, title="t")],
    "target figure": lambda df: [eda.target_figure(df, "x", "x", "regression")],
}


@pytest.mark.parametrize("name", sorted(ZERO_ROW_CALLS))
def test_zero_rows_are_refused_with_a_message(name):
    empty = pd.DataFrame({"x": pd.Series([], dtype=float), "c": pd.Series([], dtype=object)})
    with pytest.raises(InvalidInputError, match="0 rows"):
        ZERO_ROW_CALLS[name](empty)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_a_single_column_dataset_never_fails(name):
    results = CALLS[name](pd.DataFrame({"x": [1.0, 2.0, 3.0, 2.0, 50.0]}))
    assert results
    if name in ("pearson", "associations", "correlation figure"):
        assert "Correlations need at least two columns that vary; 1 of the 1 columns can take part: 'x'." in \
            results[0].notes
    if name == "overview":
        assert "single column" in notes_of(results[0])
    if name == "target":
        assert "the dataset has no other column" in notes_of(results[0])


def test_overview_names_each_awkward_column(awkward):
    text = notes_of(eda.describe_dataset(awkward))
    assert "'empty' is missing in every row" in text
    assert "'constant' has the same value (7) in every row where it is present (constant)" in text
    assert "'comment' looks like free text (30,000 distinct values" in text
    assert "'zip' has 10,000 distinct values: charts show the most frequent ones" in text
    assert "'signup' holds dates written as text ('2022-02-04', '27/07/2021', 'Apr 05 2021')" in text


@pytest.mark.parametrize("method", ["pearson", "spearman", "associations"])
def test_correlations_name_what_they_leave_out(awkward, method):
    result = eda.compute_correlations(awkward, method)
    text = notes_of(result)
    assert "Left out (missing in every row): 'empty'." in text
    assert "Left out (constant): 'constant'." in text
    assert "Left out (free text): 'comment'." in text
    if method == "associations":
        assert "'zip' has 10,000 distinct values: its 50 most frequent are kept" in text
        assert {"x", "y", "zip", "signup", "label"} == set(result.matrix.columns)
    else:
        assert "Left out (categorical, not numeric) (method='associations' includes them): 'zip', 'signup', " \
               "'label'." in text
        assert list(result.matrix.columns) == ["x", "y"]


def test_missing_outliers_and_target_name_what_they_leave_out(awkward):
    assert "Missing in every row: 'empty'." in eda.summarize_missing(awkward).notes
    outliers = notes_of(eda.detect_outliers(awkward, forest_rows=2000))
    assert "No outliers for (no value): 'empty'." in outliers and "No outliers for (constant): 'constant'." in outliers
    target = eda.analyze_target(awkward, "label", "classification")
    text = notes_of(target)
    assert "Left out (missing in every row): 'empty'." in text and "Left out (free text): 'comment'." in text
    assert "'zip' has 7,097 distinct values: its 50 most frequent are kept" in text  # in the 10,000-row sample
    assert {"x", "y", "zip", "signup"} == set(target.ranking["feature"])


def test_distributions_of_each_awkward_column(awkward):
    charts = {c: eda.distribution_figure(awkward, c) for c in awkward.columns}
    assert charts["empty"].figure is None
    assert charts["empty"].notes == ["'empty' is missing in every row: there is no distribution to draw."]
    assert "'constant' has one value (7) in every row where it is present." in charts["constant"].notes
    assert "'comment' is free text: showing the length of its values instead of the values." in charts["comment"].notes
    assert len(charts["zip"].figure.data[0].y) == 30
    assert charts["zip"].notes[0].startswith("Showing the 30 most frequent of 10,000 distinct values")
    assert charts["signup"].figure.layout.title.text == "signup: rows per week"
    assert "holds dates written as text" in charts["signup"].notes[0]


def test_figures_on_awkward_columns_say_why_they_are_empty(awkward):
    assert eda.scatter_figure(awkward, "x", "empty").figure is None
    chart = eda.target_figure(awkward, "empty", "label", "classification")
    assert chart.figure is None and chart.notes == ["'empty' is missing in every row: there is nothing to draw."]
    zip_chart = eda.target_figure(awkward, "zip", "label", "classification")
    assert "Showing the 10 most frequent of 10,000 values of 'zip'; the rest are '(other)'." in zip_chart.notes


def test_cells_holding_lists_are_shown_as_text():
    df = pd.DataFrame({"tags": [["a", "b"], ["c"], None, ["a", "b"]] * 50, "x": np.arange(200.0)})
    overview = eda.describe_dataset(df)
    tags = next(c for c in overview.column_summaries if c.name == "tags")
    assert (tags.kind, tags.missing, tags.unique) == ("text", 50, 2)
    assert overview.duplicate_rows == 0
    assert "Left out (free text): 'tags'." in eda.compute_correlations(df, "associations").notes
    assert eda.distribution_figure(df, "tags").figure is not None
