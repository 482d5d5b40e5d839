"""describe_dataset and format_overview: hand-checked statistics, sampling, duplicates, memory, JSON."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from core.eda import describe_dataset, format_overview
from core.platform.errors import InvalidInputError


def summary_of(overview, name):
    return next(c for c in overview.column_summaries if c.name == name)


def test_numeric_statistics_of_a_known_sample():
    # [1, 2, 3, 4, 10]: mean 4, deviations -3 -2 -1 0 6, m2 = 10, m3 = 36, m4 = 278.8.
    # skew G1 = (36 / 10**1.5) * sqrt(5*4) / 3 = 1.2 * sqrt(2); kurtosis G2 = ((6 * -0.212) + 6) * 4 / 6 = 3.152
    overview = describe_dataset(pd.DataFrame({"v": [1.0, 2, 3, 4, 10]}))
    v = summary_of(overview, "v")
    assert v.kind == "numeric" and v.count == 5 and v.missing == 0 and v.unique == 5
    assert v.mean == pytest.approx(4.0)
    assert v.std == pytest.approx(np.sqrt(50 / 4))
    assert (v.min, v.p25, v.p50, v.p75, v.max) == (1.0, 2.0, 3.0, 4.0, 10.0)
    assert v.skew == pytest.approx(1.2 * np.sqrt(2))
    assert v.kurtosis == pytest.approx(3.152)
    assert overview.sampled_rows is None and overview.sampled_stats == ()


def test_moments_match_pandas_with_missing_and_infinite_values():
    rng = np.random.default_rng(1)
    values = rng.lognormal(size=5000)
    values[::17] = np.nan
    values[5] = np.inf
    overview = describe_dataset(pd.DataFrame({"v": values}))
    v = summary_of(overview, "v")
    finite = pd.Series(values).replace(np.inf, np.nan)
    assert v.missing == int(np.isnan(values).sum())
    assert v.count == 5000 - v.missing  # the infinite value counts as present...
    assert v.mean == pytest.approx(finite.mean())  # ...but stays out of the statistics
    assert v.std == pytest.approx(finite.std())
    assert v.skew == pytest.approx(finite.skew())
    assert v.kurtosis == pytest.approx(finite.kurt())
    assert any("1 infinite values" in n for n in overview.notes)


def test_categorical_counts_top_values_and_missing_share():
    df = pd.DataFrame({"city": ["Porto", "Lisbon", "Porto", None, "Faro", "Porto", "Lisbon", None]})
    c = summary_of(describe_dataset(df, top=2), "city")
    assert (c.kind, c.count, c.missing, c.unique) == ("categorical", 6, 2, 3)
    assert c.missing_pct == pytest.approx(0.25)
    assert [(t.value, t.count) for t in c.top] == [("Porto", 3), ("Lisbon", 2)]
    assert c.top[0].share == pytest.approx(0.5)


def test_dataset_level_figures_and_types():
    df = pd.DataFrame({
        "n": [1.0, 2.0, np.nan, 4.0],
        "c": ["a", "b", "a", None],
        "b": [True, False, True, True],
        "t": pd.to_datetime(["2021-01-01", "2021-06-01", None, "2022-01-01"]),
    })
    overview = describe_dataset(df)
    assert (overview.rows, overview.columns) == (4, 4)
    assert overview.missing_cells == 3
    assert overview.missing_cells_pct == pytest.approx(3 / 16)
    assert overview.types == {"numeric": 1, "categorical": 1, "boolean": 1, "datetime": 1}
    t = summary_of(overview, "t")
    assert (t.earliest, t.latest, t.missing) == ("2021-01-01T00:00:00", "2022-01-01T00:00:00", 1)


def test_memory_equals_pandas_deep_memory_usage():
    df = pd.DataFrame({"s": ["alpha", "beta", None, "alpha", "gamma"] * 20, "x": np.arange(100.0)})
    assert describe_dataset(df).memory_bytes == int(df.memory_usage(index=True, deep=True).sum())


def test_duplicate_rows_match_dataframe_duplicated():
    df = pd.DataFrame({
        "a": [1.0, 1.0, np.nan, np.nan, 0.0, -0.0, 2.0, 1.0],
        "b": ["x", "x", None, None, "y", "y", "z", "w"],
        "c": pd.to_datetime(["2020-01-01"] * 7 + ["2020-01-02"]),
    })
    overview = describe_dataset(df)
    assert overview.duplicate_rows == int(df.duplicated().sum()) == 3
    assert overview.duplicate_rows_pct == pytest.approx(3 / 8)


def test_duplicates_with_free_text_and_many_rows():
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"k": rng.integers(0, 50, 3000), "s": [f"note number {i % 700} " * 3 for i in range(3000)]})
    assert describe_dataset(df).duplicate_rows == int(df.duplicated().sum())


def test_large_frames_use_a_sample_and_say_so():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"x": rng.normal(size=5000), "c": rng.choice(["a", "b"], 5000)})
    overview = describe_dataset(df, sample_rows=1000)
    assert overview.sampled_rows == 1000
    assert set(overview.sampled_stats) == {"p25", "p50", "p75", "unique", "top"}
    assert "random sample of 1,000 of the 5,000 rows (seed 0)" in overview.notes[0]
    x = summary_of(overview, "x")
    assert x.mean == pytest.approx(df["x"].mean())  # exact, every row
    assert x.p50 == pytest.approx(df["x"].median(), abs=0.1)  # from the sample
    c = summary_of(overview, "c")
    assert sum(t.count for t in c.top) == 5000  # categorical counts use every row


def test_to_dict_is_plain_json():
    df = pd.DataFrame({"x": np.arange(10.0), "c": list("aabbccddee"), "t": pd.date_range("2020", periods=10)})
    payload = describe_dataset(df).to_dict()
    again = json.loads(json.dumps(payload))
    assert again["rows"] == 10 and again["column_summaries"][0]["mean"] == 4.5


def test_table_has_one_row_per_column():
    df = pd.DataFrame({"x": [1.0, 2.0, 2.0], "c": ["a", "a", "b"]})
    table = describe_dataset(df).table()
    assert list(table["name"]) == ["x", "c"]
    assert table.loc[1, "top"] == "a (66.7%), b (33.3%)"
    assert {"count", "missing_pct", "unique", "mean", "std", "min", "p25", "p50", "p75", "max", "skew",
            "kurtosis"} <= set(table.columns)


def test_format_overview_prints_shape_table_and_notes():
    df = pd.DataFrame({"price": [1.5, 2.5, np.nan, 4.0], "city": ["Porto", "Faro", "Porto", "Porto"],
                       "empty": [None] * 4})
    text = format_overview(describe_dataset(df))
    lines = text.splitlines()
    assert lines[0].startswith("Rows: 4    Columns: 3    Memory: ")
    assert "Missing cells: 5 (41.7%)" in text
    header = next(line for line in lines if line.startswith("column"))
    assert header.split()[:6] == ["column", "kind", "count", "missing", "unique", "mean"]
    price = next(line for line in lines if line.startswith("price "))
    assert price.split()[:5] == ["price", "numeric", "3", "1", "(25%)"]
    assert "Porto 75.0%, Faro 25.0%" in text
    assert "- 'empty' is missing in every row" in text


def test_zero_rows_gives_the_schema_only():
    df = pd.DataFrame({"x": pd.Series([], dtype=float), "c": pd.Series([], dtype=object)})
    overview = describe_dataset(df)
    assert overview.rows == 0 and overview.columns == 2
    assert [c.kind for c in overview.column_summaries] == ["numeric", "categorical"]
    assert overview.notes == ["The dataset has no rows: only the column names and types can be shown."]
    assert "Rows: 0" in format_overview(overview)


def test_refuses_what_is_not_a_frame():
    with pytest.raises(InvalidInputError, match="needs a pandas DataFrame; got list"):
        describe_dataset([1, 2, 3])
    with pytest.raises(InvalidInputError, match="at least one column"):
        describe_dataset(pd.DataFrame())
    with pytest.raises(InvalidInputError, match="'top' parameter must be a positive integer"):
        describe_dataset(pd.DataFrame({"x": [1]}), top=0)
    with pytest.raises(InvalidInputError, match="unique column names; these appear more than once: a"):
        describe_dataset(pd.DataFrame([[1, 2]], columns=["a", "a"]))


def test_timezone_aware_datetimes_keep_their_zone():
    when = pd.Series(pd.to_datetime(["2024-03-01 10:00", "2024-07-01 12:30"]).tz_localize("Europe/Lisbon"))
    t = summary_of(describe_dataset(pd.DataFrame({"when": when})), "when")
    assert (t.earliest, t.latest) == ("2024-03-01T10:00:00+00:00", "2024-07-01T12:30:00+01:00")
