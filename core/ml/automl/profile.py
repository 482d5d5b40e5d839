"""The facts about a dataset that recommendations and the search depend on, as plain data."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from core.data.target import CLASSIFICATION_KINDS

__all__ = ["DataProfile", "profile_data"]


@dataclass(frozen=True)
class DataProfile:
    """Rows, columns by type, missing share, class balance and problem kind of a training table."""

    kind: str
    rows: int
    columns: int
    numeric: int
    categorical: int
    other: int
    missing_share: float
    minority_share: float | None  # smallest class's share (classification)
    n_classes: int | None
    data_bytes: int

    @property
    def task(self) -> str:
        return "classification" if self.kind in CLASSIFICATION_KINDS else "regression"

    @property
    def imbalanced(self) -> bool:
        return self.minority_share is not None and self.minority_share < 0.2

    def features(self) -> dict[str, float]:
        """Meta-features the priors compare datasets by (scaled to similar ranges)."""
        return {"log_rows": math.log10(max(self.rows, 1)), "log_columns": math.log10(max(self.columns, 1)),
                "categorical_share": self.categorical / max(self.columns, 1), "missing_share": self.missing_share,
                "minority_share": self.minority_share if self.minority_share is not None else 0.5}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def profile_data(X: pd.DataFrame, y: pd.Series, kind: str, types: Mapping[str, str]) -> DataProfile:
    numeric = sum(1 for t in types.values() if t == "numeric")
    categorical = sum(1 for t in types.values() if t in ("categorical", "boolean"))
    cells = max(X.shape[0] * X.shape[1], 1)
    minority, n_classes = None, None
    if kind in CLASSIFICATION_KINDS:
        shares = y.value_counts(normalize=True)
        minority, n_classes = float(shares.min()), int(len(shares))
    other = int(X.shape[1]) - numeric - categorical
    return DataProfile(kind, int(len(X)), int(X.shape[1]), numeric, categorical, other,
                       float(X.isna().to_numpy().sum() / cells), minority, n_classes,
                       int(X.memory_usage(deep=True).sum()))
