"""Score converted rows with a fitted Atelier pipeline, building the model's input once.

``pipeline.predict`` and ``pipeline.predict_proba`` each run the whole preprocessing, and the
column transformer works through pandas column by column.  A ``Scorer`` reaches the fitted steps
of ``core.ml.preprocessing.build_pipeline`` (``prep → [select] → names → [resample] → model``)
and fills the model's float64 input matrix itself, block by block of the column transformer:

* the numeric block that only casts to float (what the boosters get) is copied in, ±inf as NaN,
  as ``NumericCaster`` does;
* a one-column block that starts with ``CategoryCleaner`` (a category column) is transformed on
  the column's distinct values only, remembered between calls, and gathered back by code;
* any other block is the fitted transformer's own ``transform``.

Each block is the fitted transformer applied to the same values, so the matrix is, value for
value, the one the pipeline builds.  Only tree ensembles get it: they only compare values,
whereas for linear algebra a matrix laid out otherwise than the frame pandas hands over makes
BLAS add up in another order and moves the last bits.  Other models, and pipelines of another
shape, go through their own steps (``model_input_frame``), once.

The final estimator is then called once per question: the ``predict`` of a LightGBM classifier
or of a random (extra) trees forest is, in its own code, ``classes_[argmax(predict_proba)]``, so
only the probabilities are computed; other estimators get ``predict`` and ``predict_proba`` on
the same input.  LightGBM trees can also be scored by a compiled library (``core.serve.compiled_trees``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from core.data.target import CLASSIFICATION_KINDS
from core.ml.evaluate import predicts_argmax
from core.ml.explain import BASE_COLUMN, CLASS_COLUMN, contribution_inputs, explain_rows
from core.ml.preprocessing import model_input_frame
from core.ml.steps import CategoryCleaner, FeatureNamer, LabelEncodedClassifier, NumericCaster, factorizes_like_cleaner

if TYPE_CHECKING:
    from core.serve.compiled_trees import CompiledTrees

__all__ = ["Scorer", "Scores", "scorer_for"]

# Distinct values of one category column whose transformed rows are remembered.
CACHE_VALUES = 10_000
_MISSING = object()  # the cache key of a missing value


@dataclass
class _Block:
    """One transformer of the column transformer and where its output goes."""

    columns: list[str]
    transformer: Any
    out: slice
    how: str  # "cast", "values" or "whole"
    cache: dict[str, dict[Any, np.ndarray]] = field(default_factory=dict)  # per input dtype


@dataclass(frozen=True)
class Scores:
    """What the model says about some rows: labels or values, and class probabilities."""

    prediction: np.ndarray
    proba: np.ndarray | None  # (rows, classes), columns in ``classes`` order
    model_input: Any  # the frame the final estimator was given


class _Unsupported(Exception):
    """This input cannot be built block by block: use the pipeline's own steps."""


class Scorer:
    """Predictions, probabilities and contributions of one fitted pipeline (see the module docstring)."""

    def __init__(self, pipeline: Any, kind: str) -> None:
        self.pipeline = pipeline
        self.kind = kind
        self.model = pipeline.steps[-1][1]
        self.classes = getattr(self.model, "classes_", None)
        self.lightgbm = type(self.model).__module__.startswith("lightgbm")
        self.probabilities = kind in CLASSIFICATION_KINDS and hasattr(self.model, "predict_proba")
        self._argmax = self.probabilities and predicts_argmax(self.model)
        plan = _plan(pipeline) if _only_compares(self.model) else (None, 0, None, [])
        self._blocks, self._width, self._mask, self._names = plan
        self._origin: tuple[list[str], np.ndarray] | None = None
        self._booster = _plain_booster(self.model, kind) if self.lightgbm and self._blocks is not None else None

    # -- the model's input ---------------------------------------------------------------
    def model_input(self, X: pd.DataFrame) -> pd.DataFrame:
        """``X`` (converted to the training types) as the final estimator sees it."""
        if self._blocks is not None:
            try:
                matrix = np.empty((len(X), self._width), dtype=np.float64)
                for block in self._blocks:
                    self._transform(block, X, matrix)
                if self._mask is not None:
                    matrix = matrix[:, self._mask]
                return pd.DataFrame(matrix, index=X.index, columns=self._names, copy=False)
            except _Unsupported:
                pass
        return model_input_frame(self.pipeline, X)

    def _transform(self, block: _Block, X: pd.DataFrame, matrix: np.ndarray) -> None:
        if block.how == "cast" and all(_plain_number(X[c].dtype) for c in block.columns):
            for j, c in enumerate(block.columns, start=block.out.start):
                matrix[:, j] = X[c].to_numpy(dtype=np.float64, na_value=np.nan)
            part = matrix[:, block.out]
            part[np.isinf(part)] = np.nan
        elif block.how == "values" and factorizes_like_cleaner(X[block.columns[0]]):
            matrix[:, block.out] = self._by_value(block, X[block.columns[0]])
        else:
            matrix[:, block.out] = _floats(block.transformer.transform(X[block.columns]))

    def _by_value(self, block: _Block, series: pd.Series) -> np.ndarray:
        codes, uniques = pd.factorize(series.to_numpy(), use_na_sentinel=True)
        cache = block.cache.setdefault(str(series.dtype), {})
        keys: list[Any] = [(type(u), u) for u in uniques]
        if (codes < 0).any():
            keys.append(_MISSING)
        todo = [k for k in keys if k not in cache]
        if todo:
            missing_cell = np.nan if series.dtype.kind == "f" else None
            cells = [missing_cell if k is _MISSING else k[1] for k in todo]
            frame = pd.DataFrame({block.columns[0]: pd.Series(cells, dtype=series.dtype)})
            rows = _floats(block.transformer.transform(frame))
            if len(cache) + len(todo) <= CACHE_VALUES:
                cache.update(zip(todo, rows, strict=True))
            else:  # too many distinct values to remember: use them for this call only
                cache = {**cache, **dict(zip(todo, rows, strict=True))}
        table = np.empty((len(uniques) + 1, block.out.stop - block.out.start))
        for i, key in enumerate(keys):
            table[i if key is not _MISSING else -1] = cache[key]
        return table[codes]  # code -1 (missing) reads the last row

    # -- predictions ---------------------------------------------------------------------
    def score(self, X: pd.DataFrame, *, trees: CompiledTrees | None = None, threads: int | None = None) -> Scores:
        """Predictions (and probabilities) for rows already converted to the training types.

        ``trees`` scores LightGBM's trees with a compiled library instead of LightGBM;
        ``threads`` caps LightGBM's threads (one row is fastest on one thread).
        """
        model_input = self.model_input(X)
        if trees is None and threads and self._booster is not None:
            return self._score_booster(model_input, threads)
        extra = {"num_threads": threads} if self.lightgbm and threads else {}
        if self._argmax:
            proba = trees.predict_proba(model_input) if trees is not None else \
                self.model.predict_proba(model_input, **extra)
            return Scores(self.classes[np.argmax(proba, axis=1)], proba, model_input)
        if trees is not None and self.kind == "regression":
            prediction = trees.predict(model_input)
        else:
            prediction = self.model.predict(model_input, **extra)
        proba = self.model.predict_proba(model_input, **extra) if self.probabilities else None
        return Scores(np.asarray(prediction), proba, model_input)

    def _score_booster(self, model_input: Any, threads: int) -> Scores:
        """A few rows on LightGBM's booster itself, as a float matrix: what the scikit-learn wrapper ends in
        (``Booster.predict``, the same trees and iterations), without its per-call parameter handling and
        pandas checks, which cost more than the trees of one row."""
        matrix = model_input if isinstance(model_input, np.ndarray) else model_input.to_numpy(dtype=np.float64)
        raw = np.asarray(self._booster.predict(matrix, num_threads=threads))
        if self.kind == "regression" or not self.probabilities:
            return Scores(raw, None, model_input)
        proba = raw if raw.ndim == 2 else np.vstack((1.0 - raw, raw)).transpose()  # as predict_proba lays it out
        return Scores(self.classes[np.argmax(proba, axis=1)], proba, model_input)

    def row_scores(self, values: Mapping[str, Any]) -> Scores | None:
        """``score(X, threads=1)`` of the one-row frame of ``values`` without the frame, or ``None``.

        ``values`` are the converted row as plain Python: a float per numeric column (NaN: missing), the
        training category (or ``None``: missing) per category column.  Only the booster path, and only when
        every block is a cast or a category row already remembered by an earlier call (``_by_value``,
        keyed as it keys them); anything else is ``None``, for ``score`` to do (and remember).
        ``model_input`` is then the float matrix, not a frame.
        """
        if self._booster is None or self._blocks is None:
            return None
        row = np.empty(self._width, dtype=np.float64)
        for block in self._blocks:
            if block.how == "cast":
                for j, c in enumerate(block.columns, start=block.out.start):
                    v = values.get(c)
                    if type(v) is not float:
                        return None
                    row[j] = v if v - v == 0.0 else np.nan  # ±inf and NaN: missing, as NumericCaster does
            elif block.how == "values":
                v = values.get(block.columns[0], _MISSING)
                if v is not None and type(v) not in (str, int):  # what factorizes_like_cleaner takes alike
                    return None
                cached = block.cache.get("object", {}).get(_MISSING if v is None else (type(v), v))
                if cached is None:
                    return None
                row[block.out] = cached
            else:
                return None
        matrix = (row if self._mask is None else row[self._mask]).reshape(1, -1)
        return self._score_booster(matrix, 1)

    def contributions(self, X: pd.DataFrame, scores: Scores, *, threads: int | None = None) -> pd.DataFrame:
        """``core.ml.explain.explain_rows`` of ``X``, reusing the input and predictions of ``score``."""
        if not self.lightgbm:
            return explain_rows(self.pipeline, X)
        # explain_rows' LightGBM path, on the input already built
        model_input = scores.model_input
        extra = {"num_threads": threads} if threads else {}
        raw = np.asarray(self.model.predict(model_input, pred_contrib=True, **extra))
        n, width = model_input.shape
        raw = raw.reshape(n, raw.shape[1] // (width + 1), width + 1)
        values, base = raw[:, :, :-1].transpose(0, 2, 1), raw[:, :, -1]
        inputs, matrix = self._inputs(list(model_input.columns))
        per_input = np.einsum("nfk,fi->nik", values, matrix)
        if values.shape[2] > 1:
            which = np.searchsorted(np.asarray(self.classes), scores.prediction)
            picked, base_picked = per_input[np.arange(n), :, which], base[np.arange(n), which]
            explained = scores.prediction
        else:
            picked, base_picked = per_input[:, :, 0], base[:, 0]
            explained = None if self.classes is None else np.repeat(np.asarray(self.classes)[-1], n)
        out = pd.DataFrame(picked, index=X.index, columns=inputs)
        out[BASE_COLUMN] = base_picked
        if explained is not None:
            out[CLASS_COLUMN] = explained
        return out

    def _inputs(self, model_columns: list[str]) -> tuple[list[str], np.ndarray]:
        # explain's sum-back matrix (model column -> its input column), built once per loaded model
        if self._origin is None:
            self._origin = contribution_inputs(self.pipeline, model_columns)
        return self._origin


def _plain_booster(model: Any, kind: str) -> Any:
    """The fitted booster of a LightGBM estimator whose predictions are the booster's own (a built-in
    objective, no pandas categories, predict = argmax of the probabilities), else ``None``."""
    booster = getattr(model, "booster_", None) if getattr(model, "fitted_", False) else None
    if booster is None or callable(getattr(model, "_objective", None)) or booster.pandas_categorical:
        return None
    if kind != "regression" and not predicts_argmax(model):
        return None
    return booster


def _plan(pipeline: Any) -> tuple[list[_Block] | None, int, np.ndarray | None, list[str]]:
    """The blocks of ``pipeline``'s column transformer, or ``None`` for a pipeline of another shape."""
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_selection import SelectorMixin
    from sklearn.pipeline import Pipeline


    unknown: tuple[None, int, None, list[str]] = (None, 0, None, [])
    steps = getattr(pipeline, "steps", None)
    if not steps or len(steps) < 3:
        return unknown
    (_, prep), namer, mask = steps[0], None, None
    for _, step in steps[1:-1]:
        if isinstance(step, SelectorMixin) and mask is None and namer is None:
            mask = np.asarray(step.get_support(), dtype=bool)
        elif isinstance(step, FeatureNamer) and namer is None:
            namer = step
        elif step not in (None, "passthrough") and hasattr(step, "transform"):
            return unknown  # a step we do not know how to replay (a resampler has no transform: skipped)
    if not isinstance(prep, ColumnTransformer) or namer is None:
        return unknown
    blocks: list[_Block] = []
    for name, transformer, columns in prep.transformers_:
        out = prep.output_indices_[name]
        if transformer == "drop" or out.stop == out.start:
            continue
        if transformer == "passthrough" or not isinstance(transformer, Pipeline) or \
                not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            return unknown
        first = transformer.steps[0][1]
        if len(transformer.steps) == 1 and isinstance(first, NumericCaster):
            how = "cast"
        elif len(columns) == 1 and isinstance(first, CategoryCleaner):
            how = "values"
        else:
            how = "whole"
        blocks.append(_Block(list(columns), transformer, out, how))
    width = max((b.out.stop for b in blocks), default=0)
    names = [str(n) for n in namer.names_]
    if len(names) != (int(mask.sum()) if mask is not None else width) or (mask is not None and len(mask) != width):
        return unknown
    return blocks, width, mask, names


_TREE_MODELS = frozenset({
    "DecisionTreeClassifier", "DecisionTreeRegressor", "ExtraTreeClassifier", "ExtraTreeRegressor",
    "RandomForestClassifier", "RandomForestRegressor", "ExtraTreesClassifier", "ExtraTreesRegressor",
    "GradientBoostingClassifier", "GradientBoostingRegressor", "HistGradientBoostingClassifier",
    "HistGradientBoostingRegressor", "LGBMClassifier", "LGBMRegressor", "XGBClassifier", "XGBRegressor",
})


def _only_compares(model: Any) -> bool:
    """Whether ``model`` is a tree ensemble (inside Atelier's label-encoding wrapper or not)."""
    inner = model.estimator_ if isinstance(model, LabelEncodedClassifier) else model
    return type(inner).__name__ in _TREE_MODELS and type(inner).__module__.split(".")[0] in (
        "sklearn", "lightgbm", "xgboost")


def _plain_number(dtype: Any) -> bool:
    return isinstance(dtype, np.dtype) and dtype.kind in "iuf"


def _floats(part: Any) -> np.ndarray:
    """A block's output as float64, refusing anything the estimator would not read as float64."""
    dtypes = part.dtypes if isinstance(part, pd.DataFrame) else [np.asarray(part).dtype]
    if any(d != np.float64 for d in dtypes):
        raise _Unsupported  # e.g. an all-integer input LightGBM would read as float32
    return np.asarray(part, dtype=np.float64)


_SCORERS: dict[int, Scorer] = {}
_SCORERS_MAX = 8


def scorer_for(pipeline: Any, kind: str) -> Scorer:
    """The scorer of ``pipeline``, kept per process with its remembered category rows."""
    scorer = _SCORERS.get(id(pipeline))
    if scorer is None or scorer.pipeline is not pipeline or scorer.kind != kind:
        if len(_SCORERS) >= _SCORERS_MAX:
            _SCORERS.pop(next(iter(_SCORERS)))
        scorer = _SCORERS[id(pipeline)] = Scorer(pipeline, kind)
    return scorer
