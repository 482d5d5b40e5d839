"""Logical types (core.data.types): one rule for strings, the same verdict from pandas and from Arrow."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from core.data.schema import infer_schema
from core.data.types import (
    FEATURE_TYPES,
    LOGICAL_TYPES,
    MAX_CATEGORIES,
    SAMPLE_SIZE,
    TEXT_MEAN_LENGTH,
    TEXT_UNIQUE_SHARE,
    arrow_sample,
    arrow_string_kind,
    arrow_type_kind,
    categorical_or_text,
    dtype_kind,
    logical_type,
    string_column_kind,
    string_kind,
    value_counts,
)
from core.eda._common import column_kind


def test_one_vocabulary_and_one_set_of_thresholds():
    assert FEATURE_TYPES == ("numeric", "categorical", "boolean", "datetime", "text")
    assert LOGICAL_TYPES == (*FEATURE_TYPES, "id")
    assert (MAX_CATEGORIES, TEXT_MEAN_LENGTH, TEXT_UNIQUE_SHARE, SAMPLE_SIZE) == (50, 30, 0.5, 10_000)


@pytest.mark.parametrize(
    ("n_distinct", "n_present", "mean_length", "kind"),
    [
        (50, 50, 100.0, "categorical"),  # at most 50 values: a category, however long
        (51, 1000, 30.0, "text"),  # long values
        (51, 1000, 29.9, "categorical"),
        (501, 1000, 5.0, "text"),  # mostly unique
        (500, 1000, 5.0, "categorical"),  # half unique is still a category
    ],
)
def test_categorical_or_text(n_distinct, n_present, mean_length, kind):
    assert categorical_or_text(n_distinct, n_present, mean_length) == kind


STRINGS = {
    "codes": [f"Z{i % 80}" for i in range(400)],  # 80 short codes, each repeated
    "long": [f"{'x' * 40}{i % 80}" for i in range(400)],  # 80 long values
    "unique": [f"u{i}" for i in range(400)],  # short but all different
    "few": ["a", "b", None, "a"] * 100,
}


@pytest.mark.parametrize("name", list(STRINGS))
def test_pandas_and_arrow_adapters_share_the_rule(name):
    series = pd.Series(STRINGS[name], dtype=object)
    values = pa.chunked_array([pa.array(STRINGS[name])])
    n_present = len(values) - values.null_count
    n_distinct = len(set(v for v in STRINGS[name] if v is not None))
    from_pandas = string_kind(value_counts(series))
    from_arrow = arrow_string_kind(arrow_sample(values, n_present), n_present, n_distinct)
    assert from_pandas == from_arrow == logical_type(series) == column_kind(series)
    assert from_pandas == {"codes": "categorical", "long": "text", "unique": "text", "few": "categorical"}[name]


def test_dtypes_decide_alike_in_pandas_and_arrow():
    frame = pd.DataFrame({
        "n": [1.5, 2.5], "i": [1, 2], "b": [True, False], "d": pd.to_datetime(["2024-01-01", "2024-01-02"]),
        "c": pd.Categorical(["x", "y"]), "s": ["x", "y"],
    })
    table = pa.Table.from_pandas(frame, preserve_index=False)
    pandas_kinds = {c: dtype_kind(frame[c].dtype) for c in frame.columns}
    arrow_kinds = {f.name: arrow_type_kind(f.type) for f in table.schema}
    assert pandas_kinds == arrow_kinds == {"n": "numeric", "i": "numeric", "b": "boolean", "d": "datetime",
                                           "c": "categorical", "s": None}
    assert arrow_type_kind(pa.list_(pa.int64())) == "text"


def test_string_columns_are_judged_on_a_sample_then_counted():
    # 60 values that each repeat: the sample says categorical, the full count confirms it and is returned.
    series = pd.Series([f"v{i % 60}" for i in range(30_000)])
    kind, counts = string_column_kind(series)
    assert kind == "categorical" and int(counts.sum()) == 30_000 and len(counts) == 60
    text, none = string_column_kind(pd.Series([f"note {i} " * 5 for i in range(30_000)]))
    assert (text, none) == ("text", None)  # free text: never counted in full


def test_the_schema_and_the_model_types_agree_on_strings_except_ids():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({name: rng.permutation(np.array(values, dtype=object)) for name, values in STRINGS.items()})
    schema = {c.name: c.logical_type for c in infer_schema(frame)}
    model = {name: logical_type(frame[name]) for name in frame.columns}
    assert schema == {**model, "unique": "id"}  # only the schema, which sees names and whole columns, says id
    assert model["unique"] == "text"
