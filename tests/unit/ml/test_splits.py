"""Train/test splits and cross-validation folds (core.ml.splits, SplitConfig)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.ml.config import SplitConfig
from core.ml.splits import cv_folds, resolve_split_kind, split_rows
from core.platform.errors import InvalidInputError


def _frame(n: int = 100) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "x": rng.normal(size=n),
        "when": pd.date_range("2024-01-01", periods=n, freq="D")[rng.permutation(n)],
        "when_text": [f"2024-02-{d:02d}" for d in rng.integers(1, 28, n)],
        "user": rng.integers(0, 20, n),
        "y": np.where(np.arange(n) < 0.8 * n, "a", "b"),
    })


def test_auto_kind_is_stratified_for_classification_only():
    assert resolve_split_kind(SplitConfig(), "binary") == "stratified"
    assert resolve_split_kind(SplitConfig(), "regression") == "random"
    assert resolve_split_kind(SplitConfig(kind="random"), "multiclass") == "random"


def test_stratified_split_keeps_class_shares_and_is_seeded():
    df = _frame()
    split = split_rows(df, df["y"], "binary", SplitConfig(test_size=0.25, seed=3))
    assert len(split.test) == 25 and len(split.train) == 75
    assert (df["y"].iloc[split.test] == "b").sum() == 5  # 20 % of 25
    assert set(split.train).isdisjoint(split.test)
    again = split_rows(df, df["y"], "binary", SplitConfig(test_size=0.25, seed=3))
    assert np.array_equal(split.test, again.test)


def test_stratified_split_refuses_a_one_row_class_and_suggests_random():
    df = _frame(10)
    y = pd.Series(["a"] * 9 + ["b"])
    with pytest.raises(InvalidInputError, match="class 'b' has a single row, so a stratified split is impossible") as e:
        split_rows(df, y, "binary", SplitConfig())
    assert "Use a random split" in str(e.value) and "'random'" in e.value.hint
    assert len(split_rows(df, y, "binary", SplitConfig(kind="random")).test) == 2


def test_stratified_split_needs_a_test_row_per_class():
    df = _frame(10)
    y = pd.Series(list("aabbccddee"))
    with pytest.raises(InvalidInputError, match="gives 2 test rows, fewer than the 5 classes"):
        split_rows(df, y, "multiclass", SplitConfig(test_size=0.2))


def test_too_few_rows():
    with pytest.raises(InvalidInputError, match="3 rows are too few"):
        split_rows(_frame(3), None, "regression", SplitConfig())


def test_time_split_trains_on_the_past():
    df = _frame()
    split = split_rows(df, df["x"], "regression", SplitConfig(kind="time", time_column="when", test_size=0.2))
    assert len(split.test) == 20
    assert df["when"].iloc[split.train].max() < df["when"].iloc[split.test].min()


def test_time_split_reads_date_text_and_keeps_equal_times_together():
    df = _frame()
    split = split_rows(df, df["x"], "regression", SplitConfig(kind="time", time_column="when_text"))
    train_times = pd.to_datetime(df["when_text"].iloc[split.train])
    test_times = pd.to_datetime(df["when_text"].iloc[split.test])
    assert train_times.max() < test_times.min()


def test_time_split_on_a_non_datetime_column_is_refused():
    df = _frame()
    with pytest.raises(InvalidInputError, match="time-based split needs a datetime column, but 'x' holds float64"):
        split_rows(df, df["x"], "regression", SplitConfig(kind="time", time_column="x"))
    with pytest.raises(InvalidInputError, match="needs a datetime column, but 'y' holds"):
        split_rows(df, df["x"], "regression", SplitConfig(kind="time", time_column="y"))


def test_split_config_validates_itself():
    with pytest.raises(InvalidInputError, match="A time-based split needs a time column"):
        SplitConfig(kind="time")
    with pytest.raises(InvalidInputError, match="A grouped split needs a group column"):
        SplitConfig(kind="group")
    with pytest.raises(InvalidInputError, match="test fraction must lie strictly between 0 and 1"):
        SplitConfig(test_size=1.0)
    with pytest.raises(InvalidInputError, match="The 'kind' parameter of SplitConfig must be one of"):
        SplitConfig(kind="sideways")


def test_group_split_keeps_each_group_on_one_side():
    df = _frame()
    split = split_rows(df, df["x"], "regression", SplitConfig(kind="group", group_column="user"))
    assert set(df["user"].iloc[split.train]).isdisjoint(df["user"].iloc[split.test])
    with pytest.raises(InvalidInputError, match="at least two distinct values in 'one'"):
        split_rows(df.assign(one=1), df["x"], "regression", SplitConfig(kind="group", group_column="one"))


def test_folds_follow_the_split_kind():
    df = _frame()
    stratified = split_rows(df, df["y"], "binary", SplitConfig())
    folds = cv_folds(stratified, df["y"], 4)
    train_y = df["y"].iloc[stratified.train].to_numpy()
    assert len(folds) == 4
    assert all((train_y[b] == "b").sum() == 4 for _, b in folds)  # 16 "b" rows over 4 folds

    timed = split_rows(df, df["x"], "regression", SplitConfig(kind="time", time_column="when"))
    times = df["when"].iloc[timed.train].to_numpy()
    for a, b in cv_folds(timed, df["x"], 3):
        assert times[a].max() < times[b].min()

    grouped = split_rows(df, df["x"], "regression", SplitConfig(kind="group", group_column="user"))
    users = df["user"].iloc[grouped.train].to_numpy()
    for a, b in cv_folds(grouped, df["x"], 3):
        assert set(users[a]).isdisjoint(users[b])


def test_fold_errors():
    df = _frame()
    split = split_rows(df, df["y"], "binary", SplitConfig())
    with pytest.raises(InvalidInputError, match="class 'b' has only 16 rows, so 20-fold stratified cross-validation"):
        cv_folds(split, df["y"], 20)
    with pytest.raises(InvalidInputError, match="too few for 50 folds"):
        cv_folds(split, df["y"], 50)
