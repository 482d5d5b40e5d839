"""Words and numbers as the UI shows them: one mapping for metric names, one number formatter.

Pages, components and figure builders call :func:`metric_label` (``"balanced_accuracy"`` →
``"Balanced accuracy"``) and :func:`format_number` (by magnitude: an RMSE of house prices as
whole dollars, an AUC with three decimals) instead of printing code-style keys or ``:.4f``.
Algorithm names come from the catalogue (:func:`core.ml.catalogue.algorithm_label`).
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["METRIC_LABELS", "format_bytes", "format_number", "humanize", "metric_label"]

METRIC_LABELS: dict[str, str] = {
    "accuracy": "Accuracy", "balanced_accuracy": "Balanced accuracy", "precision": "Precision",
    "recall": "Recall", "f1": "F1", "f1_macro": "F1 (macro)", "f1_weighted": "F1 (weighted)",
    "precision_macro": "Precision (macro)", "precision_weighted": "Precision (weighted)",
    "recall_macro": "Recall (macro)", "recall_weighted": "Recall (weighted)", "roc_auc": "ROC AUC",
    "pr_auc": "PR AUC", "average_precision": "Average precision", "log_loss": "Log loss", "brier": "Brier score",
    "rmse": "RMSE", "mse": "MSE", "mae": "MAE", "mape": "MAPE", "rmsle": "RMSLE", "r2": "R²",
    "explained_variance": "Explained variance", "median_absolute_error": "Median absolute error",
    "max_error": "Max error", "silhouette": "Silhouette", "calinski_harabasz": "Calinski-Harabasz",
    "davies_bouldin": "Davies-Bouldin", "mcc": "Matthews correlation", "matthews_corrcoef": "Matthews correlation",
    "mutual_information": "Mutual information", "train_seconds": "Training time (s)",
    "predict_ms_per_1k": "Prediction ms per 1k rows", "size_bytes": "Size (bytes)", "problem_type": "Problem type",
}
_PREFIXES = {"cv_": "CV ", "test_": "", "val_": "Validation "}
_ACRONYMS = {"id": "ID", "auc": "AUC", "roc": "ROC", "pca": "PCA", "shap": "SHAP", "cv": "CV", "ms": "ms"}


def humanize(key: str) -> str:
    """A code-style key in words: ``"mutual_information"`` → ``"Mutual information"``."""
    words = [w for w in re.split(r"[_\s]+", str(key).strip()) if w]
    if not words:
        return str(key)
    out = [_ACRONYMS.get(w.lower(), w.lower()) for w in words]
    out[0] = out[0] if out[0].isupper() or out[0] in _ACRONYMS.values() else out[0].capitalize()
    return " ".join(out)


def metric_label(name: str | None) -> str:
    """A metric's name in words; ``cv_`` prefixes and ``_mean``/``_std`` suffixes are understood."""
    if not name:
        return ""
    key = str(name)
    if key in METRIC_LABELS:
        return METRIC_LABELS[key]
    for prefix, words in _PREFIXES.items():
        if key.startswith(prefix) and len(key) > len(prefix):
            return words + metric_label(key[len(prefix):])
    for suffix, words in (("_mean", " (mean)"), ("_std", " (std)")):
        if key.endswith(suffix):
            return metric_label(key.removesuffix(suffix)) + words
    return humanize(key)


def format_number(value: Any, *, significant: int = 3, missing: str = "—") -> str:
    """A number with as many decimals as its magnitude needs (at least ``significant`` digits).

    ``123456.7`` → ``"123,457"``, ``12.345`` → ``"12.3"``, ``0.91234`` → ``"0.912"``,
    ``0.000123`` → ``"0.000123"``; integers stay whole, missing values are ``missing`` (``"—"``).
    Beyond a thousand trillion or below 0.0001 a row of zeros says nothing: ``1.23e-07``.
    This is the one number formatter: pages, figures' hover text and the CLI's tables all use it.
    """
    if value is None or isinstance(value, bool):
        return missing if value is None else str(value)
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return missing
    if math.isinf(number):
        return "∞" if number > 0 else "-∞"
    if number == 0:
        return "0"
    if abs(number) >= 1e15 or abs(number) < 1e-4:
        return f"{number:.{max(significant - 1, 0)}e}"
    if float(number).is_integer() and abs(number) >= 1:
        return f"{number:,.0f}"
    digits = math.floor(math.log10(abs(number))) + 1
    if abs(round(number, max(0, significant - digits))) >= 10**digits:
        digits += 1  # 9.9996 rounds up to 10: "10.0", not "10.00"
    decimals = max(0, significant - digits)
    return f"{number:,.{decimals}f}"


def format_bytes(n: int) -> str:
    """A size in binary units: ``812 B``, ``14.2 KB``, ``3.1 MB``, ``1.2 GB``."""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{n} B"
