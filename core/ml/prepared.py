"""The data side of a training run: problem kind, features, target cleaning, split and folds.

:func:`prepare_data` does everything before the first fit, once per run, and its
:class:`PreparedData` is shared by every algorithm trained on it (:mod:`core.ml.train`, AutoML's
search, the retraining comparison).  The input frame is never modified.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.data.target import ProblemDetection, detect_problem
from core.ml.config import TrainConfig
from core.ml.problem import clean_target, column_types, feature_warnings, select_features
from core.ml.splits import Split, cv_folds, split_rows
from core.platform.errors import InvalidInputError
from core.platform.progress import Progress

__all__ = ["PreparedData", "prepare_data"]


@dataclass
class PreparedData:
    """The data side of a run, shared by every algorithm trained on it."""

    X: pd.DataFrame
    y: pd.Series | None
    kind: str
    problem: ProblemDetection
    features: list[str]
    types: dict[str, str]
    split: Split
    folds: list[tuple[np.ndarray, np.ndarray]]
    notes: list[str]
    warnings: list[str]
    target: str | None
    config: TrainConfig

    @property
    def X_train(self) -> pd.DataFrame:
        return self.X.iloc[self.split.train]

    @property
    def y_train(self) -> pd.Series | None:
        return None if self.y is None else self.y.iloc[self.split.train]

    @property
    def X_test(self) -> pd.DataFrame:
        return self.X.iloc[self.split.test]

    @property
    def y_test(self) -> pd.Series | None:
        return None if self.y is None else self.y.iloc[self.split.test]


def prepare_data(df: pd.DataFrame, config: TrainConfig, callbacks: Progress | None = None, *,
                 screen_key: Hashable | None = None) -> PreparedData:
    """Problem kind, features, target cleaning, split and folds: everything before the first fit.

    ``screen_key`` names ``df``'s data for the leakage screen's memo
    (:func:`core.eda.leakage_memo.screen_features`); ``None`` screens afresh.

    Raises
    ------
    InvalidInputError
        For any input that cannot be trained on, with what to change.
    """
    cb = callbacks or Progress()
    if not isinstance(df, pd.DataFrame) or df.empty:
        raise InvalidInputError("Training needs a table with rows; the data given is empty.")
    if df.columns.duplicated().any():
        repeated = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
        raise InvalidInputError(f"Column names must be unique; repeated: {', '.join(repeated)}.")
    target = config.target
    features = select_features(df, target, config.features, config.roles)
    y_raw = None if target is None else df[target]
    detected = detect_problem(y_raw)
    kind = config.problem_kind or detected.kind
    problem = detected if kind == detected.kind else ProblemDetection(kind, f"chosen ({detected.reason} was detected)")
    if kind != "clustering" and target is None:
        raise InvalidInputError(f"A {kind} problem needs a target column; none was chosen.",
                                hint="Choose a target, or clustering to group rows without one.")
    notes: list[str] = []
    y = None
    rows = np.arange(len(df))
    if kind != "clustering":
        y, notes = clean_target(y_raw, kind)
        rows = np.flatnonzero(y_raw.notna().to_numpy())
        if config.positive_label is not None and config.positive_label not in set(y.tolist()):
            raise InvalidInputError(
                f"The positive class {config.positive_label!r} is not a value of the target {target!r}.",
                hint=f"Choose one of {', '.join(map(repr, sorted(set(y.tolist()), key=str)[:10]))}.",
            )
    frame = df if len(rows) == len(df) else df.iloc[rows]  # no copy of a million rows when none is dropped
    for line in notes:
        cb.log(line)
    split = split_rows(frame, y, kind, config.split) if kind != "clustering" else Split(
        "none", np.arange(len(rows)), np.array([], dtype=int))
    folds = cv_folds(split, y, config.split.cv_folds, config.split.seed) \
        if config.split.cv_folds >= 2 and kind != "clustering" else []
    X = frame[features]
    types = column_types(X, config.preprocessing.column_types)
    warned = feature_warnings(frame, target, features, screen_key=screen_key)
    for line in warned:
        cb.log(f"warning: {line}")
    return PreparedData(X, y, kind, problem, features, types, split, folds, notes + split.notes, warned, target, config)
