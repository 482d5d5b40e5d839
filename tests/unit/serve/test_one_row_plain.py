"""A one-row request with nothing to report is scored without pandas: the very numbers of batch scoring."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.data import datasets
from core.serve.api.payloads import Rows
from core.serve.api.predictions import score_rows
from core.serve.loaded import load_model
from core.serve.one_row import plain_row_scores
from tests.support.models import train_sample


def _plain(value):
    return None if pd.isna(value) else value.item() if isinstance(value, np.generic) else value


@pytest.mark.parametrize("sample", ["titanic", "mpg"])  # a classifier and a regressor, both with missing values
def test_plain_rows_score_as_the_batch_scores_them(ws, sample):
    [info] = train_sample(ws, sample, ["lightgbm"])
    model = load_model(ws, info)
    version = datasets.get_version(ws, sample)
    frame = datasets.load_frame(ws, version).drop(columns=[version.target]).head(200)
    kinds = {f["name"]: f["logical_type"] for f in model.reference["features"]}
    assert {"numeric", "categorical"} <= set(kinds.values()) and frame.isna().any().any()
    batch = score_rows(model, Rows(frame, list(frame.columns))).predictions  # 200 rows: the wrapper, all threads
    records = [{k: _plain(v) for k, v in r.items()} for r in frame.astype(object).to_dict("records")]
    quick = 0
    for record, expected in zip(records, batch, strict=True):
        got = score_rows(model, Rows(None, list(record), row=record)).predictions
        assert got == [expected]  # exact: the same floats, labels and probabilities
        quick += plain_row_scores(model, record) is not None
    assert quick > len(records) // 2  # most rows took the plain path (the others had something to report)
    missing = next(r for r in records if any(v is None for v in r.values()))
    assert plain_row_scores(model, missing) is not None or any(
        f["n_missing"] == 0 for f in model.reference["features"] if missing[f["name"]] is None
    )


def test_rows_with_something_to_report_are_left_to_validation(ws):
    [info] = train_sample(ws, "titanic", ["lightgbm"])
    model = load_model(ws, info)
    version = datasets.get_version(ws, "titanic")
    frame = datasets.load_frame(ws, version)[model.features].dropna().head(1)
    row = {k: _plain(v) for k, v in frame.astype(object).iloc[0].items()}
    score_rows(model, Rows(None, list(row), row=row))  # remembers the row's categories
    assert plain_row_scores(model, row) is not None
    numeric = next(f["name"] for f in model.reference["features"] if f["logical_type"] == "numeric")
    category = next(f["name"] for f in model.reference["features"] if f["logical_type"] == "categorical")
    for changed in (
        {numeric: str(row[numeric])},
        {numeric: 1e12},
        {numeric: float("inf")},
        {numeric: True},
        {category: "never seen in training"},
    ):
        odd = {**row, **changed}
        assert plain_row_scores(model, odd) is None, changed
        scored = score_rows(model, Rows(None, list(odd), row=odd))  # validation reports it (or refuses it)
        assert scored.warnings or changed.keys() <= {numeric}
    assert plain_row_scores(model, {**row, "extra": [1]}) is not None  # an extra column is only information
    without = {k: v for k, v in row.items() if k != numeric}
    assert plain_row_scores(model, without) is None
