"""A request's rows scored as batch scoring scores them, and the answer row by row or column by column.

The rows are validated and converted by ``core.serve.validation.validate_and_coerce`` against the
model's reference statistics, then scored by the model's ``Scorer`` and laid out by
``core.serve.outputs.prediction_columns``: the numbers a batch run writes for the same rows.  A
request with a blocking problem is refused whole (:class:`Refused`, with the report): nothing is
half-scored.  The scores stay arrays (:class:`Scored`) until the answer is written: one object per
row (the default), or columns named as batch scoring's output names them (JSON lists or Parquet).
"""

from __future__ import annotations

import math
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

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


class Scored:
    """A request's scores, kept as arrays: the default answer's row objects (``predictions``) are built
    only when asked for, so a columnar answer (``columns``, ``table``) never pays for 100k dicts."""

    def __init__(self, scorer: Scorer, prediction: np.ndarray, proba: np.ndarray | None, warnings: list[str],
                 rows: int, contributions: pd.DataFrame | None = None, explain: int = 0) -> None:
        self.scorer, self.prediction, self.proba = scorer, np.asarray(prediction), proba
        self.warnings, self.rows = warnings, rows
        self._contributions, self._explain = contributions, explain

    @property
    def classifier(self) -> bool:
        return self.proba is not None

    @cached_property
    def values(self) -> list[Any]:
        """Each row's prediction as a plain JSON value (NaN as ``None``)."""
        return _values(self.prediction)

    @cached_property
    def predictions(self) -> list[dict[str, Any]]:
        """One ``{"prediction", "probabilities"}`` object per row (the default answer)."""
        with gc_paused():
            out = _answers(self.scorer, self.values, self.proba)  # prediction_columns' numbers
            if self._contributions is not None:
                _add_contributions(out, self._contributions, self._explain)
        return out

    def forget_answer(self) -> None:
        """Free the row objects once written (``predictions`` builds them again if asked)."""
        self.__dict__.pop("predictions", None)

    def columns(self) -> dict[str, Any]:
        """The answer column by column, named as batch scoring's output names them (``prediction``,
        ``probability_<class>``; with contributions ``feature_<j>``, ``contribution_<j>``, ``base_value``
        and, for classifiers, ``explained_class``): numpy arrays where orjson writes them as they are,
        plain lists otherwise."""
        out: dict[str, Any] = {"prediction": _column(self.prediction)}
        if self.proba is not None:
            proba = np.asarray(self.proba, dtype=np.float64)  # float64: the digits the default answer writes
            out.update({f"probability_{label}": np.ascontiguousarray(proba[:, i])
                        for i, label in enumerate(self.scorer.classes)})
        if self._contributions is not None:
            from core.ml.explain import BASE_COLUMN, CLASS_COLUMN, top_contributions

            top = top_contributions(self._contributions, self._explain)
            out.update({str(c): _column(top[c].to_numpy()) for c in top.columns})
            out["base_value"] = _column(self._contributions[BASE_COLUMN].to_numpy(dtype=np.float64))
            if CLASS_COLUMN in self._contributions:
                out["explained_class"] = _column(self._contributions[CLASS_COLUMN].to_numpy())
        return out

    def table(self) -> pa.Table:
        """The answer as an Arrow table: one column per name of :meth:`columns`."""
        return pa.table({name: _arrow(values) for name, values in self.columns().items()})


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
            return Scored(model.scorer, np.asarray(quick.prediction), quick.proba, [], 1)
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
    return Scored(scorer, scores.prediction, scores.proba, [i.message for i in report.warnings], len(X),
                  contributions, explain)


def _built_trees(model: LoadedModel, X: pd.DataFrame, trees_dir: Path) -> CompiledTrees | None:
    scorer = model.scorer
    if not scorer.lightgbm or model.kind == "clustering":
        return None
    trees = compiled_trees(trees_dir, model.version.sha256 or "", scorer.model, rows=None)  # None: never build
    if trees is None or not trees.matches(scorer.model, scorer.model_input(X.iloc[:CHECK_ROWS])):
        return None
    return trees


def _answers(scorer: Scorer, values: list[Any], proba: np.ndarray | None) -> list[dict[str, Any]]:
    """One ``{"prediction", "probabilities"}`` object per row, as plain JSON values."""
    if proba is None:
        return [{"prediction": p} for p in values]
    labels = [str(label) for label in scorer.classes]
    if len(labels) == 2 and proba.shape[1] == 2:  # the common case, ~2x faster: no row lists, no zip per row
        first, second = labels
        return [{"prediction": p, "probabilities": {first: a, second: b}} for p, a, b in
                zip(values, proba[:, 0].tolist(), proba[:, 1].tolist(), strict=True)]
    return [{"prediction": p, "probabilities": dict(zip(labels, row, strict=True))}
            for p, row in zip(values, proba.tolist(), strict=True)]


def _column(values: np.ndarray) -> np.ndarray | list[Any]:
    """A column as orjson writes it straight from memory (float64, integers, booleans: the same digits
    as their ``tolist()``), else as the plain values the default answer holds (labels as text, say)."""
    if values.dtype.kind == "f":
        return np.ascontiguousarray(values, dtype=np.float64)  # NaN is written as null, as None is
    if values.dtype.kind in "iub" and values.dtype.itemsize <= 8:
        return np.ascontiguousarray(values)
    return _values(values)


def _arrow(values: np.ndarray | list[Any]) -> pa.Array:
    if isinstance(values, np.ndarray):
        return pa.array(values, from_pandas=True)  # NaN as a null, as batch scoring's Parquet has it
    return pa.array(values)


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
