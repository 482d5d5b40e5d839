"""Train/test splits and cross-validation folds that respect how the rows relate.

Four kinds: ``random``; ``stratified`` (the default for classification: every class in the same
share on both sides); ``time`` (train on the past, test on the future of a datetime column, no
timestamp on both sides); ``group`` (every row of one id on the same side).  Folds follow the
same kind: StratifiedKFold, KFold, TimeSeriesSplit or GroupKFold.  Everything is returned as
integer positions into the frame given, so duplicate index labels cannot confuse anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.data.target import CLASSIFICATION_KINDS
from core.ml.config import SplitConfig
from core.ml.problem import datetime_seconds
from core.platform.errors import InvalidInputError

__all__ = ["Split", "cv_folds", "resolve_split_kind", "split_rows"]


@dataclass(frozen=True)
class Split:
    """Positions of the train and test rows, and how they were chosen."""

    kind: str
    train: np.ndarray
    test: np.ndarray
    notes: list[str] = field(default_factory=list)
    # Sort key for time-ordered folds, or group labels for grouped folds (aligned with the frame).
    order: np.ndarray | None = None
    groups: np.ndarray | None = None

    def describe(self, config: SplitConfig) -> dict[str, Any]:
        """JSON-able summary for the model card."""
        return {"kind": self.kind, "test_size": float(config.test_size), "seed": int(config.seed),
                "n_train": int(len(self.train)), "n_test": int(len(self.test)), "cv_folds": int(config.cv_folds),
                "time_column": config.time_column, "group_column": config.group_column}


def resolve_split_kind(config: SplitConfig, problem_kind: str) -> str:
    """``auto`` becomes stratified for classification and random otherwise."""
    if config.kind != "auto":
        return config.kind
    return "stratified" if problem_kind in CLASSIFICATION_KINDS else "random"


def split_rows(df: pd.DataFrame, y: pd.Series | None, problem_kind: str, config: SplitConfig) -> Split:
    """Choose train and test rows of ``df`` (``y`` aligned with it, ``None`` for clustering).

    Raises
    ------
    InvalidInputError
        A stratified split with a one-row class, a time split on a column that holds no dates,
        a grouped split with a single group, or too few rows for the test fraction.
    """
    from sklearn.model_selection import GroupShuffleSplit, train_test_split

    kind = resolve_split_kind(config, problem_kind)
    n = len(df)
    positions = np.arange(n)
    n_test = int(np.ceil(config.test_size * n))
    if n < 4 or n_test < 1 or n - n_test < 2:
        raise InvalidInputError(
            f"{n} rows are too few to hold out a test fraction of {config.test_size}: training needs at least 4 rows.",
            hint="Use more data or a different test fraction.",
        )
    if kind == "stratified":
        if y is None or problem_kind not in CLASSIFICATION_KINDS:
            raise InvalidInputError(
                "A stratified split keeps class shares equal, so it needs a classification target.",
                hint="Use a random split for regression and clustering.",
            )
        _check_classes(y, 2, "a stratified split")
        n_classes = int(y.nunique())
        if n_test < n_classes or n - n_test < n_classes:
            raise InvalidInputError(
                f"A stratified split of {n} rows with a test fraction of {config.test_size} gives {n_test} test rows, "
                f"fewer than the {n_classes} classes.",
                hint="Raise the test fraction, use more rows, or use a random split.",
            )
        train, test = train_test_split(positions, test_size=n_test, random_state=config.seed, stratify=y.to_numpy())
        return Split(kind, np.sort(train), np.sort(test))
    if kind == "random":
        train, test = train_test_split(positions, test_size=n_test, random_state=config.seed, shuffle=True)
        return Split(kind, np.sort(train), np.sort(test))
    if kind == "time":
        return _time_split(df, config, n_test)
    groups = _group_labels(df, config.group_column)
    if len(np.unique(groups)) < 2:
        raise InvalidInputError(
            f"A grouped split needs at least two distinct values in {config.group_column!r}; it has one.",
            hint="Choose another group column or a random split.",
        )
    splitter = GroupShuffleSplit(n_splits=1, test_size=config.test_size, random_state=config.seed)
    train, test = next(splitter.split(positions, groups=groups))
    return Split(kind, np.sort(train), np.sort(test), groups=groups)


def _check_classes(y: pd.Series, needed: int, what: str) -> None:
    counts = y.value_counts()
    rare = counts[counts < needed]
    if len(rare):
        label, count = rare.index[0], int(rare.iloc[0])
        rows = "a single row" if count == 1 else f"only {count} rows"
        raise InvalidInputError(
            f"The class {label!r} has {rows}, so {what} is impossible: it needs at least {needed} rows of every class"
            + (f" ({len(rare)} classes are that small)" if len(rare) > 1 else "")
            + ". Use a random split, or merge or remove the rare classes.",
            hint="Choose the split kind 'random' in the split settings.",
        )


def _time_values(df: pd.DataFrame, column: str | None) -> np.ndarray:
    if column not in df.columns:
        raise InvalidInputError(f"The time column {column!r} is not in the data.")
    values = df[column]
    is_dates = pd.api.types.is_datetime64_any_dtype(values.dtype)
    if not is_dates and (pd.api.types.is_string_dtype(values.dtype) or values.dtype == object):
        seconds = datetime_seconds(values)
        is_dates = bool(seconds.notna().sum() >= max(1, 0.95 * values.notna().sum()))
    if not is_dates:
        raise InvalidInputError(
            f"A time-based split needs a datetime column, but {column!r} holds {values.dtype} values "
            f"such as {values.dropna().iloc[0]!r}." if values.notna().any() else
            f"A time-based split needs a datetime column, but {column!r} is empty.",
            hint="Pick a datetime column (role 'datetime'), convert this one to dates first, or use a random split.",
        )
    return datetime_seconds(values).to_numpy()


def _time_split(df: pd.DataFrame, config: SplitConfig, n_test: int) -> Split:
    seconds = _time_values(df, config.time_column)
    known = np.flatnonzero(~np.isnan(seconds))
    notes = []
    if len(known) < len(seconds):
        notes.append(f"{len(seconds) - len(known)} rows without a time in {config.time_column!r} were left out.")
    ordered = known[np.argsort(seconds[known], kind="stable")]
    # The cut falls between two distinct times, so no timestamp is on both sides.
    cutoff = seconds[ordered[len(ordered) - n_test]] if n_test < len(ordered) else seconds[ordered[0]]
    train = ordered[seconds[ordered] < cutoff]
    test = ordered[seconds[ordered] >= cutoff]
    if len(train) < 2 or len(test) < 1:
        raise InvalidInputError(
            f"The times in {config.time_column!r} leave no past to train on: too many rows share the latest dates.",
            hint="Lower the test fraction or use a random split.",
        )
    return Split("time", np.sort(train), np.sort(test), notes, order=seconds)


def _group_labels(df: pd.DataFrame, column: str | None) -> np.ndarray:
    if column not in df.columns:
        raise InvalidInputError(f"The group column {column!r} is not in the data.")
    return df[column].astype(str).where(df[column].notna(), "(missing)").to_numpy()


def cv_folds(
    split: Split, y: pd.Series | None, n_folds: int, seed: int = 0, rows: np.ndarray | None = None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cross-validation folds over ``rows`` (default: the train rows), following the split kind.

    Returns positions *within* ``rows``: fold ``(a, b)`` trains on ``rows[a]`` and validates on ``rows[b]``.
    ``y`` is aligned with the whole frame, like the split.
    """
    from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold, TimeSeriesSplit

    rows = split.train if rows is None else rows
    if n_folds < 2:
        raise InvalidInputError(f"Cross-validation needs at least 2 folds. Got {n_folds}.")
    if len(rows) < 2 * n_folds:
        raise InvalidInputError(
            f"{len(rows)} training rows are too few for {n_folds} folds.", hint="Use fewer folds or more data."
        )
    local = np.arange(len(rows))
    if split.kind == "stratified" and y is not None:
        labels = y.iloc[rows]
        _check_classes(labels, n_folds, f"{n_folds}-fold stratified cross-validation")
        return list(StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(local, labels.to_numpy()))
    if split.kind == "time" and split.order is not None:
        order = np.argsort(split.order[rows], kind="stable")
        return [(order[a], order[b]) for a, b in TimeSeriesSplit(n_folds).split(order)]
    if split.kind == "group" and split.groups is not None:
        groups = split.groups[rows]
        if len(np.unique(groups)) < n_folds:
            raise InvalidInputError(
                f"Grouped cross-validation needs at least {n_folds} groups in the training rows; "
                f"there are {len(np.unique(groups))}.",
                hint="Use fewer folds.",
            )
        return list(GroupKFold(n_folds).split(local, groups=groups))
    return list(KFold(n_folds, shuffle=True, random_state=seed).split(local))
