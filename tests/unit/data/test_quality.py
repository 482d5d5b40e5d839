"""Quality checks: each finding, its numbers, its JSON form, and the column-name rules of LightGBM/XGBoost."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from core.data.quality import (
    QualityIssue,
    column_name_problems,
    quality_report,
    quality_report_json,
    report_from_json,
    report_to_json,
    safe_column_name,
)
from core.data.schema import infer_schema_json


@pytest.fixture
def frame() -> pd.DataFrame:
    n = 200
    rng = np.random.default_rng(0)
    age = rng.integers(18, 90, n).astype(float)
    age[:30] = np.nan  # 15 %
    note = np.array([None] * n, dtype=object)
    note[:5] = "x"  # 97.5 % missing
    frame = pd.DataFrame({
        "customer_id": [f"C{i:04d}" for i in range(n)],
        "age": age,
        "note": note,
        "country": "FR",
        "zip": [f"Z{i % 80}" for i in range(n)],
        "review": [f"this is the rather long review number {i} of the product" for i in range(n)],
        "amount": [str(i) for i in range(n - 4)] + ["n/a", "?", "?", "-"],
        "mixed": [1, "one"] * (n // 2),
        "fine": rng.integers(0, 3, n),
        "gone": [None] * n,
    })
    return frame


def issues_by(report, check: str) -> dict[str | None, QualityIssue]:
    return {i.column: i for i in report.by_check(check)}


def test_missing_values_with_shares_and_severities(frame: pd.DataFrame) -> None:
    report = quality_report(frame)
    missing = issues_by(report, "missing")
    assert missing["age"].detail == "30 of 200 values (15.0%) are missing."
    assert missing["age"].severity == "warning"
    assert missing["note"].detail == "195 of 200 values (97.5%) are missing."
    assert "Consider removing it" in missing["note"].suggestion
    assert missing["gone"].severity == "error" and missing["gone"].detail == "All 200 values are missing."
    assert "fine" not in missing
    small = quality_report(pd.DataFrame({"x": [1.0] * 99 + [np.nan], "y": range(100)}))
    assert issues_by(small, "missing")["x"].severity == "info"


def test_duplicate_rows_and_summary() -> None:
    df = pd.DataFrame({"a": [1, 1, 2, 1, 3], "b": ["x", "x", "y", "x", None]})
    report = quality_report(df)
    duplicates = issues_by(report, "duplicates")[None]
    assert duplicates.detail == "2 row(s) (40.0%) repeat an earlier row exactly."
    assert report.summary == {
        "rows": 5, "columns": 2, "duplicate_rows": 2, "missing_cells": 1, "missing_share": 0.1,
        "issues": {"info": 0, "warning": 2, "error": 0},  # 1 in 5 missing is a warning
    }


def test_constant_high_cardinality_text_and_id(frame: pd.DataFrame) -> None:
    report = quality_report(frame)
    assert issues_by(report, "constant")["country"].detail == "Every value is 'FR'."
    assert "'ignore'" in issues_by(report, "constant")["country"].suggestion
    assert issues_by(report, "constant")["note"].detail == "Every value is 'x', apart from 195 missing."
    high = issues_by(report, "high_cardinality")
    assert list(high) == ["zip"]
    assert high["zip"].detail == "80 distinct categories: one-hot encoding would add 80 columns."
    assert list(issues_by(report, "free_text")) == ["review"]
    assert issues_by(report, "id_like")["customer_id"].detail == (
        "Every value is different (200 values): it looks like an identifier."
    )


def test_mixed_types_and_mostly_numeric_text(frame: pd.DataFrame) -> None:
    mixed = issues_by(quality_report(frame), "mixed_types")
    assert set(mixed) == {"amount", "mixed"}
    assert mixed["amount"].detail == "98.0% of the values are numbers, but some are text such as '?', 'n/a', '-'."
    assert "missing values" in mixed["amount"].suggestion
    assert mixed["mixed"].detail.startswith("Mixes numbers and text values (50% numbers; text such as 'one')")


def test_bad_column_names() -> None:
    df = pd.DataFrame({"price:eur": [1, 2], "x[1]": [1, 2], "a<b": [3, 4], "a b": [1, 2], "a_b": [2, 1],
                       "price_eur": [5, 6], "é ok/fine": [1, 2]})
    names = issues_by(quality_report(df), "column_name")
    assert set(names) == {"price:eur", "x[1]", "a<b", "a b"}
    assert "LightGBM refuses the characters" in names["price:eur"].detail
    assert names["price:eur"].suggestion == "Rename it, for example to 'price_eur_2'."  # 'price_eur' is taken
    assert "XGBoost refuses the characters [ ] <" in names["a<b"].detail
    assert "the same as 'a_b'" in names["a b"].detail


def test_issues_are_ordered_errors_first(frame: pd.DataFrame) -> None:
    severities = [i.severity for i in quality_report(frame)]
    order = {"error": 0, "warning": 1, "info": 2}
    assert severities == sorted(severities, key=order.get)
    assert severities[0] == "error"


def test_json_round_trip_and_schema_as_json(frame: pd.DataFrame) -> None:
    schema = infer_schema_json(frame)
    report = quality_report(frame, schema)
    data = report_to_json(report)
    assert json.loads(json.dumps(data)) == data
    assert report_from_json(data) == report
    assert quality_report_json(frame, schema) == data
    assert set(data["issues"][0]) == {"check", "column", "severity", "detail", "suggestion"}
    table_report = quality_report(pa.Table.from_pandas(frame.drop(columns=["mixed"]), preserve_index=False))
    assert {i.check for i in table_report} >= {"missing", "constant", "id_like", "free_text"}


def test_clean_table_has_no_issues() -> None:
    report = quality_report(pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "x"]}))
    assert list(report) == [] and len(report) == 0
    assert report.summary["duplicate_rows"] == 0


def test_unhashable_cells_still_count_duplicates() -> None:
    df = pd.DataFrame({"a": [[1, 2], [1, 2], [3]], "b": [1, 1, 2]})
    assert quality_report(df).summary["duplicate_rows"] == 1


@pytest.mark.parametrize("name", ['a"b', "a,b", "a:b", "a[b", "a]b", "a{b", "a}b", "a\nb"])
def test_names_flagged_for_lightgbm_really_fail_and_safe_names_work(name: str) -> None:
    lightgbm = pytest.importorskip("lightgbm")
    assert column_name_problems(name)
    X = pd.DataFrame({name: np.arange(40.0), "other": np.arange(40.0) % 7})
    y = np.arange(40.0)
    with pytest.raises(lightgbm.basic.LightGBMError):
        lightgbm.LGBMRegressor(n_estimators=1, verbose=-1).fit(X, y)
    fixed = X.rename(columns={name: safe_column_name(name)})
    assert column_name_problems(safe_column_name(name)) == []
    lightgbm.LGBMRegressor(n_estimators=1, verbose=-1, min_child_samples=2).fit(fixed, y)


@pytest.mark.parametrize("name", ["é", "日本", "a/b", "a.b", "a;b", "a b", "a-b", "a=b"])
def test_names_not_flagged_are_accepted_by_lightgbm_and_xgboost(name: str) -> None:
    lightgbm = pytest.importorskip("lightgbm")
    xgboost = pytest.importorskip("xgboost")
    assert column_name_problems(name, [name, "other"]) == []
    X = pd.DataFrame({name: np.arange(40.0), "other": np.arange(40.0) % 7})
    y = np.arange(40.0)
    lightgbm.LGBMRegressor(n_estimators=1, verbose=-1, min_child_samples=2).fit(X, y)
    xgboost.XGBRegressor(n_estimators=1).fit(X, y)


def test_xgboost_rule_is_real() -> None:
    xgboost = pytest.importorskip("xgboost")
    X = pd.DataFrame({"a<b": np.arange(10.0)})
    with pytest.raises(ValueError, match="may not contain"):
        xgboost.XGBRegressor(n_estimators=1).fit(X, np.arange(10.0))
    assert safe_column_name("a<b") == "a_b" and safe_column_name('"[]"') == "_"


def test_a_million_rows_is_fast() -> None:
    n = 1_000_000
    rng = np.random.default_rng(2)
    df = pd.DataFrame({
        "id": np.arange(n),
        "x": np.where(rng.random(n) < 0.1, np.nan, rng.normal(size=n)),
        "city": np.array(["Paris", "Lyon", "Nice", None], dtype=object)[rng.integers(0, 4, n)],
        "k": rng.integers(0, 10, n),
    })
    report = quality_report_json(df)
    assert report["summary"]["rows"] == n
    assert {i["check"] for i in report["issues"]} == {"missing", "id_like"}


def test_arrow_table_gives_the_same_report_as_its_frame(frame: pd.DataFrame) -> None:
    frame = frame.drop(columns=["mixed"])  # a column Arrow cannot hold
    table = pa.Table.from_pandas(frame, preserve_index=False)
    assert quality_report_json(table, infer_schema_json(table)) == quality_report_json(frame, infer_schema_json(frame))


def test_duplicate_rows_of_an_arrow_table() -> None:
    # Row 2 repeats row 0 (-0.0 equals 0.0) and row 5 repeats row 3 (missing equals missing).
    table = pa.table({"x": pa.array([0.0, 1.0, -0.0, None, float("nan"), float("nan")]),
                      "s": pa.array(["a", "b", "a", None, "a", None])})
    assert quality_report(table).summary["duplicate_rows"] == 2
    nested = pa.table({"a": pa.array([[1, 2], [1, 2], [3], None, None]), "b": pa.array([1, 1, 2, 3, 3])})
    assert quality_report(nested).summary["duplicate_rows"] == 2
