"""compute_correlations, Cramér's V and the correlation ratio against hand-checked values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats.contingency import association

from core.eda import compute_correlations, correlation_figure, correlation_ratio, cramers_v, cramers_v_from_table
from core.platform.errors import InvalidInputError


def test_cramers_v_of_a_known_table():
    # n = 60, every expected count 15, chi2 = 4 * 25 / 15 = 6.667, phi2 = 1/9: plain V = 1/3.
    # Bergsma: phi2c = 1/9 - 1/59, rc = kc = 2 - 1/59, V = sqrt(phi2c / (1 - 1/59)) = 0.309492
    table = [[20, 10], [10, 20]]
    assert cramers_v_from_table(table, bias_correction=False) == pytest.approx(1 / 3)
    assert cramers_v_from_table(table) == pytest.approx(np.sqrt((1 / 9 - 1 / 59) / (1 - 1 / 59)))
    assert cramers_v_from_table(table) == pytest.approx(0.309492, abs=1e-6)


def test_plain_cramers_v_agrees_with_scipy():
    table = np.array([[12, 5, 3], [4, 10, 6], [2, 3, 15]])
    assert cramers_v_from_table(table, bias_correction=False) == pytest.approx(association(table, method="cramer"))


def test_cramers_v_from_raw_values_drops_missing_rows():
    x = ["a"] * 20 + ["b"] * 10 + ["a"] * 10 + ["b"] * 20 + [None]
    y = ["u"] * 30 + ["v"] * 30 + ["u"]
    assert cramers_v(x, y, bias_correction=False) == pytest.approx(1 / 3)
    assert cramers_v(["a", "a", "b", "b"], ["u", "u", "v", "v"], bias_correction=False) == pytest.approx(1.0)
    assert np.isnan(cramers_v(["a"] * 5, list("uvuvu")))  # one category: undefined


def test_correlation_ratio_of_the_textbook_example():
    # Exam scores by subject (algebra, geometry, statistics); eta = sqrt(SS_between / SS_total) = 0.8386
    scores = [45, 70, 29, 15, 21, 40, 20, 30, 42, 65, 95, 80, 70, 85, 73]
    subjects = ["algebra"] * 5 + ["geometry"] * 4 + ["statistics"] * 6
    assert correlation_ratio(subjects, scores) == pytest.approx(0.8386, abs=1e-4)
    assert correlation_ratio(["a", "a", "b", "b"], [1.0, 1.0, 5.0, 5.0]) == pytest.approx(1.0)


def test_pearson_matches_pandas_pairwise_with_missing_values():
    rng = np.random.default_rng(0)
    x = rng.normal(size=400)
    df = pd.DataFrame({"x": x, "y": 0.5 * x + rng.normal(size=400), "z": rng.normal(size=400)})
    df.loc[::7, "x"] = np.nan
    df.loc[::5, "z"] = np.nan
    result = compute_correlations(df, "pearson")
    pd.testing.assert_frame_equal(result.matrix, df.corr(), check_exact=False, atol=1e-12)
    assert result.sampled_rows is None and result.rows_used == 400
    top = result.pairs.iloc[0]
    assert {top.column_a, top.column_b} == {"x", "y"} and top.measure == "pearson"
    assert top.rows == int(df[["x", "y"]].notna().all(axis=1).sum())


def test_spearman_matches_pandas_without_missing_values():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"a": rng.normal(size=300), "b": rng.integers(0, 5, 300)})
    df["c"] = np.exp(df["a"]) + rng.normal(scale=0.1, size=300)
    result = compute_correlations(df, "spearman")
    pd.testing.assert_frame_equal(result.matrix, df.corr("spearman"), check_exact=False, atol=1e-12)


def test_associations_let_every_column_take_part():
    rng = np.random.default_rng(2)
    n = 600
    group = rng.choice(["a", "b", "c"], n)
    df = pd.DataFrame({
        "group": group,
        "same_group": np.where(group == "a", "x", np.where(group == "b", "y", "z")),
        "value": np.select([group == "a", group == "b"], [0.0, 10.0], 20.0) + rng.normal(size=n),
        "noise": rng.normal(size=n),
        "flag": rng.random(n) < 0.5,
        "when": pd.Timestamp("2020-01-01") + pd.to_timedelta(np.arange(n), unit="D"),
    })
    result = compute_correlations(df, "associations")
    assert set(result.matrix.columns) == set(df.columns)
    assert result.measures.loc["group", "same_group"] == "cramers_v"
    assert result.measures.loc["group", "value"] == "eta"
    assert result.measures.loc["value", "noise"] == "pearson"
    assert result.measures.loc["when", "value"] == "pearson"  # datetimes count as numbers
    assert result.measures.loc["flag", "group"] == "cramers_v"  # booleans as categories
    assert result.matrix.loc["group", "same_group"] == pytest.approx(1.0)
    assert result.matrix.loc["group", "value"] == pytest.approx(correlation_ratio(group, df["value"]))
    assert result.matrix.loc["group", "value"] > 0.95
    near = result.near_duplicates
    assert {"group", "same_group"} == set(near.iloc[0][["column_a", "column_b"]])
    assert any("'group' and 'same_group' are near duplicates (cramers_v 1.000)" in n for n in result.notes)
    assert list(result.strongest(2)["value"].abs()) == sorted(result.strongest(2)["value"].abs(), reverse=True)


def test_numeric_method_switches_the_numeric_measure_in_associations():
    df = pd.DataFrame({"a": np.arange(50.0), "b": np.arange(50.0) ** 3, "c": list("xy") * 25})
    result = compute_correlations(df, "associations", numeric_method="spearman")
    assert result.measures.loc["a", "b"] == "spearman" and result.matrix.loc["a", "b"] == pytest.approx(1.0)


def test_near_duplicate_numeric_columns_are_flagged():
    rng = np.random.default_rng(3)
    x = rng.normal(size=200)
    df = pd.DataFrame({"x": x, "x_copy": -x + rng.normal(scale=0.01, size=200), "z": rng.normal(size=200)})
    result = compute_correlations(df)
    assert len(result.near_duplicates) == 1
    assert result.near_duplicates.loc[0, "value"] < -0.95
    assert any("'x' and 'x_copy' are near duplicates (pearson -1.000)" in n for n in result.notes)


def test_large_frames_are_sampled_and_say_so():
    rng = np.random.default_rng(4)
    df = pd.DataFrame({"a": rng.normal(size=3000), "b": rng.normal(size=3000)})
    result = compute_correlations(df, sample_rows=1000, seed=5)
    assert result.sampled_rows == result.rows_used == 1000
    assert result.notes[0] == "Correlations use a random sample of 1,000 of the 3,000 rows (seed 5)."
    again = compute_correlations(df, sample_rows=1000, seed=5)
    pd.testing.assert_frame_equal(result.matrix, again.matrix)


def test_high_cardinality_categories_are_folded_into_other():
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"code": [f"k{i % 500}" for i in range(3000)], "v": rng.normal(size=3000),
                       "g": rng.choice(["a", "b"], 3000)})
    result = compute_correlations(df, "associations", max_categories=20)
    assert any(n.startswith("'code' has 500 distinct values: its 20 most frequent are kept") for n in result.notes)
    assert np.isfinite(result.matrix.loc["code", "v"]) and np.isfinite(result.matrix.loc["code", "g"])


def test_correlation_figure_draws_the_matrix():
    rng = np.random.default_rng(6)
    df = pd.DataFrame(rng.normal(size=(100, 5)), columns=list("abcde"))
    chart = correlation_figure(compute_correlations(df), max_columns=3)
    heatmap = chart.figure.data[0]
    assert heatmap.type == "heatmap" and len(heatmap.x) == 3
    assert "Showing the 3 of 5 columns with the strongest correlations." in chart.notes


def test_bad_parameters_are_refused():
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [3.0, 1.0, 2.0]})
    with pytest.raises(InvalidInputError, match="'method' parameter must be one of 'pearson', 'spearman'"):
        compute_correlations(df, "kendall")
    with pytest.raises(InvalidInputError, match="'numeric_method' parameter must be one of"):
        compute_correlations(df, "associations", numeric_method="associations")
    with pytest.raises(InvalidInputError, match="The column 'c' is not a column of the dataset"):
        compute_correlations(df, columns=["a", "c"])
    with pytest.raises(InvalidInputError, match="'sample_rows' parameter must be a positive integer; got -1"):
        compute_correlations(df, sample_rows=-1)
