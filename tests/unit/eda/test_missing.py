"""summarize_missing and missingness_figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.eda import missingness_figure, summarize_missing


def frame_with_holes() -> pd.DataFrame:
    # a and b go missing in the same rows (0-2); c in rows 1 and 7; d never.
    return pd.DataFrame({
        "a": [np.nan, np.nan, np.nan, 1, 2, 3, 4, 5, 6, 7],
        "b": [None, None, None, "x", "y", "x", "y", "x", "y", "x"],
        "c": [1.0, np.nan, 3, 4, 5, 6, 7, np.nan, 9, 10],
        "d": range(10),
    })


def test_counts_and_shares_per_column():
    result = summarize_missing(frame_with_holes())
    per_column = result.per_column.set_index("column")
    assert per_column["missing"].to_dict() == {"a": 3, "b": 3, "c": 2, "d": 0}
    assert per_column.loc["c", "missing_pct"] == pytest.approx(0.2)
    assert list(result.per_column["column"][:2]) == ["a", "b"]  # most missing first
    assert (result.missing_cells, result.rows_with_missing) == (8, 4)
    assert result.missing_cells_pct == pytest.approx(8 / 40)


def test_columns_that_go_missing_together():
    df = frame_with_holes()
    result = summarize_missing(df)
    first = result.together.iloc[0]
    assert {first.column_a, first.column_b} == {"a", "b"}
    assert first.correlation == pytest.approx(1.0) and first.both_missing == 3
    indicators = df[["a", "b", "c"]].isna().astype(float)
    second = result.together.set_index(["column_a", "column_b"])
    # phi of two missingness indicators equals their Pearson correlation
    assert second.loc[("a", "c"), "correlation"] == pytest.approx(indicators["a"].corr(indicators["c"]))
    assert second.loc[("a", "c"), "both_missing"] == 1
    assert any("'a' and 'b' tend to be missing in the same rows (correlation 1.00, both missing in 3 rows)" in n
               for n in result.notes)


def test_pair_counts_are_exact_past_a_64_row_word():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(1000, 4)), columns=list("wxyz"))
    for name, share in zip("wxyz", (0.1, 0.3, 0.5, 0.0), strict=True):
        df.loc[rng.random(1000) < share, name] = np.nan
    result = summarize_missing(df)
    isna = df.isna()
    for row in result.together.itertuples():
        assert row.both_missing == int((isna[row.column_a] & isna[row.column_b]).sum())
    assert result.rows_with_missing == int(isna.any(axis=1).sum())


def test_nothing_missing_and_all_missing_are_said():
    assert summarize_missing(pd.DataFrame({"x": [1, 2]})).notes == ["No value is missing in any column."]
    result = summarize_missing(pd.DataFrame({"x": [1, 2], "gone": [None, None]}))
    assert "Missing in every row: 'gone'." in result.notes
    assert result.together.empty and result.rows_with_missing == 2


def test_missingness_matrix_samples_rows_and_says_so():
    df = frame_with_holes()
    chart = missingness_figure(df)
    heatmap = chart.figure.data[0]
    assert np.asarray(heatmap.z).shape == (10, 4) and chart.sampled_rows is None
    assert np.asarray(heatmap.z)[0].tolist() == [1, 1, 0, 0]
    big = pd.concat([df] * 100, ignore_index=True)
    chart = missingness_figure(big, max_rows=50, max_columns=2)
    assert np.asarray(chart.figure.data[0].z).shape == (50, 2) and chart.sampled_rows == 50
    assert "Showing a random sample of 50 of the 1,000 rows, in their order (seed 0)." in chart.notes
    assert "Showing the 2 columns with the most missing values of 4." in chart.notes
