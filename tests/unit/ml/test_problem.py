"""Problem detection, feature choice, target cleaning and feature warnings (core.ml.problem)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.data.target import detect_problem
from core.ml.problem import clean_target, column_types, feature_warnings, select_features
from core.platform.errors import InvalidInputError


@pytest.mark.parametrize(
    ("values", "kind", "reason"),
    [
        (None, "clustering", "no target → clustering"),
        ([True, False, True], "binary", "true/false values (2 distinct) → binary"),
        (["yes", "no", "yes", None], "binary", "2 distinct text values → binary"),
        (["a", "b", "c", "a"], "multiclass", "3 distinct text values → multiclass"),
        ([0, 1, 1, 0], "binary", "2 distinct numeric values → binary"),
        (list(range(12)) * 3, "multiclass", "12 distinct integer values → multiclass"),
        ([1.0, 2.0, 3.0, np.nan], "multiclass", "3 distinct integer values → multiclass"),
        (list(range(30)), "regression", "30 distinct integer values (more than 20) → regression"),
        (list(np.linspace(0, 1, 412)), "regression", "float values with 412 distinct → regression"),
    ],
)
def test_detect_problem_explains_its_verdict(values, kind, reason):
    y = None if values is None else pd.Series(values, name="y")
    detected = detect_problem(y)
    assert (detected.kind, detected.reason) == (kind, reason)


def test_detect_problem_refuses_an_all_missing_target():
    with pytest.raises(InvalidInputError, match="Every value of the target 'y' is missing"):
        detect_problem(pd.Series([np.nan, None], name="y"))


def test_select_features_defaults_to_all_but_target_and_excluded_roles():
    df = pd.DataFrame(columns=["id", "when", "a", "b", "junk", "y"])
    roles = {"id": "id", "when": "datetime", "junk": "ignore", "y": "target"}
    assert select_features(df, "y", None, roles) == ["a", "b"]
    assert select_features(df, None, None, {}) == ["id", "when", "a", "b", "junk", "y"]
    assert select_features(df, "y", ["b", "a", "b"]) == ["b", "a"]


def test_select_features_errors():
    df = pd.DataFrame(columns=["id", "y"])
    with pytest.raises(InvalidInputError, match="No features are left"):
        select_features(df, "y", None, {"id": "id"})
    with pytest.raises(InvalidInputError, match="target column 'price' is not in the data"):
        select_features(df, "price")
    with pytest.raises(InvalidInputError, match="feature 'nope' is not a column"):
        select_features(df, "y", ["nope"])
    with pytest.raises(InvalidInputError, match="target 'y' is also listed as a feature"):
        select_features(df, "y", ["id", "y"])


def test_clean_target_drops_missing_rows_with_a_note():
    y = pd.Series([1.5, np.nan, 2.5, None], name="y")
    kept, notes = clean_target(y, "regression")
    assert kept.tolist() == [1.5, 2.5]
    assert kept.index.tolist() == [0, 2]
    assert notes == ["2 of 4 rows have no target value and were left out of training."]


def test_clean_target_errors():
    with pytest.raises(InvalidInputError, match="Every value of the target 'y' is missing"):
        clean_target(pd.Series([None, None], name="y", dtype=object), "binary")
    with pytest.raises(InvalidInputError, match=r"single class \('a'\).*needs at least two classes"):
        clean_target(pd.Series(["a", "a", None], name="y"), "binary")
    with pytest.raises(InvalidInputError, match="Regression needs a numeric target, but 'y' holds values such as 'r"):
        clean_target(pd.Series(["1.5", "red", "2"], name="y"), "regression")
    with pytest.raises(InvalidInputError, match="Binary classification needs exactly 2 classes"):
        clean_target(pd.Series(["a", "b", "c"], name="y"), "binary")


def test_clean_target_tidies_labels():
    whole, _ = clean_target(pd.Series([1.0, 2.0, np.nan, 1.0], name="y"), "binary")
    assert whole.dtype == np.int64 and whole.tolist() == [1, 2, 1]
    mixed, _ = clean_target(pd.Series([1, "a", 1, "a"], name="y", dtype=object), "binary")
    assert mixed.tolist() == ["1", "a", "1", "a"]
    numbers, _ = clean_target(pd.Series(["1.5", "2"], name="y"), "regression")
    assert numbers.tolist() == [1.5, 2.0]


def test_column_types_follow_the_reference_rules_with_overrides():
    df = pd.DataFrame({
        "n": [1.0, 2.0, 3.0], "c": ["a", "b", "a"], "b": [True, False, True],
        "d": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
    })
    assert column_types(df) == {"n": "numeric", "c": "categorical", "b": "categorical", "d": "datetime"}
    assert column_types(df, {"n": "categorical"})["n"] == "categorical"


def test_feature_warnings_flag_constant_and_leaking_columns_only():
    rng = np.random.default_rng(0)
    n = 300
    y = rng.choice(["no", "yes"], n)
    df = pd.DataFrame({
        "noise": rng.normal(size=n),
        "constant": 7,
        "empty": np.nan,
        "leak": np.where(y == "yes", 1.0, 0.0) + rng.normal(0, 0.01, n),
        "leak_cat": np.where(y == "yes", "Y", "N"),
        "cat": rng.choice(list("abc"), n),
        "y": y,
    })
    warnings = feature_warnings(df, "y", ["noise", "constant", "empty", "leak", "leak_cat", "cat"])
    assert len(warnings) == 4
    assert warnings[0].startswith("'constant' has the same value in every row (constant)")
    assert warnings[1].startswith("'empty' is missing in every row")
    assert warnings[2].startswith("'leak' alone predicts the target almost perfectly (balanced accuracy 1.00)")
    assert warnings[3].startswith("'leak_cat' alone predicts the target")
    assert not any("noise" in w or "'cat'" in w for w in warnings)


def test_feature_warnings_for_regression_use_r2():
    rng = np.random.default_rng(1)
    x = rng.normal(size=200)
    df = pd.DataFrame({"x": x, "double": 2 * x, "other": rng.normal(size=200), "y": x * 3 + 1})
    warnings = feature_warnings(df, "y", ["double", "other"])
    assert len(warnings) == 1
    assert warnings[0].startswith("'double' alone predicts the target almost perfectly (|Spearman ρ| 1.00)")
