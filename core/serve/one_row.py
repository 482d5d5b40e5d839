"""One row scored for the Predict page's form (and, later, the HTTP API): validated, typed, explained.

No pandas round trip beyond the one-row frame the validation builds; one thread, because waking
a pool of threads costs more than a single row's trees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.ml.explain import BASE_COLUMN, CLASS_COLUMN
from core.serve.loaded import LoadedModel
from core.serve.validation import ValidationReport, validate_row

__all__ = ["RowPrediction", "predict_one"]


@dataclass(frozen=True)
class RowPrediction:
    prediction: Any
    probabilities: dict[str, float]
    contributions: pd.Series | None  # per input feature, largest first
    base_value: float | None
    explained_class: Any
    report: ValidationReport


def predict_one(model: LoadedModel, values: dict[str, Any], *, explain: bool = True) -> RowPrediction:
    """Score one row given as ``{feature: value}`` (the Predict page's form)."""
    report, X = validate_row(model.reference, {f: values.get(f) for f in model.features})
    report.raise_for_errors()  # a missing feature, the one way to get no row back, is an error
    scorer = model.scorer
    scores = scorer.score(X, threads=1)  # one row: waking a pool of threads costs more than the trees
    probabilities = {} if scores.proba is None else \
        {str(label): float(p) for label, p in zip(scorer.classes, scores.proba[0], strict=True)}
    contributions = base = explained = None
    if explain and model.kind != "clustering":
        row = scorer.contributions(X, scores, threads=1).iloc[0]
        base = float(row[BASE_COLUMN])
        explained = row.get(CLASS_COLUMN)
        values_only = row.drop([c for c in (BASE_COLUMN, CLASS_COLUMN) if c in row.index]).astype(float)
        contributions = values_only.reindex(values_only.abs().sort_values(ascending=False).index)
    return RowPrediction(_plain(scores.prediction[0]), probabilities, contributions, base, explained, report)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
