"""One row scored for the Predict page's form and the HTTP API: validated, typed, explained.

No pandas round trip beyond the one-row frame the validation builds; one thread, because waking
a pool of threads costs more than a single row's trees.  ``plain_row_scores`` is the API's hot
path for a row that raises no issue at all: checked and converted in plain Python, scored by
``Scorer.row_scores`` with no frame; any other row goes through ``validate_row`` and the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from core.ml.explain import BASE_COLUMN, CLASS_COLUMN
from core.serve.coercion import category_key
from core.serve.loaded import LoadedModel
from core.serve.scoring import Scorer, Scores
from core.serve.validation import RANGE_IQR_FACTOR, ValidationReport, validate_row

__all__ = ["RowPrediction", "plain_row_scores", "predict_one"]

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


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


def plain_row_scores(model: LoadedModel, row: Mapping[str, Any]) -> Scores | None:
    """``Scorer.score`` of ``validate_row``'s row when its report would hold no error and no warning (only,
    perhaps, extra columns, an information the answer does not carry), else ``None``.

    A row qualifies when it names every feature of the model and each value needs no conversion
    and raises no issue: a number (not a boolean) within the range validation allows, a training
    category given with its own type, text for a text column, or a missing value where training had some.  Anything else
    (datetimes, numbers as text, unseen categories, ...) is ``None``: the caller validates it for
    the report, and scoring it there remembers its categories for the next row.
    """
    scorer = model.scorer
    checks = _row_checks(scorer, model.reference)
    if checks is None or not all(type(k) is str for k in row):  # names that may read alike: validate_row's
        return None
    values: dict[str, Any] = {}
    for name, numeric, low, high, missing_ok, categories in checks:
        value = row.get(name, _ABSENT)
        kind = type(value)
        if value is _ABSENT:
            return None
        if value is None or (kind is float and value != value):
            if not missing_ok:
                return None
            values[name] = np.nan if numeric else None
        elif numeric:
            if kind is not float and (kind is not int or not _INT64_MIN <= value <= _INT64_MAX):
                return None
            number = float(value)
            if low is not None and not low <= number <= high:  # also ±inf: out of range
                return None
            values[name] = number
        elif categories is None:  # free text: taken as it is
            if kind is not str:
                return None
            values[name] = value
        else:
            if kind not in (str, int):
                return None
            target = categories.get(category_key(value), _ABSENT)
            if type(target) is not kind or target != value:  # unseen, or matched only by its text
                return None
            values[name] = target
    return scorer.row_scores(values)


_ABSENT = object()
_Check = tuple[str, bool, float | None, float | None, bool, dict[str, Any] | None]  # None: free text


def _row_checks(scorer: Scorer, reference: dict) -> list[_Check] | None:
    """Per feature what ``validate_row`` lets through silently, kept on the scorer (one per model);
    ``None`` when a feature is a datetime or true/false."""
    cached = getattr(scorer, "_row_checks", _ABSENT)
    if cached is not _ABSENT:
        return cached
    checks: list[_Check] | None = []
    for feature in reference.get("features", []):
        kind, stats = feature["logical_type"], feature.get("stats") or {}
        missing_ok = feature.get("n_missing", 0) > 0
        if kind == "numeric":
            low = high = None
            if stats.get("min") is not None:  # as validation's _range_issue bounds it
                iqr = stats["quantiles"]["p75"] - stats["quantiles"]["p25"]
                width = iqr if iqr > 0 else stats["max"] - stats["min"]
                low = stats["min"] - RANGE_IQR_FACTOR * width
                high = stats["max"] + RANGE_IQR_FACTOR * width
            checks.append((feature["name"], True, low, high, missing_ok, {}))
        elif kind == "categorical":
            stored = [c["value"] for c in feature["categories"]]
            categories = {category_key(c): c for c in stored}  # the last of equal texts, as _category_value
            checks.append((feature["name"], False, None, None, missing_ok, categories))
        elif kind == "text":
            checks.append((feature["name"], False, None, None, missing_ok, None))
        else:  # datetimes and true/false: validate_row converts them
            checks = None
            break
    scorer._row_checks = checks  # type: ignore[attr-defined]
    return checks
