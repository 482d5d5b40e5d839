"""A weighted average of fitted pipelines, saved and served like any other model.

:class:`WeightedEnsemble` holds fitted member pipelines (each takes the raw frame) and their
weights; it answers ``predict`` and, for classifiers, ``predict_proba`` as the weighted mean of
its members'.  AutoML wraps it as the single step of a ``Pipeline`` so every stage that takes a
pipeline (evaluation, the registry, batch scoring) takes it unchanged.  Its import path is named
in saved models and in :data:`core.ml.serialize.TRUSTED_TYPES`: keep it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

__all__ = ["WeightedEnsemble", "ensemble_pipeline"]


class WeightedEnsemble(BaseEstimator):
    """Weighted mean of fitted members' probabilities (classification) or values (regression).

    Parameters
    ----------
    members : fitted pipelines, each taking the raw feature frame.
    weights : one non-negative weight per member (normalised to sum to 1 in ``fit``).
    task : ``classification`` or ``regression``.
    """

    def __init__(self, members: Sequence[Any] = (), weights: Sequence[float] = (), task: str = "classification"):
        self.members = members
        self.weights = weights
        self.task = task

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


def ensemble_pipeline(members: Sequence[Any], weights: Sequence[float], task: str) -> Any:
    """``Pipeline([("model", WeightedEnsemble(...))])``, fitted (its members already are)."""
    from sklearn.pipeline import Pipeline

    model = WeightedEnsemble(list(members), [float(w) for w in weights], task).fit()
    pipeline = Pipeline([("model", model)])
    return pipeline
