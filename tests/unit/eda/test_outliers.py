"""detect_outliers and outlier_rows: IQR and z-score on known series, the isolation forest, the rows to drop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.eda import detect_outliers, outlier_rows
from core.platform.errors import InvalidInputError

KNOWN = [1.0, 2, 3, 4, 5, 6, 7, 8, 9, 100]


def test_iqr_rule_on_a_known_series():
    # linear quartiles of 1..9, 100: Q1 = 3.25, Q3 = 7.75, IQR = 4.5, fences -3.5 and 14.5
    result = detect_outliers(pd.DataFrame({"v": KNOWN}), forest=False)
    row = result.per_column.iloc[0]
    assert (row.q1, row.q3, row.iqr) == (3.25, 7.75, 4.5)
    assert (row.low_fence, row.high_fence) == (-3.5, 14.5)
    assert row.iqr_outliers == 1 and row.iqr_pct == pytest.approx(0.1)


def test_z_score_on_a_known_series():
    # mean 14.5, sample std sqrt(8182.5 / 9) = 30.15, so 100 sits at z = 85.5 / 30.15 = 2.84: not beyond 3
    result = detect_outliers(pd.DataFrame({"v": KNOWN}), forest=False)
    row = result.per_column.iloc[0]
    assert row["mean"] == pytest.approx(14.5) and row["std"] == pytest.approx(np.sqrt(8182.5 / 9))
    assert row.z_outliers == 0
    looser = detect_outliers(pd.DataFrame({"v": KNOWN}), z_threshold=2.5, forest=False)
    assert looser.per_column.loc[0, "z_outliers"] == 1
    extreme = result.extreme_rows.iloc[0]
    assert (extreme.row, extreme.column, extreme.value) == (9, "v", 100.0)
    assert extreme.z == pytest.approx(85.5 / np.sqrt(8182.5 / 9))


def test_outlier_rows_gives_the_rows_to_drop():
    df = pd.DataFrame({"v": KNOWN, "w": [0.0] * 9 + [1.0], "label": list("abcdefghij")},
                      index=[f"r{i}" for i in range(10)])
    selection = outlier_rows(df, "iqr", columns=["v"])
    assert selection.count == 1 and list(selection.index) == ["r9"]
    assert selection.mask.index.equals(df.index) and selection.mask.dtype == bool
    kept = df.drop(selection.index)
    assert len(kept) == 9 and kept["v"].max() == 9
    assert outlier_rows(df, "zscore", columns=["v"]).count == 0
    assert outlier_rows(df, "zscore", columns=["v"], z_threshold=2.5).count == 1


def test_missing_values_are_never_outliers():
    df = pd.DataFrame({"v": [*KNOWN, np.nan]})
    mask = outlier_rows(df, "iqr").mask
    assert mask.tolist() == [False] * 9 + [True, False]


def test_isolation_forest_finds_the_planted_rows():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(2000, 3)), columns=list("abc"))
    df.loc[[10, 500, 1500], ["a", "b", "c"]] = [[8.0, -8, 8], [9.0, 9, -9], [-8.0, 8, 8]]
    summary = detect_outliers(df, contamination=0.005, seed=1)
    assert summary.forest_sample == 2000
    assert set(summary.forest_rows["row"][:3]) == {10, 500, 1500}
    assert summary.forest_outliers == pytest.approx(10, abs=2)
    assert any("Isolation forest over 3 numeric column(s)" in n for n in summary.notes)
    rows = outlier_rows(df, "isolation_forest", contamination=0.005, seed=1)
    assert {10, 500, 1500} <= set(rows.index)
    again = outlier_rows(df, "isolation_forest", contamination=0.005, seed=1)
    assert rows.mask.equals(again.mask)  # fixed seed: the same rows every time


def test_forest_is_fitted_on_a_sample_above_forest_rows():
    rng = np.random.default_rng(1)
    df = pd.DataFrame(rng.normal(size=(3000, 2)), columns=["a", "b"])
    summary = detect_outliers(df, forest_rows=500)
    assert summary.forest_sample == 500
    assert any("fitted on and applied to a random sample of 500 rows" in n for n in summary.notes)
    assert outlier_rows(df, "isolation_forest", forest_rows=500).count == pytest.approx(30, rel=0.5)


def test_constant_and_zero_iqr_columns_are_explained():
    df = pd.DataFrame({"same": [3.0] * 10, "mostly": [0.0] * 8 + [1.0, 2.0], "text": list("abcdefghij")})
    result = detect_outliers(df, forest=False)
    assert list(result.per_column["column"]) == ["mostly"]
    assert "No outliers for (constant): 'same'." in result.notes
    assert any(n.startswith("'mostly' has an interquartile range of 0") for n in result.notes)
    asked = detect_outliers(df, columns=["text"], forest=False)
    assert asked.per_column.empty and "No outliers for (categorical, not numeric): 'text'." in asked.notes


def test_no_numeric_column_means_no_outlier_rows():
    selection = outlier_rows(pd.DataFrame({"c": list("abc")}), "isolation_forest")
    assert selection.count == 0 and selection.notes == ["No numeric column to check: no row is an outlier."]


def test_bad_parameters_are_refused():
    df = pd.DataFrame({"v": KNOWN})
    with pytest.raises(InvalidInputError, match="'method' parameter must be one of 'iqr', 'zscore', 'isolation_fo"):
        outlier_rows(df, "dbscan")
    with pytest.raises(InvalidInputError, match="'iqr_factor' parameter must be a positive number; got 0"):
        detect_outliers(df, iqr_factor=0)
    with pytest.raises(InvalidInputError, match=r"'contamination' parameter must be 'auto' or a share in \(0, 0.5\]"):
        detect_outliers(df, contamination=0.9)
