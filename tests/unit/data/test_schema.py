"""Logical types, suggested roles and role validation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from core.data.schema import ROLES, ColumnInfo, infer_schema, infer_schema_json, suggest_roles, validate_roles
from core.data.types import logical_type
from core.platform.errors import InvalidInputError


@pytest.fixture
def frame() -> pd.DataFrame:
    n = 60
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "row": np.arange(n),                                        # 0..59: a row number
        "customer_id": [f"C{i:03d}" for i in range(n)],             # unique codes
        "amount": rng.normal(size=n),                               # unique floats stay numeric
        "count": rng.integers(0, 5, n),
        "flag": rng.random(n) < 0.5,
        "when": pd.date_range("2024-01-01", periods=n, freq="D"),
        "when_text": pd.date_range("2024-01-01", periods=n, freq="h").strftime("%Y-%m-%dT%H:%M:%S"),
        "colour": (["red", "green", None] * 20),
        "comment": [f"a rather long free text comment about item {i}" for i in range(n)],
        "size": pd.Categorical(["S", "M", "L"] * 20),
        "grade": pd.Categorical([1, 2, 3] * 20),
        "empty": [None] * n,
        "mixed": [1, "x"] * 30,
    })


def test_logical_types(frame: pd.DataFrame) -> None:
    kinds = {c.name: c.logical_type for c in infer_schema(frame)}
    assert kinds == {
        "row": "id", "customer_id": "id", "amount": "numeric", "count": "numeric", "flag": "boolean",
        "when": "datetime", "when_text": "datetime", "colour": "categorical", "comment": "text",
        "size": "categorical", "grade": "categorical", "empty": "categorical", "mixed": "categorical",
    }


def test_counts_examples_and_notes(frame: pd.DataFrame) -> None:
    info = {c.name: c for c in infer_schema(frame)}
    colour = info["colour"]
    assert (colour.n_missing, colour.n_unique, colour.examples, colour.dtype) == (20, 2, ["red", "green"], "object")
    assert info["when_text"].note == "ISO dates stored as text"
    assert info["mixed"].note == "mixes numbers and text"
    assert info["empty"].n_missing == 60 and info["empty"].n_unique == 0 and info["empty"].examples == []
    assert info["when"].examples[0] == "2024-01-01T00:00:00"
    assert info["size"].examples == ["S", "M", "L"]
    assert info["flag"].dtype == "bool"


def test_nan_counts_as_missing_and_is_no_example() -> None:
    info = infer_schema(pd.DataFrame({"x": [1.5, np.nan, 2.5, np.nan, 1.5]}))[0]
    assert (info.n_missing, info.n_unique, info.examples) == (2, 2, [1.5, 2.5])
    table = pa.table({"x": pa.array([1.0, float("nan"), None, 1.0])})  # NaN and null in Arrow
    arrow = infer_schema(table)[0]
    assert (arrow.n_missing, arrow.n_unique, arrow.dtype) == (2, 1, "double")


def test_arrow_table_gives_the_same_types(frame: pd.DataFrame) -> None:
    table = pa.Table.from_pandas(frame.drop(columns=["mixed"]), preserve_index=False)
    from_frame = {c.name: c.logical_type for c in infer_schema(frame.drop(columns=["mixed"]))}
    from_table = {c.name: c.logical_type for c in infer_schema(table)}
    assert from_table == from_frame


def test_id_rules_need_enough_rows_or_an_id_name() -> None:
    small = pd.DataFrame({"n": [3, 1, 2], "order_id": [10, 30, 20], "code": ["a", "b", "c"]})
    kinds = {c.name: c.logical_type for c in infer_schema(small)}
    assert kinds == {"n": "numeric", "order_id": "id", "code": "categorical"}
    gaps = pd.DataFrame({"n": np.arange(0, 200, 2)})  # unique but not consecutive, no id name
    assert infer_schema(gaps)[0].logical_type == "numeric"
    names = pd.DataFrame({"name": [f"First Last{i}" for i in range(100)]})  # unique but with spaces: text
    assert infer_schema(names)[0].logical_type == "text"
    repeated = pd.DataFrame({"PassengerId": [1, 2, 2, 3]})
    assert infer_schema(repeated)[0].logical_type == "numeric"


def test_text_versus_categorical_thresholds() -> None:
    codes = [f"Z{i % 80}" for i in range(400)]  # 80 short codes, each repeated: categorical
    long_values = [f"{'x' * 40}{i % 80}" for i in range(400)]  # 80 long values: text
    kinds = [c.logical_type for c in infer_schema(pd.DataFrame({"codes": codes, "long": long_values}))]
    assert kinds == ["categorical", "text"]


def test_iso_datetime_detection_is_strict() -> None:
    frame = pd.DataFrame({
        "date": ["2024-01-31", "2024-02-29", None],
        "zulu": ["2024-01-31T10:00:00Z", "2024-02-01T11:30:00+02:00", "2024-02-02 12:00"],
        "bad_month": ["2024-13-01", "2024-01-01", "2024-01-02"],
        "us_style": ["01/31/2024", "02/01/2024", "02/02/2024"],
    })
    kinds = {c.name: c.logical_type for c in infer_schema(frame)}
    assert kinds == {"date": "datetime", "zulu": "datetime", "bad_month": "categorical", "us_style": "categorical"}


def test_agrees_with_the_reference_statistics_types(frame: pd.DataFrame) -> None:
    """Outside ids and dates stored as text, the schema and core.models.training_stats name types alike."""
    for info in infer_schema(frame):
        if info.logical_type != "id" and not info.note:
            assert logical_type(frame[info.name]) == info.logical_type, info.name


def test_json_form_is_plain(frame: pd.DataFrame) -> None:
    schema = infer_schema_json(frame)
    assert json.loads(json.dumps(schema)) == schema
    assert set(schema[0]) == {"name", "logical_type", "dtype", "n_missing", "n_unique", "examples", "note"}
    assert ColumnInfo(**schema[0]) == infer_schema(frame)[0]


def test_suggest_roles(frame: pd.DataFrame) -> None:
    schema = infer_schema(frame)
    roles = suggest_roles(schema)
    assert roles["row"] == "id" and roles["customer_id"] == "id"
    assert roles["when"] == "datetime" and roles["when_text"] == "datetime"
    assert roles["amount"] == "feature" and roles["comment"] == "feature"
    assert list(roles) == list(frame.columns)
    assert suggest_roles(infer_schema_json(frame), target="count")["count"] == "target"
    with pytest.raises(InvalidInputError, match="The target 'price' is not a column; the columns are 'row'"):
        suggest_roles(schema, target="price")


def test_validate_roles_fills_defaults_in_column_order() -> None:
    roles = validate_roles({"y": "Target", "b": "ignore"}, ["a", "b", "y"])
    assert roles == {"a": "feature", "b": "ignore", "y": "target"}
    assert list(roles) == ["a", "b", "y"]
    assert set(ROLES) == {"feature", "target", "id", "datetime", "ignore"}


def test_validate_roles_errors() -> None:
    with pytest.raises(InvalidInputError, match=r"Roles were given for column\(s\) the table does not have: 'z'; "
                                                r"its columns are 'a', 'b'"):
        validate_roles({"z": "feature"}, ["a", "b"])
    with pytest.raises(InvalidInputError, match="Column 'a' has the role 'label'; the roles are feature, target"):
        validate_roles({"a": "label"}, ["a", "b"])
    with pytest.raises(InvalidInputError, match="Only one column can be the target; 'a', 'b' all are"):
        validate_roles({"a": "target", "b": "target"}, ["a", "b"])


def test_a_million_rows_is_fast() -> None:
    n = 1_000_000
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({
        "id": np.arange(n),
        "x": rng.normal(size=n),
        "city": np.array(["Paris", "Lyon", "Nice", None], dtype=object)[rng.integers(0, 4, n)],
        "code": np.char.add("K", rng.integers(0, 10**6, n).astype(str)).astype(object),
    })
    kinds = [c.logical_type for c in infer_schema(frame)]
    assert kinds == ["id", "numeric", "categorical", "text"]


def test_arrow_table_with_pandas_dtype_names_matches_the_converted_frame() -> None:
    table = pa.table({
        "i": pa.array([1, 2, 3, 4]),
        "i_missing": pa.array([1, None, 3, 3]),
        "b": pa.array([True, False, True, True]),
        "b_missing": pa.array([True, None, False, True]),
        "s": pa.array(["a", None, "b", "a"]),
        "t": pa.array([0, 1, 2, 3], type=pa.timestamp("ns")),
        "c": pa.array(["x", "y", "x", "x"]).dictionary_encode(),
    })
    info = infer_schema(table, pandas_dtypes=True)
    assert [c.dtype for c in info] == ["int64", "float64", "bool", "object", "object", "datetime64[ns]", "category"]
    assert [c.dtype for c in info] == [str(t) for t in table.to_pandas().dtypes]
    assert infer_schema(table)[1].dtype == "int64"  # Arrow's own names by default
    assert infer_schema_json(table, pandas_dtypes=True) == infer_schema_json(table.to_pandas())


def test_distinct_counts_of_numbers_and_dates_are_exact() -> None:
    # Several chunks, nulls, NaN, -0.0 next to 0.0 (two values, as Arrow's hash kernel counts them).
    x = pa.chunked_array([[1.5, float("nan"), None, 0.0], [-0.0, 1.5, 2.5, float("nan")]])
    when = pa.chunked_array([[0, 86_400, None], [0, 3 * 86_400]], type=pa.timestamp("s"))
    day = pa.array([19_000, 19_001, 19_000, None], type=pa.date32())
    n = pa.chunked_array([[3, 1], [None, 3]], type=pa.int16())
    numbers, dates = infer_schema(pa.table({"x": x}))[0], infer_schema(pa.table({"when": when}))[0]
    assert (numbers.n_missing, numbers.n_unique) == (3, 4)  # 1.5, 0.0, -0.0, 2.5
    assert (dates.n_missing, dates.n_unique) == (1, 3)
    other = infer_schema(pa.table({"day": day, "n": n}))
    assert [(c.n_missing, c.n_unique) for c in other] == [(1, 2), (1, 2)]
    assert infer_schema(pa.table({"gone": pa.array([float("nan")] * 3)}))[0].n_unique == 0
