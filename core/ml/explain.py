"""Why a model predicts what it does: feature importances and SHAP contributions per input column.

Contributions are computed on the columns the model sees and summed back to the input column
each came from (one-hot columns of 'colour' add up to 'colour'), so every answer speaks the
data's own column names.  The fastest exact path is used where one exists:

* LightGBM and XGBoost: their native contributions (``pred_contrib`` / ``pred_contribs``);
* scikit-learn trees and HistGradientBoosting: ``shap.TreeExplainer`` (the summary of a bagged
  forest on at most ``FOREST_ROWS`` rows: TreeSHAP on deep trees is slow);
* linear models: ``coef * (x - training mean)`` (what shap's LinearExplainer computes);
* anything else: permutation SHAP (two antithetic permutations against a 20-row background) on
  at most ``SLOW_ROWS`` rows (:mod:`core.ml.permutation_shap`, also why not shap's own);
* AutoML's weighted ensembles: the same permutation SHAP over the whole ensemble, on its raw
  input columns (:meth:`core.ml.ensemble.WeightedEnsemble.contributions`), in probability units.

Units are the model's raw output: log-odds for boosters and linear classifiers, probability for
forests and the permutation path, the target's unit for regression.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import ClusterMixin

from core.ml.ensemble import WeightedEnsemble
from core.ml.permutation_shap import PERMUTATIONS, permutation_shap
from core.ml.preprocessing import model_input_frame, model_input_origin
from core.ml.steps import LabelEncodedClassifier
from core.platform.errors import InvalidInputError

__all__ = ["ShapSummary", "contribution_inputs", "explain_rows", "feature_importances", "shap_summary",
           "top_contributions"]

SLOW_ROWS = 50
# TreeSHAP on a forest of deep, unpruned trees costs ~4 ms a row (titanic, 100 trees): 4.5 s for 1,000 rows,
# twenty times the forest's fit. The mean |SHAP| ranking is settled well before 200 rows.
FOREST_ROWS = 200
SLOW_BACKGROUND = 20
BASE_COLUMN = "(base)"
CLASS_COLUMN = "(class)"


@dataclass(frozen=True)
class ShapSummary:
    """Global SHAP importance: mean |contribution| per input feature, largest first."""

    mean_abs: dict[str, float]
    method: str
    n_rows: int
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"mean_abs": dict(self.mean_abs), "method": self.method, "n_rows": self.n_rows,
                "seconds": round(self.seconds, 4)}


def _input_columns(pipeline: Any) -> list[str]:
    return [str(c) for c in pipeline.named_steps["prep"].feature_names_in_]


def contribution_inputs(pipeline: Any, model_columns: list[str]) -> tuple[list[str], np.ndarray]:
    """Input columns and the (model columns × input columns) 0/1 matrix that sums contributions back.

    Input columns the model never sees (free text or datetimes that preprocessing drops, columns
    feature selection removed) are left out: they would only show as zero bars.
    """
    origin = model_input_origin(pipeline)
    used = set(origin.values())
    inputs = [c for c in _input_columns(pipeline) if c in used]
    position = {c: i for i, c in enumerate(inputs)}
    matrix = np.zeros((len(model_columns), len(inputs)))
    for row, column in enumerate(model_columns):
        matrix[row, position[origin[column]]] = 1.0
    return inputs, matrix


def _sorted(values: dict[str, float]) -> dict[str, float]:
    return dict(sorted(values.items(), key=lambda kv: -kv[1]))


def feature_importances(
    pipeline: Any, X: pd.DataFrame, y: pd.Series | None, kind: str, *, max_rows: int = 2000, seed: int = 0,
) -> tuple[dict[str, float], str]:
    """Importance per input feature (summing to 1) and the method used.

    ``native`` uses the model's ``feature_importances_`` or ``|coef_|`` mapped back to input
    columns; otherwise ``permutation`` importance of the whole pipeline on at most ``max_rows``
    rows.  Clustering has none: ``({}, "none")``.
    """
    model = pipeline.steps[-1][1]
    names = list(pipeline.named_steps["names"].names_) if "names" in pipeline.named_steps else []
    raw = None
    if isinstance(model, WeightedEnsemble):
        pass  # members differ in kind: only permutation importance speaks for the whole
    elif hasattr(model, "feature_importances_"):
        raw = np.asarray(model.feature_importances_, dtype=np.float64)
    elif hasattr(model, "coef_"):
        coef = np.atleast_2d(np.asarray(model.coef_, dtype=np.float64))
        raw = np.abs(coef).mean(axis=0)
    if raw is not None and raw.shape == (len(names),):
        inputs, matrix = contribution_inputs(pipeline, names)
        return _normalised(dict(zip(inputs, raw @ matrix, strict=True))), "native"
    if kind == "clustering" or y is None:
        return {}, "none"
    from sklearn.inspection import permutation_importance

    rows = _sample_rows(len(X), max_rows, seed)
    result = permutation_importance(pipeline, X.iloc[rows], y.iloc[rows], n_repeats=3, random_state=seed)
    values = np.clip(result.importances_mean, 0.0, None)
    used = set(model.input_columns()) if isinstance(model, WeightedEnsemble) else \
        set(model_input_origin(pipeline).values())  # columns preprocessing drops: no zero bars
    return _normalised({c: v for c, v in zip(map(str, X.columns), values, strict=True) if c in used}), "permutation"


def _normalised(values: dict[str, float]) -> dict[str, float]:
    total = sum(values.values())
    return _sorted({k: float(v / total) if total > 0 else 0.0 for k, v in values.items()})


def _sample_rows(n: int, limit: int, seed: int) -> np.ndarray:
    return np.arange(n) if n <= limit else np.sort(np.random.default_rng(seed).choice(n, limit, replace=False))


def _unwrapped(model: Any) -> Any:
    """The library model inside our label-encoding wrapper (XGBoost classifiers)."""
    return model.estimator_ if isinstance(model, LabelEncodedClassifier) else model


def _contributions(pipeline: Any, Xm: pd.DataFrame, seed: int = 0) -> tuple[np.ndarray, np.ndarray, str]:
    """SHAP values on the model's own columns: ``(values (n, F, K), base (n, K), method)``."""
    model = pipeline.steps[-1][1]
    inner = _unwrapped(model)
    module = type(inner).__module__
    n, width = Xm.shape
    if module.startswith("lightgbm"):
        raw = np.asarray(inner.predict(Xm, pred_contrib=True))
        k = raw.shape[1] // (width + 1)
        raw = raw.reshape(n, k, width + 1)
        return raw[:, :, :-1].transpose(0, 2, 1), raw[:, :, -1], "lightgbm native contributions"
    if module.startswith("xgboost"):
        import xgboost

        raw = np.asarray(inner.get_booster().predict(xgboost.DMatrix(Xm), pred_contribs=True))
        raw = raw[:, None, :] if raw.ndim == 2 else raw
        return raw[:, :, :-1].transpose(0, 2, 1), raw[:, :, -1], "xgboost native contributions"
    if hasattr(inner, "tree_") or hasattr(inner, "estimators_") or type(inner).__name__.startswith("HistGradient"):
        import shap

        explainer = shap.TreeExplainer(inner)
        values = np.asarray(explainer.shap_values(Xm, check_additivity=False))
        values = values[:, :, None] if values.ndim == 2 else values
        base = np.broadcast_to(np.atleast_1d(explainer.expected_value), (n, values.shape[2]))
        if values.shape[2] == 2:  # binary forests explain both classes: keep the second, like the boosters
            values, base = values[:, :, 1:], base[:, 1:]
        return values, np.asarray(base, dtype=np.float64), "shap TreeExplainer"
    if hasattr(inner, "coef_") and hasattr(inner, "intercept_"):
        coef = np.atleast_2d(np.asarray(inner.coef_, dtype=np.float64))
        mean = pipeline.named_steps["names"].mean_
        centred = Xm.to_numpy(dtype=np.float64) - mean
        values = centred[:, :, None] * coef.T[None, :, :]
        base = np.broadcast_to(np.atleast_1d(inner.intercept_) + coef @ mean, (n, coef.shape[0]))
        return values, np.asarray(base, dtype=np.float64), "linear (coef × centred value)"
    return _permutation_contributions(pipeline, model, Xm, seed)


def _permutation_contributions(pipeline: Any, model: Any, Xm: pd.DataFrame, seed: int) -> tuple[
        np.ndarray, np.ndarray, str]:
    """Permutation SHAP values (:func:`core.ml.permutation_shap.permutation_shap`) on the model's columns."""
    columns = list(Xm.columns)
    if hasattr(model, "predict_proba"):
        output = model.predict_proba
    elif hasattr(model, "decision_function"):
        output = model.decision_function
    else:
        output = model.predict
    background = pd.DataFrame(pipeline.named_steps["names"].background_[:SLOW_BACKGROUND], columns=columns)
    rows = pd.DataFrame(Xm.to_numpy(dtype=np.float64), columns=columns)
    values, base = permutation_shap(output, rows, background, seed, PERMUTATIONS)
    base = np.broadcast_to(base, (len(rows), base.shape[0]))
    if values.shape[2] == 2:
        values, base = values[:, :, 1:], base[:, 1:]
    return values, np.asarray(base), f"permutation SHAP ({2 * PERMUTATIONS} antithetic passes)"


def shap_summary(pipeline: Any, X: pd.DataFrame, kind: str, *, max_rows: int = 1000, seed: int = 0) -> ShapSummary:
    """Mean |SHAP| per input feature on at most ``max_rows`` sampled rows (fewer for slow models)."""
    started = time.perf_counter()
    if kind == "clustering":
        return ShapSummary({}, "none (clustering)", 0, 0.0)
    rows = _sample_rows(len(X), max_rows, seed)
    if isinstance(pipeline.steps[-1][1], WeightedEnsemble):
        rows = rows[_sample_rows(len(rows), SLOW_ROWS, seed)]
        inputs, per_input, _, method = _input_contributions(pipeline, X.iloc[rows], seed)
        n_rows = len(rows)
    else:
        Xm = model_input_frame(pipeline, X.iloc[rows])
        if _is_slow(pipeline):
            Xm = Xm.iloc[_sample_rows(len(Xm), SLOW_ROWS, seed)]
        elif _is_forest(pipeline):
            Xm = Xm.iloc[_sample_rows(len(Xm), FOREST_ROWS, seed)]
        values, _, method = _contributions(pipeline, Xm, seed)
        inputs, matrix = contribution_inputs(pipeline, list(Xm.columns))
        per_input = np.einsum("nfk,fi->nik", values, matrix)
        n_rows = len(Xm)
    mean_abs = np.abs(per_input).mean(axis=(0, 2))
    summary = {c: float(v) for c, v in zip(inputs, mean_abs, strict=True)}
    return ShapSummary(_sorted(summary), method, n_rows, time.perf_counter() - started)


def _input_contributions(pipeline: Any, rows: pd.DataFrame, seed: int) -> tuple[
        list[str], np.ndarray, np.ndarray, str]:
    """Contributions per input column ``(inputs, values (n, inputs, K), base (n, K), method)``."""
    model = pipeline.steps[-1][1]
    if isinstance(model, WeightedEnsemble):
        values, base, method = model.contributions(rows, seed)
        return model.input_columns(), values, base, method
    Xm = model_input_frame(pipeline, rows)
    values, base, method = _contributions(pipeline, Xm, seed)
    inputs, matrix = contribution_inputs(pipeline, list(Xm.columns))
    return inputs, np.einsum("nfk,fi->nik", values, matrix), base, method


def _is_forest(pipeline: Any) -> bool:
    """scikit-learn's bagged forests (random forest, extra trees): deep trees, slow TreeSHAP."""
    inner = _unwrapped(pipeline.steps[-1][1])
    return type(inner).__module__.startswith("sklearn.ensemble") and hasattr(inner, "estimators_") \
        and not type(inner).__name__.startswith(("HistGradient", "GradientBoosting", "AdaBoost"))


def _is_slow(pipeline: Any) -> bool:
    inner = _unwrapped(pipeline.steps[-1][1])
    module = type(inner).__module__
    fast = (module.startswith(("lightgbm", "xgboost")) or hasattr(inner, "tree_") or hasattr(inner, "estimators_")
            or type(inner).__name__.startswith("HistGradient") or hasattr(inner, "coef_"))
    return not fast


def explain_rows(pipeline: Any, rows: pd.DataFrame, *, seed: int = 0) -> pd.DataFrame:
    """SHAP contributions of each input feature for each row, for a waterfall or a top-3 list.

    Parameters
    ----------
    pipeline : a fitted Atelier pipeline (classification or regression).
    rows : raw rows with the training columns.

    Returns
    -------
    DataFrame
        Indexed like ``rows``: one float column per input feature, ``"(base)"`` (the model's
        expected output; base + contributions = this row's raw output) and, for classifiers,
        ``"(class)"``, the class explained (the predicted one for multiclass, the second
        sorted class for binary).
    """
    model = pipeline.steps[-1][1]
    if isinstance(model, ClusterMixin):
        raise InvalidInputError(
            "Per-row explanations are for classification and regression models; this one is a clustering model."
        )
    inputs, per_input, base, _ = _input_contributions(pipeline, rows, seed)
    classes = getattr(model, "classes_", None)
    if per_input.shape[2] > 1:
        predicted = np.asarray(pipeline.predict(rows))
        which = np.searchsorted(np.asarray(classes), predicted)
        picked = per_input[np.arange(len(rows)), :, which]
        base_picked = base[np.arange(len(rows)), which]
        explained = predicted
    else:
        picked, base_picked = per_input[:, :, 0], base[:, 0]
        explained = None if classes is None else np.repeat(np.asarray(classes)[-1], len(rows))
    out = pd.DataFrame(picked, index=rows.index, columns=inputs)
    out[BASE_COLUMN] = base_picked
    if explained is not None:
        out[CLASS_COLUMN] = explained
    return out


def top_contributions(contributions: pd.DataFrame, n: int = 3) -> pd.DataFrame:
    """The ``n`` largest contributions (by absolute value) per row: ``feature_1, contribution_1, …``."""
    features = [c for c in contributions.columns if c not in (BASE_COLUMN, CLASS_COLUMN)]
    values = contributions[features].to_numpy(dtype=np.float64)
    order = np.argsort(-np.abs(values), axis=1, kind="stable")[:, :n]
    out = {}
    for j in range(min(n, len(features))):
        out[f"feature_{j + 1}"] = np.asarray(features, dtype=object)[order[:, j]]
        out[f"contribution_{j + 1}"] = values[np.arange(len(values)), order[:, j]]
    return pd.DataFrame(out, index=contributions.index)
