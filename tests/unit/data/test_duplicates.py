"""Duplicate rows of Arrow tables and DataFrames counted from row hashes, checked against pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from core.data.duplicates import duplicate_row_count
from core.data.quality import quality_report
from core.data.schema import infer_schema, infer_schema_json
from core.eda import describe_dataset


def test_duplicate_rows_of_an_arrow_table_match_pandas() -> None:
    # Row 2 repeats row 0 (-0.0 equals 0.0) and row 5 repeats row 3 (missing equals missing);
    # row 4 does not repeat row 0 (NaN is missing, not 0.0).
    table = pa.table({
        "x": pa.array([0.0, 1.0, -0.0, None, float("nan"), float("nan")]),
        "s": pa.array(["a", "b", "a", None, "a", None]),
        "t": pa.array([1, 2, 1, 5, 1, 5], type=pa.timestamp("s")),
    })
    assert duplicate_row_count(table) == 2 == int(table.to_pandas().duplicated().sum())


def test_duplicate_rows_on_random_tables_with_every_kind_of_column() -> None:
    rng = np.random.default_rng(3)
    for _ in range(30):
        n = int(rng.integers(2, 300))
        table = pa.table({
            "f": pa.array(rng.choice([0.0, -0.0, 1.5, np.nan, None], n).tolist(), type=pa.float64()),
            "i": pa.array([None if v == 3 else int(v) for v in rng.integers(0, 4, n)], type=pa.int64()),
            "s": pa.array(rng.choice(["a", "b", None, ""], n).tolist(), type=pa.string()),
            "t": pa.array(rng.integers(0, 3, n), type=pa.int64()).cast(pa.timestamp("s")),
            "b": pa.array(rng.choice([True, False, None], n).tolist(), type=pa.bool_()),
            "d": pa.array(rng.choice(["x", "y"], n).tolist()).dictionary_encode(),
        })
        cut = int(rng.integers(1, n))
        table = pa.concat_tables([table.slice(0, cut), table.slice(cut)])  # two chunks per column
        expected = int(table.to_pandas().duplicated().sum())
        assert duplicate_row_count(table) == expected
        assert duplicate_row_count(table, infer_schema_json(table)) == expected


def test_duplicate_rows_with_a_unique_column_and_with_nested_values() -> None:
    n = 1000
    unique_first = pa.table({"k": np.arange(n) % 3, "id": np.arange(n)})
    assert duplicate_row_count(unique_first, infer_schema_json(unique_first)) == 0
    nested = pa.table({"a": pa.array([[1, 2], [1, 2], [3], None, None]), "b": pa.array([1, 1, 2, 3, 3])})
    assert duplicate_row_count(nested) == 2


def test_columns_are_hashed_in_any_order_of_the_schema() -> None:
    # Whatever order the schema suggests, the count is the same: it only decides when to stop early.
    table = pa.table({"a": [1, 1, 2, 2], "b": ["x", "x", "y", "z"], "c": [0.5, 0.5, 0.5, 0.5]})
    schema = infer_schema(table)
    assert duplicate_row_count(table, schema) == duplicate_row_count(table, list(reversed(schema))) == 1
    assert duplicate_row_count(table.slice(0, 1)) == 0 and duplicate_row_count(table.select([])) == 0


def test_duplicate_rows_of_a_dataframe_match_pandas_for_every_dtype() -> None:
    rng = np.random.default_rng(4)
    for _ in range(30):
        n = int(rng.integers(2, 300))
        frame = pd.DataFrame({
            "f": rng.choice([0.0, -0.0, 1.5, np.nan, np.inf], n),
            "i": pd.array(rng.choice([1, 2, None], n), dtype="Int64"),
            "o": pd.Series(rng.choice(np.array(["a", None, 1, "1"], dtype=object), n), dtype=object),  # 1 is not '1'
            "s": pd.Series(rng.choice(["x", "y", None], n), dtype="string"),
            "b": rng.choice([True, False], n),
            "c": pd.Categorical(rng.choice(["p", "q", None], n)),
            "t": pd.to_datetime(rng.choice(["2020-01-01", None, "2021-01-01"], n)).tz_localize("UTC"),
            "d": pd.to_timedelta(rng.integers(0, 2, n), unit="s"),
            "u": rng.integers(0, 10**6, n),  # nearly unique: most rows drop out after this column
        })
        columns = list(rng.choice(frame.columns, int(rng.integers(2, len(frame.columns) + 1)), replace=False))
        assert duplicate_row_count(frame[columns]) == int(frame[columns].duplicated().sum()), columns


def test_quality_report_and_overview_count_duplicates_with_the_same_counter() -> None:
    frame = pd.DataFrame({"a": [[1, 2], [1, 2], [3], None, None], "b": ["x", "x", "y", None, np.nan]})
    # Lists are compared by their text; None and NaN are one missing value.
    assert duplicate_row_count(frame) == 2
    assert quality_report(frame).summary["duplicate_rows"] == describe_dataset(frame).duplicate_rows == 2
