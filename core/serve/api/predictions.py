"""A request's rows scored as batch scoring scores them, and the answer as plain JSON.

The rows are validated and converted by ``core.serve.validation.validate_and_coerce`` against the
model's reference statistics, then scored by the model's ``Scorer`` and laid out by
``core.serve.outputs.prediction_columns``: the numbers a batch run writes for the same rows.  A
request with a blocking problem is refused whole (:class:`Refused`, with the report): nothing is
half-scored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from core.serve.api.gc_pause import gc_paused
from core.serve.api.payloads import Rows
from core.serve.compiled_trees import CHECK_ROWS, CompiledTrees, compiled_trees
from core.serve.loaded import LoadedModel
from core.serve.one_row import plain_row_scores
from core.serve.scoring import Scorer
from core.serve.validation import ValidationReport, validate_and_coerce, validate_row

__all__ = ["Refused", "Scored", "report_json", "score_rows"]

SMALL = 64  # rows: up to this, LightGBM scores on one thread (waking its pool costs more than the trees)
TREES_FROM = 10_000  # rows: from this many, compiled trees (when built) beat LightGBM's own predictor


class Refused(Exception):
    """The rows have a blocking problem: ``report`` lists every issue per column."""

    def __init__(self, report: ValidationReport) -> None:
        super().__init__("validation failed")
        self.report = report


@dataclass(frozen=True)
class Scored:
    predictions: list[dict[str, Any]]
    warnings: list[str]
    rows: int


def report_json(report: ValidationReport) -> dict[str, Any]:
    """A validation report as JSON: rows checked and each issue with its column, kind and message."""
    return {"n_rows": report.n_rows, "ok": report.ok, "issues": [
        {"column": i.column, "kind": i.kind, "severity": i.severity, "count": i.count, "message": i.message,
         "examples": list(i.examples)} for i in report.issues]}


def score_rows(model: LoadedModel, rows: Rows, *, explain: int = 0, trees_dir: Path | None = None) -> Scored:
    """Validate, convert and score ``rows``; ``explain`` adds each row's top contributions (0: none).

    ``trees_dir``: where batch scoring keeps LightGBM models compiled to C; a big request scores
    through them when a batch has built them already (a request never waits for a build), checked
    against LightGBM first as a batch checks them.
    """
    if rows.row is not None and not explain:  # a row with nothing to report: no frame, no report
        quick = plain_row_scores(model, rows.row)
        if quick is not None:
            return Scored(_answers(model.scorer, quick.prediction, quick.proba), [], 1)
    if rows.row is not None:  # the same report and row as validate_and_coerce of the one-row frame, faster
        report, X = validate_row(model.reference, rows.row)
    else:
        report, X = validate_and_coerce(model.reference, rows.frame, file_columns=rows.columns)
    if X is None or not report.ok:
        raise Refused(report)
    scorer = model.scorer
    trees = _built_trees(model, X, trees_dir) if trees_dir is not None and len(X) >= TREES_FROM else None
    scores = scorer.score(X, trees=trees, threads=1 if len(X) <= SMALL else None)
    explain = explain if model.kind != "clustering" else 0
    contributions = scorer.contributions(X, scores, threads=1 if len(X) <= SMALL else None) if explain else None
    with gc_paused():
        out = _answers(scorer, np.asarray(scores.prediction), scores.proba)  # prediction_columns' numbers
        if contributions is not None:
            _add_contributions(out, contributions, explain)
    return Scored(out, [i.message for i in report.warnings], len(X))


def _built_trees(model: LoadedModel, X: pd.DataFrame, trees_dir: Path) -> CompiledTrees | None:
    scorer = model.scorer
    if not scorer.lightgbm or model.kind == "clustering":
        return None
    trees = compiled_trees(trees_dir, model.version.sha256 or "", scorer.model, rows=None)  # None: never build
    if trees is None or not trees.matches(scorer.model, scorer.model_input(X.iloc[:CHECK_ROWS])):
        return None
    return trees


def _answers(scorer: Scorer, prediction: np.ndarray, proba: np.ndarray | None) -> list[dict[str, Any]]:
    """One ``{"prediction", "probabilities"}`` object per row, as plain JSON values."""
    if proba is None:
        return [{"prediction": p} for p in _values(prediction)]
    labels = [str(label) for label in scorer.classes]
    if len(labels) == 2 and proba.shape[1] == 2:  # the common case, ~2x faster: no row lists, no zip per row
        first, second = labels
        return [{"prediction": p, "probabilities": {first: a, second: b}} for p, a, b in
                zip(_values(prediction), proba[:, 0].tolist(), proba[:, 1].tolist(), strict=True)]
    return [{"prediction": p, "probabilities": dict(zip(labels, row, strict=True))}
            for p, row in zip(_values(prediction), proba.tolist(), strict=True)]


def _values(values: np.ndarray) -> list[Any]:
    if values.dtype.kind == "f":
        return [None if math.isnan(v) else v for v in values.tolist()]
    if values.dtype.kind in "iub":
        return values.tolist()
    return [v.item() if isinstance(v, np.generic) else v for v in values.tolist()]


def _add_contributions(out: list[dict[str, Any]], contributions: pd.DataFrame, n: int) -> None:
    from core.ml.explain import BASE_COLUMN, CLASS_COLUMN, top_contributions

    top = top_contributions(contributions, n)
    base = contributions[BASE_COLUMN].to_numpy(dtype=np.float64).tolist()
    pairs = [(top[f"feature_{j}"].tolist(), top[f"contribution_{j}"].tolist())
             for j in range(1, n + 1) if f"feature_{j}" in top]
    for i, row in enumerate(out):
        row["contributions"] = {str(features[i]): values[i] for features, values in pairs}
        row["base_value"] = base[i]
    if CLASS_COLUMN in contributions:
        for row, label in zip(out, contributions[CLASS_COLUMN].tolist(), strict=True):
            row["explained_class"] = label.item() if isinstance(label, np.generic) else label
