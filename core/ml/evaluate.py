"""Metrics and curves of a fitted pipeline, as plain JSON-able numbers and lists.

Metric names are lower-case and stable (they key the leaderboard): classification gives
accuracy, balanced_accuracy, precision/recall/f1 (binary), *_macro and *_weighted, roc_auc,
pr_auc (average precision), log_loss and, binary with probabilities, brier (the mean squared
error of the positive class's probability: 0 is perfect, 0.25 what always saying 50% scores);
regression rmse, mae, r2, mape; clustering silhouette
(on a capped sample), davies_bouldin, calinski_harabasz.  Curves are thinned to at most 200
points, scatter data to at most 2,000 rows, so they can be stored and drawn without thought.
Models without ``predict_proba`` (linear SVM, SVC) are scored with ``decision_function``:
ranking metrics and curves stay valid, probability-only ones (log_loss, calibration) are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.ml.preprocessing import model_input_frame

__all__ = ["LOWER_IS_BETTER", "Evaluation", "classification_curves", "classification_metrics",
           "clustering_curves", "clustering_metrics", "evaluate", "model_scores", "regression_curves",
           "regression_metrics"]

LOWER_IS_BETTER = frozenset({"rmse", "mae", "mape", "log_loss", "brier", "davies_bouldin"})
MAX_CURVE_POINTS = 200
MAX_SCATTER_POINTS = 2000
SILHOUETTE_ROWS = 5000


@dataclass
class Evaluation:
    """Metrics (name → float), curves (JSON-able) and notes on anything skipped."""

    metrics: dict[str, float]
    curves: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def _json(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value if isinstance(value, bool | int | float | str) or value is None else str(value)


def predicts_argmax(model: Any) -> bool:
    """Whether ``model.predict`` is, in its own code, ``classes_[argmax(predict_proba)]``."""
    name, module = type(model).__name__, type(model).__module__
    if name == "LGBMClassifier" and module.startswith("lightgbm"):
        # a custom objective makes predict_proba return raw scores
        return not callable(getattr(model, "objective", None))
    forest = name in ("RandomForestClassifier", "ExtraTreesClassifier") and module.startswith("sklearn.")
    return forest and getattr(model, "n_outputs_", None) == 1


def _floats(values: Any) -> list[float | None]:
    return [None if not np.isfinite(v) else round(float(v), 6) for v in np.asarray(values, dtype=np.float64)]


def _thin(n: int, limit: int = MAX_CURVE_POINTS) -> np.ndarray:
    return np.arange(n) if n <= limit else np.unique(np.linspace(0, n - 1, limit).round().astype(int))


def model_scores(model: Any, X: Any) -> tuple[np.ndarray | None, bool]:
    """``(scores, is_probability)``: ``predict_proba`` when the model has it, else ``decision_function``."""
    if hasattr(model, "predict_proba"):
        try:
            return np.asarray(model.predict_proba(X)), True
        except AttributeError:  # e.g. SVC(probability=False) exposes the method but refuses it
            pass
    if hasattr(model, "decision_function"):
        return np.asarray(model.decision_function(X)), False
    return None, False


def _positive_scores(scores: np.ndarray, is_proba: bool, classes: np.ndarray, positive: Any) -> np.ndarray:
    index = int(np.flatnonzero(classes == positive)[0])
    if is_proba:
        return scores[:, index]
    # decision_function of a binary model scores classes_[1]
    return scores if index == 1 else -scores


def classification_metrics(
    y_true: Any, y_pred: Any, scores: np.ndarray | None, classes: Any, *, is_proba: bool = True,
    positive_label: Any = None, curves: dict[str, Any] | None = None,
) -> tuple[dict[str, float], list[str]]:
    """Classification metrics; ``scores`` has one column per entry of ``classes`` (or is 1-D for binary scores).

    ``curves`` (:func:`classification_curves` of the same rows) lend their areas to ROC-AUC and PR-AUC,
    which then cost no second sort of the scores.
    """
    from sklearn import metrics as m

    y_true, y_pred, classes = np.asarray(y_true), np.asarray(y_pred), np.asarray(classes)
    notes: list[str] = []
    out: dict[str, float] = {"accuracy": m.accuracy_score(y_true, y_pred)}
    present = np.unique(np.concatenate([y_true, y_pred]))
    if len(np.unique(y_true)) > 1:
        out["balanced_accuracy"] = m.balanced_accuracy_score(y_true, y_pred)
    binary = len(classes) == 2
    positive = classes[-1] if positive_label is None else positive_label
    if binary:
        for name, fn in (("precision", m.precision_score), ("recall", m.recall_score), ("f1", m.f1_score)):
            out[name] = fn(y_true, y_pred, pos_label=positive, average="binary", zero_division=0)
        out["f1_macro"] = m.f1_score(y_true, y_pred, average="macro", labels=present, zero_division=0)
    else:
        for name, fn in (("precision", m.precision_score), ("recall", m.recall_score), ("f1", m.f1_score)):
            for avg in ("macro", "weighted"):
                out[f"{name}_{avg}"] = fn(y_true, y_pred, average=avg, labels=present, zero_division=0)
    if scores is not None:
        if binary:
            positive_scores = _positive_scores(scores, is_proba, classes, positive)
            truth = y_true == positive
            if truth.all() or not truth.any():
                notes.append("ROC-AUC and PR-AUC need both classes in the test rows; skipped.")
            else:
                out["roc_auc"], out["pr_auc"] = _areas(curves, positive, truth, positive_scores)
            if is_proba:
                out["brier"] = m.brier_score_loss(truth, positive_scores)
        else:
            per_class = [_areas(curves, c, y_true == c, scores[:, i])
                         for i, c in enumerate(classes) if 0 < np.sum(y_true == c) < len(y_true)]
            if len(per_class) < len(classes):
                notes.append("Some classes are absent from the test rows: ROC-AUC and PR-AUC average the others.")
            if per_class:
                out["roc_auc"] = float(np.mean([a for a, _ in per_class]))
                out["pr_auc"] = float(np.mean([p for _, p in per_class]))
        if is_proba and set(np.unique(y_true)) <= set(classes.tolist()):
            out["log_loss"] = m.log_loss(y_true, scores, labels=classes)
        elif not is_proba:
            notes.append("The model gives scores, not probabilities: log-loss and calibration are skipped.")
    return {k: float(v) for k, v in out.items()}, notes


def _areas(curves: dict[str, Any] | None, label: Any, truth: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """ROC-AUC and average precision of ``scores`` for ``label``: read off ``curves`` when they hold that label."""
    roc, pr = (curves or {}).get("roc", {}), (curves or {}).get("pr", {})
    for key in (_json(label), str(_json(label))):  # a binary curve is keyed by the label, a multiclass one by its text
        if key in roc and key in pr:
            return roc[key]["auc"], pr[key]["average_precision"]
    from sklearn import metrics as m

    return m.roc_auc_score(truth, scores), m.average_precision_score(truth, scores)


def regression_metrics(y_true: Any, y_pred: Any) -> dict[str, float]:
    """rmse, mae, r2 and mape (mean absolute percentage error, as a fraction)."""
    from sklearn import metrics as m

    y_true, y_pred = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    out = {"rmse": m.root_mean_squared_error(y_true, y_pred), "mae": m.mean_absolute_error(y_true, y_pred),
           "mape": m.mean_absolute_percentage_error(y_true, y_pred)}
    if len(y_true) > 1:
        out["r2"] = m.r2_score(y_true, y_pred)
    return {k: float(v) for k, v in out.items()}


def clustering_metrics(X: Any, labels: Any, *, max_rows: int = SILHOUETTE_ROWS, seed: int = 0) -> dict[str, float]:
    """silhouette (on at most ``max_rows`` rows), davies_bouldin, calinski_harabasz, n_clusters, noise_fraction."""
    from sklearn import metrics as m

    X, labels = np.asarray(X, dtype=np.float64), np.asarray(labels)
    out: dict[str, float] = {"n_clusters": float(len(set(labels.tolist()) - {-1})),
                             "noise_fraction": float(np.mean(labels == -1))}
    if 1 < len(np.unique(labels)) < len(labels):
        size = min(max_rows, len(labels))
        out["silhouette"] = m.silhouette_score(X, labels, sample_size=size if size < len(labels) else None,
                                               random_state=seed)
        out["davies_bouldin"] = m.davies_bouldin_score(X, labels)
        out["calinski_harabasz"] = m.calinski_harabasz_score(X, labels)
    return {k: float(v) for k, v in out.items()}


def classification_curves(
    y_true: Any, y_pred: Any, scores: np.ndarray | None, classes: Any, *, is_proba: bool = True,
    positive_label: Any = None,
) -> dict[str, Any]:
    """Confusion matrix; ROC and PR curves (one-vs-rest for multiclass); calibration and a threshold table (binary)."""
    from sklearn.metrics import confusion_matrix

    y_true, y_pred, classes = np.asarray(y_true), np.asarray(y_pred), np.asarray(classes)
    labels = np.asarray(sorted(set(classes.tolist()) | set(y_true.tolist()), key=lambda v: (str(type(v)), v)))
    counts = confusion_matrix(y_true, y_pred, labels=labels)
    with np.errstate(all="ignore"):
        normalised = np.nan_to_num(counts / counts.sum(axis=1, keepdims=True))
    curves: dict[str, Any] = {"confusion_matrix": {
        "labels": [_json(v) for v in labels], "counts": counts.tolist(),
        "normalized": [[round(float(v), 6) for v in row] for row in normalised]}}
    if scores is None:
        return curves
    if len(classes) == 2:
        positive = classes[-1] if positive_label is None else positive_label
        truth = y_true == positive
        if truth.all() or not truth.any():
            return curves
        s = _positive_scores(scores, is_proba, classes, positive)
        curves["roc"] = {_json(positive): _roc(truth, s)}
        curves["pr"] = {_json(positive): _pr(truth, s)}
        curves["thresholds"] = _threshold_table(truth, s, is_proba)
        if is_proba:
            curves["calibration"] = _calibration(truth, s)
        curves["positive_label"] = _json(positive)
        return curves
    curves["roc"], curves["pr"] = {}, {}
    for i, c in enumerate(classes):
        truth = y_true == c
        if 0 < truth.sum() < len(truth):
            curves["roc"][str(_json(c))] = _roc(truth, scores[:, i])
            curves["pr"][str(_json(c))] = _pr(truth, scores[:, i])
    return curves


# Each curve's area comes from the curve itself, whole (before thinning), as scikit-learn's roc_auc_score and
# average_precision_score compute it: one sort of the scores per curve instead of two.
def _roc(truth: np.ndarray, s: np.ndarray) -> dict[str, Any]:
    from sklearn.metrics import auc, roc_curve

    fpr, tpr, thresholds = roc_curve(truth, s)
    keep = _thin(len(fpr))
    return {"fpr": _floats(fpr[keep]), "tpr": _floats(tpr[keep]), "thresholds": _floats(thresholds[keep]),
            "auc": float(auc(fpr, tpr))}


def _pr(truth: np.ndarray, s: np.ndarray) -> dict[str, Any]:
    from sklearn.metrics import precision_recall_curve

    precision, recall, thresholds = precision_recall_curve(truth, s)
    keep = _thin(len(precision))
    thresholds = np.append(thresholds, np.inf)  # the last (precision 1, recall 0) point has none
    # average precision: the precision at each threshold weighted by the recall it adds (no interpolation)
    average_precision = float(-np.sum(np.diff(recall) * precision[:-1]))
    return {"precision": _floats(precision[keep]), "recall": _floats(recall[keep]),
            "thresholds": _floats(thresholds[keep]), "average_precision": average_precision}


def _threshold_table(truth: np.ndarray, s: np.ndarray, is_proba: bool) -> list[dict[str, float]]:
    levels = np.linspace(0.05, 0.95, 19)
    cuts = np.round(levels, 2) if is_proba else np.unique(np.quantile(s, levels))
    rows = []
    for t in cuts:
        predicted = s >= t
        tp = float(np.sum(predicted & truth))
        precision = tp / predicted.sum() if predicted.any() else 0.0
        recall = tp / truth.sum()
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        rows.append({"threshold": float(t), "precision": float(precision), "recall": float(recall), "f1": float(f1),
                     "positive_rate": float(predicted.mean())})
    return rows


def _calibration(truth: np.ndarray, probability: np.ndarray, bins: int = 10) -> dict[str, Any]:
    """The reliability curve: per probability bin of width 1/``bins`` (empty bins left out), the mean
    predicted probability, the observed share of positives and the rows; with the Brier score."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(probability, edges[1:-1]), 0, bins - 1)
    counts = np.bincount(which, minlength=bins)
    used = counts > 0
    observed = np.bincount(which, weights=truth.astype(float), minlength=bins)[used] / counts[used]
    predicted = np.bincount(which, weights=probability, minlength=bins)[used] / counts[used]
    brier = float(np.mean((probability - truth.astype(float)) ** 2))
    return {"predicted": _floats(predicted), "observed": _floats(observed), "count": counts[used].tolist(),
            "bin_low": _floats(edges[:-1][used]), "bin_high": _floats(edges[1:][used]), "brier": round(brier, 6)}


def _sample(n: int, limit: int, seed: int) -> np.ndarray:
    return np.arange(n) if n <= limit else np.sort(np.random.default_rng(seed).choice(n, limit, replace=False))


def regression_curves(y_true: Any, y_pred: Any, *, seed: int = 0) -> dict[str, Any]:
    """Predicted vs actual and residuals on at most 2,000 sampled rows."""
    y_true, y_pred = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    keep = _sample(len(y_true), MAX_SCATTER_POINTS, seed)
    return {"scatter": {"actual": _floats(y_true[keep]), "predicted": _floats(y_pred[keep]),
                        "residual": _floats(y_true[keep] - y_pred[keep])}, "n_total": int(len(y_true))}


def clustering_curves(X: Any, labels: Any, *, seed: int = 0) -> dict[str, Any]:
    """Cluster sizes and a 2-D PCA projection of at most 2,000 sampled rows."""
    from sklearn.decomposition import PCA

    X, labels = np.asarray(X, dtype=np.float64), np.asarray(labels)
    values, counts = np.unique(labels, return_counts=True)
    curves: dict[str, Any] = {"cluster_sizes": {str(_json(v)): int(c) for v, c in zip(values, counts, strict=True)}}
    keep = _sample(len(X), MAX_SCATTER_POINTS, seed)
    if X.shape[1] >= 2 and len(keep) >= 2:
        pca = PCA(n_components=2, random_state=seed).fit(X[keep])
        xy = pca.transform(X[keep])
        curves["projection"] = {"x": _floats(xy[:, 0]), "y": _floats(xy[:, 1]),
                                "cluster": [_json(v) for v in labels[keep]],
                                "explained_variance_ratio": _floats(pca.explained_variance_ratio_)}
    return curves


def evaluate(pipeline: Any, X: pd.DataFrame, y: pd.Series | None, kind: str, *, positive_label: Any = None,
             seed: int = 0, curves: bool = True) -> Evaluation:
    """Metrics and curves of a fitted pipeline on ``X`` (and ``y``; ``None`` for clustering).

    ``curves=False`` skips the curves (a cross-validation fold keeps only its metrics).
    """
    if kind == "clustering":
        features = np.nan_to_num(model_input_frame(pipeline, X).to_numpy(dtype=np.float64, na_value=np.nan))
        labels = np.asarray(pipeline.predict(X))
        return Evaluation(clustering_metrics(features, labels, seed=seed),
                          clustering_curves(features, labels, seed=seed))
    # Transform once and ask the model itself: predictions and scores share the preprocessing pass.
    model, model_input = pipeline.steps[-1][1], model_input_frame(pipeline, X)
    if kind == "regression":
        predicted = np.asarray(model.predict(model_input))
        drawn = regression_curves(y, predicted, seed=seed) if curves else {}
        return Evaluation(regression_metrics(y, predicted), drawn)
    scores, is_proba = model_scores(model, model_input)
    classes = np.asarray(pipeline.classes_)
    if is_proba and predicts_argmax(model):
        predicted = classes[np.argmax(scores, axis=1)]  # what its predict computes: spare a second pass
    else:
        predicted = np.asarray(model.predict(model_input))
    drawn = classification_curves(y, predicted, scores, classes, is_proba=is_proba,
                                  positive_label=positive_label) if curves else {}
    metrics, notes = classification_metrics(y, predicted, scores, classes, is_proba=is_proba,
                                            positive_label=positive_label, curves=drawn)
    return Evaluation(metrics, drawn, notes)
