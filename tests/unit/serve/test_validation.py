"""Batch validation against a model's reference: issues, severities, merging, coercion."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.models.training_stats import build_reference
from core.platform.errors import InvalidInputError
from core.serve.coercion import coerce_column, coerce_value
from core.serve.validation import (
    ValidationIssue,
    ValidationReport,
    coerce_batch,
    validate_and_coerce,
    validate_batch,
    validate_row,
)


@pytest.fixture(scope="module")
def train() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 1_000
    return pd.DataFrame(
        {
            "price": rng.normal(100, 10, n),  # p25..p75 ~ 93..107, IQR ~ 13.5
            "rooms": rng.integers(1, 6, n),
            "city": rng.choice(["Paris", "Lyon", "Nice"], n),
            "garden": rng.random(n) < 0.5,
            "sold": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 366, n), unit="D"),
            "zone": rng.choice([1, 2, 3], n).astype(object),  # integer-valued categories
            "area": np.where(rng.random(n) < 0.1, np.nan, rng.normal(80, 5, n)),  # had missing values
        }
    )


@pytest.fixture(scope="module")
def ref(train: pd.DataFrame) -> dict:
    return build_reference(train, list(train.columns))


def _kinds(report: ValidationReport) -> dict[tuple[str, str], ValidationIssue]:
    return {(i.column, i.kind): i for i in report.issues}


def test_clean_batch_has_no_issue(ref: dict, train: pd.DataFrame) -> None:
    report = validate_batch(ref, train.iloc[:200])
    assert report.ok and report.issues == [] and report.n_rows == 200
    report.raise_for_errors()  # nothing to raise
    assert report.to_frame().empty
    assert list(report.to_frame().columns) == ["column", "kind", "severity", "count", "message", "examples"]


def test_missing_column_message_counts_columns() -> None:
    rng = np.random.default_rng(1)
    cols = ["price", *[f"f{i}" for i in range(11)]]
    df = pd.DataFrame(rng.normal(size=(50, 12)), columns=cols)
    ref = build_reference(df, cols)
    report = validate_batch(ref, df.drop(columns="price"))
    assert not report.ok
    (issue,) = report.errors
    assert (issue.column, issue.kind, issue.severity, issue.count) == ("price", "missing_column", "error", 50)
    assert issue.message == (
        "Column 'price' is missing from the file: the model was trained on 12 columns, this file has 11 of them."
    )
    with pytest.raises(InvalidInputError, match=r"The file cannot be scored: 1 problem blocks it\.\n- Column 'price'"):
        report.raise_for_errors()
    with pytest.raises(InvalidInputError, match=r"Column 'price' is missing from the file"):
        coerce_batch(ref, df.drop(columns="price"))


def test_extra_column_is_reported_and_ignored(ref: dict, train: pd.DataFrame) -> None:
    batch = train.iloc[:10].assign(comment="hello")
    report = validate_batch(ref, batch)
    assert report.ok
    (issue,) = report.issues
    assert (issue.kind, issue.severity, issue.column) == ("extra_column", "info", "comment")
    assert issue.message == "Column 'comment' is not one of the model's features: it is ignored."
    assert list(coerce_batch(ref, batch).columns) == list(train.columns)


def test_numbers_stored_as_text_are_converted(ref: dict, train: pd.DataFrame) -> None:
    batch = train.iloc[:4].copy()
    batch["price"] = ["101.5", " 99", "1e2", ""]  # a blank cell is a missing value, not a bad number
    issues = _kinds(validate_batch(ref, batch))
    coercible = issues[("price", "type_coercible")]
    assert (coercible.severity, coercible.count) == ("info", 3)
    assert coercible.message == "Column 'price' holds numbers stored as text (3 values): they are converted."
    assert issues[("price", "missing_values")].count == 1
    assert ("price", "type_not_coercible") not in issues
    out = coerce_batch(ref, batch)
    assert out["price"].dtype == np.float64
    assert out["price"].tolist()[:3] == [101.5, 99.0, 100.0] and np.isnan(out["price"].iloc[3])


def test_few_unreadable_values_warn_many_block(ref: dict, train: pd.DataFrame) -> None:
    batch = train.iloc[:200].copy()
    batch["price"] = batch["price"].astype(str)
    batch.iloc[5, 0] = "n/a"
    report = validate_batch(ref, batch, max_unparseable=0.01)
    issue = _kinds(report)[("price", "type_not_coercible")]
    assert (issue.severity, issue.count, issue.examples) == ("warning", 1, ("n/a",))
    assert issue.message == (
        "Column 'price' should hold numbers, but 1 value (0.5%) cannot be read as numbers, e.g. 'n/a': "
        "they are treated as missing."
    )
    out = coerce_batch(ref, batch, report)
    assert np.isnan(out["price"].iloc[5]) and out["price"].notna().sum() == 199

    batch.iloc[6:10, 0] = "abc"
    report = validate_batch(ref, batch, max_unparseable=0.01)
    issue = _kinds(report)[("price", "type_not_coercible")]
    assert (issue.severity, issue.count) == ("error", 5) and not report.ok
    assert issue.examples == ("n/a", "abc")
    with pytest.raises(InvalidInputError, match=r"5 values \(2\.5%\) cannot be read as numbers, e\.g\. 'n/a', 'abc'"):
        report.raise_for_errors()
    with pytest.raises(InvalidInputError, match=r"at most 1% of a column may be unreadable"):
        coerce_batch(ref, batch)
    assert coerce_batch(ref, batch, max_unparseable=0.05)["price"].isna().sum() == 5


def test_unseen_categories_counted_with_examples(ref: dict, train: pd.DataFrame) -> None:
    batch = train.iloc[:10].copy()
    batch["city"] = ["Paris", "Rome", "Rome", "Oslo", "Lyon", "Rome", "Nice", "Paris", "Oslo", "Bern"]
    issue = _kinds(validate_batch(ref, batch))[("city", "unseen_category")]
    assert (issue.severity, issue.count, issue.examples) == ("warning", 6, ("Rome", "Oslo", "Bern"))
    assert issue.message == "Column 'city' has 6 values (60%) never seen in training, e.g. 'Rome', 'Oslo', 'Bern'."
    # unseen values pass through unchanged: the model's encoder decides what they mean
    assert coerce_batch(ref, batch)["city"].tolist() == batch["city"].tolist()


def test_unseen_wording_when_training_categories_were_cut() -> None:
    train = pd.DataFrame({"c": list("aaabbc")})
    ref = build_reference(train, ["c"], max_categories=2)
    issue = validate_batch(ref, pd.DataFrame({"c": ["c", "a"]})).issues[0]
    assert issue.message == (
        "Column 'c' has 1 value (50%) never seen among the 2 most frequent categories of training, e.g. 'c'."
    )


def test_categories_matched_by_text(ref: dict, train: pd.DataFrame) -> None:
    batch = train.iloc[:3].copy()
    batch["zone"] = ["1", 2.0, "3"]  # as a CSV reader might hand them over
    issues = _kinds(validate_batch(ref, batch))
    assert ("zone", "unseen_category") not in issues
    assert issues[("zone", "type_coercible")].count == 3
    assert coerce_batch(ref, batch)["zone"].tolist() == [1, 2, 3]


def test_values_far_outside_training_range(ref: dict, train: pd.DataFrame) -> None:
    batch = train.iloc[:5].copy()
    batch["price"] = [100.0, 1e6, -500.0, 130.0, 99.0]  # 130 is beyond the max but within 3 IQR
    issue = _kinds(validate_batch(ref, batch))[("price", "out_of_range")]
    assert (issue.severity, issue.count) == ("warning", 2)
    assert issue.examples == ("-500", "1e+06")
    assert issue.message.startswith("Column 'price' has 2 values (40%) far outside the training range ")


def test_dates_out_of_range_and_from_text(ref: dict, train: pd.DataFrame) -> None:
    batch = train.iloc[:4].copy()
    batch["sold"] = ["2024-03-01", "2024-06-01T12:30:00", "15 March 2024", "2031-01-01"]
    report = validate_batch(ref, batch)
    issues = _kinds(report)
    assert issues[("sold", "type_coercible")].count == 4
    assert issues[("sold", "out_of_range")].count == 1
    out = coerce_batch(ref, batch, report)
    assert out["sold"].dtype == "datetime64[ns]"
    assert out["sold"].tolist()[2] == pd.Timestamp("2024-03-15")


def test_text_that_is_no_date_at_all_is_unreadable(ref: dict, train: pd.DataFrame) -> None:
    batch = train.iloc[:3].astype({"sold": object})
    batch["sold"] = "not a date"
    issue = _kinds(validate_batch(ref, batch))[("sold", "type_not_coercible")]
    assert (issue.severity, issue.count, issue.examples) == ("error", 3, ("not a date",))
    assert coerce_batch(ref, batch, max_unparseable=1.0)["sold"].isna().all()


def test_numbers_are_not_dates(ref: dict, train: pd.DataFrame) -> None:
    batch = train.iloc[:3].copy()
    batch["sold"] = [20240101, 20240102, 20240103]
    issue = _kinds(validate_batch(ref, batch))[("sold", "type_not_coercible")]
    assert (issue.severity, issue.count) == ("error", 3)
    assert issue.message.startswith("Column 'sold' should hold dates, but 3 values (100%) cannot be read as dates")


def test_booleans_from_text(ref: dict, train: pd.DataFrame) -> None:
    batch = train.iloc[:5].copy()
    batch["garden"] = ["yes", "No", "TRUE", "0", "maybe"]
    report = validate_batch(ref, batch, max_unparseable=0.5)
    issues = _kinds(report)
    assert issues[("garden", "type_coercible")].count == 4
    assert issues[("garden", "type_not_coercible")].severity == "warning"
    assert coerce_batch(ref, batch, report)["garden"].tolist()[:4] == [True, False, True, False]


def test_missing_values_only_flagged_where_training_had_none(ref: dict, train: pd.DataFrame) -> None:
    batch = train.iloc[:4].copy()
    batch["rooms"] = [1.0, np.nan, 3.0, np.nan]
    batch["area"] = np.nan
    issues = _kinds(validate_batch(ref, batch))
    issue = issues[("rooms", "missing_values")]
    assert (issue.severity, issue.count) == ("warning", 2)
    assert issue.message == (
        "Column 'rooms' has 2 missing values (50%); training had none, so the model never learnt what they mean."
    )
    assert ("area", "missing_values") not in issues


def test_duplicate_column_blocks(ref: dict, train: pd.DataFrame) -> None:
    batch = pd.concat([train.iloc[:3], train.iloc[:3][["city"]]], axis=1)
    report = validate_batch(ref, batch)
    assert [(i.column, i.kind) for i in report.errors] == [("city", "duplicate_column")]
    assert report.errors[0].message == "Column 'city' appears 2 times in the file: keep one of them."


def test_empty_file_and_bad_inputs(ref: dict, train: pd.DataFrame) -> None:
    with pytest.raises(InvalidInputError, match=r"The file has no rows: there is nothing to score\."):
        validate_batch(ref, train.iloc[:0])
    with pytest.raises(InvalidInputError, match=r"The file has no rows"):
        coerce_batch(ref, train.iloc[:0])
    with pytest.raises(InvalidInputError, match=r"A batch must be a pandas DataFrame; got dict instead"):
        validate_batch(ref, {"price": [1]})  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match=r"The reference must be the dict that build_reference returned"):
        validate_batch({"model": "x"}, train)
    with pytest.raises(InvalidInputError, match=r"'max_unparseable' parameter must be a share between 0 and 1; got 5"):
        validate_batch(ref, train, max_unparseable=5)


def test_merge_of_chunks_equals_whole_file(ref: dict, train: pd.DataFrame) -> None:
    batch = train.copy()
    batch["price"] = batch["price"].astype(str)
    batch.iloc[[3, 10, 20, 30, 40], 0] = "??"  # 0.5% of the file, all in the first chunk
    batch["city"] = batch["city"].where(np.arange(len(batch)) % 97 != 0, "Rome")
    batch = batch.drop(columns="rooms").assign(extra=1)
    whole = validate_batch(ref, batch)
    chunks = [validate_batch(ref, batch.iloc[i : i + 100]) for i in range(0, len(batch), 100)]
    assert _kinds(chunks[0])[("price", "type_not_coercible")].severity == "error"  # 5% of that chunk
    merged = ValidationReport.merge(*chunks)
    assert merged.n_rows == whole.n_rows == 1000
    assert [(i.column, i.kind, i.severity, i.count, i.message) for i in merged.issues] == [
        (i.column, i.kind, i.severity, i.count, i.message) for i in whole.issues
    ]
    assert _kinds(merged)[("price", "type_not_coercible")].severity == "warning"
    assert chunks[0].merge(chunks[1]).n_rows == 200
    # coercing a chunk with the merged report: its unreadable values may become missing
    with pytest.raises(InvalidInputError, match=r"Column 'rooms' is missing from the file"):
        coerce_batch(ref, batch.iloc[:100], merged)
    merged_ok = ValidationReport(merged.n_rows, [i for i in merged.issues if i.kind != "missing_column"])
    out = coerce_batch(ref, batch.iloc[:100].assign(rooms=2), merged_ok)
    assert out["price"].isna().sum() == 5


def test_infinite_numbers_in_an_integer_column_stay_float(ref: dict, train: pd.DataFrame) -> None:
    batch = train.iloc[:2].astype({"rooms": float})
    batch.iloc[0, 1] = np.inf
    report = validate_batch(ref, batch)
    assert _kinds(report)[("rooms", "out_of_range")].examples == ("inf",)
    assert coerce_batch(ref, batch)["rooms"].tolist() == [np.inf, batch.iloc[1, 1]]


def test_coerce_keeps_order_index_and_training_dtypes(ref: dict, train: pd.DataFrame) -> None:
    batch = train.iloc[:6][list(reversed(train.columns))].copy()
    batch.index = [7, 7, 3, 3, 1, 0]  # repeated labels must survive
    out = coerce_batch(ref, batch)
    assert list(out.columns) == list(train.columns)
    assert out.index.tolist() == [7, 7, 3, 3, 1, 0]
    assert out["rooms"].dtype == np.int64 and out["price"].dtype == np.float64
    assert out["garden"].dtype == bool and out["sold"].dtype == "datetime64[ns]"
    pd.testing.assert_series_equal(out["price"], batch["price"])


def test_time_zones_follow_training() -> None:
    train = pd.DataFrame({"t": pd.date_range("2024-01-01", periods=10, freq="D", tz="UTC")})
    ref = build_reference(train, ["t"])
    batch = pd.DataFrame({"t": ["2024-01-03T01:00:00+01:00", "2024-01-04"]})
    out = coerce_batch(ref, batch)
    assert str(out["t"].dtype) == "datetime64[ns, UTC]"
    assert out["t"].tolist() == [pd.Timestamp("2024-01-03 00:00", tz="UTC"), pd.Timestamp("2024-01-04", tz="UTC")]


def test_fast_enough_on_a_large_batch(ref: dict) -> None:
    # 300k rows x 7 columns, numbers as floats, categories as text: a loose bound for a shared 2-core machine
    rng = np.random.default_rng(2)
    n = 300_000
    batch = pd.DataFrame(
        {
            "price": rng.normal(100, 10, n),
            "rooms": rng.integers(1, 6, n),
            "city": rng.choice(["Paris", "Lyon", "Nice", "Rome"], n),
            "garden": rng.random(n) < 0.5,
            "sold": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 366, n), unit="D"),
            "zone": rng.choice([1, 2, 3], n),
            "area": rng.normal(80, 5, n),
        }
    )
    report = validate_batch(ref, batch)
    assert _kinds(report)[("city", "unseen_category")].count == pytest.approx(n / 4, rel=0.05)


def test_pyarrow_backed_frames(ref: dict, train: pd.DataFrame) -> None:
    batch = train.iloc[:50].convert_dtypes(dtype_backend="pyarrow")
    assert validate_batch(ref, batch).issues == []
    out = coerce_batch(ref, batch)
    assert out["sold"].dtype == "datetime64[ns]" and out["price"].dtype == np.float64
    arrow_train = train.drop(columns="zone").convert_dtypes(dtype_backend="pyarrow")  # zone would become int64
    arrow_ref = build_reference(arrow_train, list(arrow_train.columns))
    kinds = {f["name"]: f["logical_type"] for f in ref["features"] if f["name"] != "zone"}
    assert {f["name"]: f["logical_type"] for f in arrow_ref["features"]} == kinds
    assert validate_batch(arrow_ref, train.iloc[:50].drop(columns="zone")).issues == []


# -- one pass, one row ---------------------------------------------------------------------
def _issues(report: ValidationReport) -> list[tuple]:
    return [(i.column, i.kind, i.severity, i.count, i.message, i.examples) for i in report.issues]


def test_validate_and_coerce_is_validate_then_coerce(ref: dict, train: pd.DataFrame) -> None:
    batch = train.iloc[:50].copy()
    batch["price"] = batch["price"].astype(str)
    batch.iloc[3, 0] = "??"
    batch.loc[batch.index[:4], "city"] = "Rome"
    report, out = validate_and_coerce(ref, batch.assign(note="x"))
    assert _issues(report) == _issues(validate_batch(ref, batch.assign(note="x")))
    pd.testing.assert_frame_equal(out, coerce_batch(ref, batch, max_unparseable=0.05))


def test_validate_and_coerce_judges_columns_on_the_files_names(ref: dict, train: pd.DataFrame) -> None:
    # a Parquet chunk read with only the model's columns: the file's other names still count
    read = train.iloc[:20]
    report, out = validate_and_coerce(ref, read, file_columns=[*train.columns, "note"])
    assert _issues(report) == _issues(validate_batch(ref, read.assign(note=1)))
    assert out is not None and list(out.columns) == list(train.columns)
    report, out = validate_and_coerce(ref, read.drop(columns="rooms"),
                                      file_columns=[c for c in train.columns if c != "rooms"])
    assert [i.kind for i in report.errors] == ["missing_column"] and out is None


def test_validate_and_coerce_converts_a_chunk_with_too_many_unreadable_values(ref: dict, train: pd.DataFrame) -> None:
    # too many for this chunk, maybe not for the file: the file's report decides, the values become missing
    batch = train.iloc[:10].astype({"price": object})
    batch.iloc[:3, 0] = "n/a"
    report, out = validate_and_coerce(ref, batch)
    assert not report.ok and out is not None and out["price"].isna().sum() == 3


ROWS = [
    {},  # the training row itself
    {"price": "101.5", "rooms": 2.0, "city": "Rome", "zone": "2"},
    {"price": None, "rooms": None, "city": None, "garden": None, "sold": None, "zone": None, "area": None},
    {"price": np.nan, "rooms": np.nan, "city": np.nan, "garden": np.nan, "area": np.nan},
    {"price": 1e9, "rooms": 2.5, "city": 3, "garden": "yes", "sold": "2024-05-01", "zone": 2.0},
    {"price": True, "rooms": np.int64(4), "city": True, "garden": np.True_, "zone": 7, "area": np.float64(81.0)},
    {"price": "abc", "rooms": float("inf"), "sold": "not a date", "zone": "x", "garden": 1},
    {"price": np.float32(99.5), "rooms": 2**70, "sold": pd.Timestamp("2031-01-01"), "city": b"Paris"},
]


@pytest.mark.parametrize("changes", ROWS)
def test_validate_row_equals_validate_and_coerce_of_the_one_row_frame(ref: dict, train: pd.DataFrame,
                                                                       changes: dict) -> None:
    row = {**train.iloc[0].to_dict(), **changes}
    report, out = validate_row(ref, row)
    expected, expected_out = validate_and_coerce(ref, pd.DataFrame([row]))
    assert _issues(report) == _issues(expected) and report.n_rows == 1
    pd.testing.assert_frame_equal(out, expected_out, check_exact=True)


def test_validate_row_reports_missing_and_extra_features(ref: dict, train: pd.DataFrame) -> None:
    row = {**train.iloc[0].drop(["city"]).to_dict(), "note": "x"}
    report, out = validate_row(ref, row)
    assert out is None and _issues(report) == _issues(validate_batch(ref, pd.DataFrame([row])))
    with pytest.raises(InvalidInputError, match=r"Column 'city' is missing from the file"):
        report.raise_for_errors()
    with pytest.raises(InvalidInputError, match=r"A row must be a mapping of column names to values; got list"):
        validate_row(ref, [1, 2])  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [None, np.nan, 0, 3, -2.5, 4.0, True, np.False_, np.int64(2), np.float64(7.5),
                                   "Paris", "3", " 3 ", "yes", float("inf")])
def test_coerce_value_is_coerce_column_of_a_one_value_column(ref: dict, value: object) -> None:
    for feature in ref["features"]:
        fast = coerce_value(feature, value)
        if fast is None:
            continue  # left to coerce_column
        series = pd.Series([value])
        result, found = fast
        expected = coerce_column(feature, series)
        assert found == str(series.dtype)
        pd.testing.assert_series_equal(result.values, expected.values, check_exact=True)
        assert (result.n_missing, result.n_converted, result.n_failed, result.failed_examples, result.unseen,
                result.unseen_examples) == (expected.n_missing, expected.n_converted, expected.n_failed,
                                            expected.failed_examples, expected.unseen, expected.unseen_examples)


def test_coerce_value_leaves_text_numbers_and_dates_to_coerce_column(ref: dict) -> None:
    features = {f["name"]: f for f in ref["features"]}
    assert coerce_value(features["price"], "101.5") is None
    assert coerce_value(features["sold"], "2024-01-01") is None
    assert coerce_value(features["rooms"], 2**64) is None
    assert coerce_value(features["city"], "Paris") is not None
