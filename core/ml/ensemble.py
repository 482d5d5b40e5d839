"""A weighted average of fitted pipelines, saved and served like any other model.

:class:`WeightedEnsemble` holds fitted member pipelines (each takes the raw frame) and their
weights; it answers ``predict`` and, for classifiers, ``predict_proba`` as the weighted mean of
its members'.  AutoML wraps it as the single step of a ``Pipeline`` so every stage that takes a
pipeline (evaluation, the registry, batch scoring) takes it unchanged.  Its import path is named
in saved models and in :data:`core.ml.serialize.TRUSTED_TYPES`: keep it.

It explains itself (:meth:`WeightedEnsemble.contributions`) with permutation SHAP
(:func:`core.ml.permutation_shap.permutation_shap`, as any model without a faster path) over the whole
ensemble on the raw input columns, against a few training rows it keeps as plain lists
(``background``): the members speak different units (log-odds for boosters, probabilities for
forests), so only the ensemble's own output, a probability or a value, adds up across them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from core.ml.permutation_shap import PERMUTATIONS, STATE_ROWS, permutation_shap

__all__ = ["BACKGROUND_ROWS", "PERMUTATIONS", "STATE_ROWS", "WeightedEnsemble", "background_rows", "ensemble_pipeline"]

BACKGROUND_ROWS = 20


class WeightedEnsemble(BaseEstimator):
    """Weighted mean of fitted members' probabilities (classification) or values (regression).

    Parameters
    ----------
    members : fitted pipelines, each taking the raw feature frame.
    weights : one non-negative weight per member (normalised to sum to 1 in ``fit``).
    task : ``classification`` or ``regression``.
    background : :func:`background_rows` of the training rows (what explanations compare with).
    """

    def __init__(self, members: Sequence[Any] = (), weights: Sequence[float] = (), task: str = "classification",
                 background: dict[str, Any] | None = None):
        self.members = members
        self.weights = weights
        self.task = task
        self.background = background

    def fit(self, X: Any = None, y: Any = None) -> WeightedEnsemble:
        """Check the (already fitted) members and normalise the weights; nothing is refitted."""
        weights = np.asarray(self.weights, dtype=np.float64)
        if len(self.members) == 0 or len(weights) != len(self.members) or (weights < 0).any() or weights.sum() <= 0:
            raise ValueError(f"A weighted ensemble needs one non-negative weight per member; got {len(weights)} "
                             f"weights for {len(self.members)} members.")
        self.members_ = list(self.members)
        self.weights_ = weights / weights.sum()
        if self.task == "classification":
            self.classes_ = np.asarray(self.members_[0].classes_)
            for member in self.members_[1:]:
                if not np.array_equal(np.asarray(member.classes_), self.classes_):
                    raise ValueError("Every member of an ensemble must know the same classes.")
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "members_")
        if self.task != "classification":
            raise AttributeError("A regression ensemble has no probabilities.")
        return sum(w * np.asarray(m.predict_proba(X), dtype=np.float64) for m, w in zip(
            self.members_, self.weights_, strict=True))

    def predict(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "members_")
        if self.task == "classification":
            return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
        return sum(w * np.asarray(m.predict(X), dtype=np.float64) for m, w in zip(
            self.members_, self.weights_, strict=True))

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy (classification) or R² (regression), as scikit-learn's mixins score (permutation importance)."""
        from sklearn.metrics import accuracy_score, r2_score

        metric = accuracy_score if self.task == "classification" else r2_score
        return float(metric(y, self.predict(X), sample_weight=sample_weight))

    # -- explanations --------------------------------------------------------------------
    def input_columns(self) -> list[str]:
        """The raw columns the members take (those of the first member's preprocessing)."""
        return [str(c) for c in self.members_[0].named_steps["prep"].feature_names_in_]

    def contributions(self, X: pd.DataFrame, seed: int = 0) -> tuple[np.ndarray, np.ndarray, str]:
        """Permutation SHAP values of the ensemble's output per raw input column.

        Returns ``(values (n, columns, K), base (n, K), method)``: ``K`` is one for regression
        and binary classification (the second class's probability), the number of classes
        otherwise.  For every row, ``base + values.sum(axis=1)`` is exactly the ensemble's output.
        """
        check_is_fitted(self, "members_")
        if not self.background:
            raise ValueError("This ensemble was saved without background rows, so it cannot be explained; "
                             "train it again.")
        background = _frame(self.background)
        values, base = permutation_shap(self._output, X[list(background.columns)], background, seed, PERMUTATIONS)
        n = len(values)
        base = np.broadcast_to(base, (n, base.shape[0]))
        if self.task == "classification" and values.shape[2] == 2:  # binary: the second class, like the boosters
            values, base = values[:, :, 1:], base[:, 1:]
        return values, np.asarray(base, dtype=np.float64), \
            f"permutation SHAP over the ensemble ({2 * PERMUTATIONS} antithetic passes)"

    def _output(self, X: pd.DataFrame) -> np.ndarray:
        if self.task == "classification":
            return np.asarray(self.predict_proba(X), dtype=np.float64)
        return np.asarray(self.predict(X), dtype=np.float64).reshape(len(X), 1)


def background_rows(X: pd.DataFrame, rows: int = BACKGROUND_ROWS, seed: int = 0) -> dict[str, Any]:
    """A seeded sample of ``X`` as plain lists and dtype names (what a saved model may hold)."""
    picked = X.iloc[np.sort(np.random.default_rng(seed).permutation(len(X))[:rows])] if len(X) > rows else X
    values: dict[str, list[Any]] = {}
    for column in picked.columns:
        series = picked[column]
        if isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(series):
            items = [None if pd.isna(v) else v.isoformat() for v in series]
        else:
            items = [None if v is pd.NA or v is pd.NaT else v for v in series.astype(object).tolist()]
            items = [v if v is None or isinstance(v, str | bool | int | float) else
                     (v.item() if isinstance(v, np.generic) else str(v)) for v in items]
        values[str(column)] = items
    return {"columns": [str(c) for c in picked.columns], "values": values,
            "dtypes": {str(c): str(picked[c].dtype) for c in picked.columns}}


def _frame(background: dict[str, Any]) -> pd.DataFrame:
    columns = {}
    for column in background["columns"]:
        raw, dtype = background["values"][column], background["dtypes"][column]
        try:
            columns[column] = pd.Series(raw, dtype=object).astype(dtype) if "datetime" not in dtype else \
                pd.to_datetime(pd.Series(raw, dtype=object))
        except (TypeError, ValueError):
            columns[column] = pd.Series(raw, dtype=object)
    return pd.DataFrame(columns)


def ensemble_pipeline(members: Sequence[Any], weights: Sequence[float], task: str,
                      background: pd.DataFrame | None = None) -> Any:
    """``Pipeline([("model", WeightedEnsemble(...))])``, fitted (its members already are).

    ``background``: training rows, of which :data:`BACKGROUND_ROWS` are kept for explanations.
    """
    from sklearn.pipeline import Pipeline

    kept = None if background is None else background_rows(background)
    model = WeightedEnsemble(list(members), [float(w) for w in weights], task, kept).fit()
    pipeline = Pipeline([("model", model)])
    return pipeline
