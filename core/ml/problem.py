"""What kind of problem a target poses, which columns feed the model, and what looks wrong with them.

``detect_problem`` reads the target alone and explains its verdict in words ("12 distinct
integer values → multiclass").  ``select_features`` applies the default (every column but the
target and the id / datetime / ignore roles), ``clean_target`` drops rows whose target is missing
and checks the target suits the kind, and ``feature_warnings`` flags constant columns and
single columns that predict the target almost perfectly (likely leakage).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.models.training_stats import logical_type
from core.platform.errors import InvalidInputError

__all__ = ["ProblemDetection", "clean_target", "column_types", "datetime_seconds", "detect_problem",
           "feature_warnings", "select_features"]

MAX_CLASSES_FROM_INTEGERS = 20
EXCLUDED_ROLES = ("target", "id", "datetime", "ignore")
LEAK_SCORE = 0.98  # balanced accuracy (classification) or R² (regression) of one feature alone
_LEAK_SAMPLE = 5000


@dataclass(frozen=True)
class ProblemDetection:
    """The detected (or chosen) problem kind and the reason in words."""

    kind: str
    reason: str

    @property
    def is_classification(self) -> bool:
        return self.kind in ("binary", "multiclass")

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "reason": self.reason}


def detect_problem(y: pd.Series | None) -> ProblemDetection:
    """Guess binary / multiclass / regression / clustering from the target values.

    Parameters
    ----------
    y : Series or None
        The target column (missing values are ignored); ``None`` means there is no target.

    Returns
    -------
    ProblemDetection
        ``kind`` and a one-line ``reason`` such as ``"float values with 412 distinct → regression"``.
    """
    if y is None:
        return ProblemDetection("clustering", "no target → clustering")
    values = y.dropna()
    if values.empty:
        raise InvalidInputError(
            f"Every value of the target {y.name!r} is missing, so there is nothing to learn from.",
            hint="Choose another target column, or fill the target in the data first.",
        )
    n_distinct = int(values.nunique())
    if pd.api.types.is_bool_dtype(values.dtype):
        return ProblemDetection("binary", f"true/false values ({n_distinct} distinct) → binary")
    if not pd.api.types.is_numeric_dtype(values.dtype):
        kind = "binary" if n_distinct <= 2 else "multiclass"
        return ProblemDetection(kind, f"{n_distinct} distinct text values → {kind}")
    numbers = values.to_numpy(dtype=np.float64)
    integral = pd.api.types.is_integer_dtype(values.dtype) or bool(np.all(np.mod(numbers, 1) == 0))
    if n_distinct <= 2:
        return ProblemDetection("binary", f"{n_distinct} distinct numeric values → binary")
    if integral and n_distinct <= MAX_CLASSES_FROM_INTEGERS:
        return ProblemDetection("multiclass", f"{n_distinct} distinct integer values → multiclass")
    if integral:
        return ProblemDetection(
            "regression", f"{n_distinct} distinct integer values (more than {MAX_CLASSES_FROM_INTEGERS}) → regression"
        )
    return ProblemDetection("regression", f"float values with {n_distinct} distinct → regression")


def select_features(
    df: pd.DataFrame,
    target: str | None,
    features: Sequence[str] | None = None,
    roles: Mapping[str, str] | None = None,
) -> list[str]:
    """The model's input columns: the given ones, or every column but the target and excluded roles.

    Raises
    ------
    InvalidInputError
        A named column is missing, the target is listed as a feature, or no feature is left.
    """
    columns = [str(c) for c in df.columns]
    if target is not None and target not in df.columns:
        raise InvalidInputError(
            f"The target column {target!r} is not in the data, which has the columns {_preview(columns)}.",
            hint="Pick the target among the dataset's columns.",
        )
    roles = dict(roles or {})
    if features is None:
        chosen = [c for c in df.columns if c != target and roles.get(str(c), "feature") not in EXCLUDED_ROLES]
    else:
        chosen = list(dict.fromkeys(features))
        absent = [f for f in chosen if f not in df.columns]
        if absent:
            raise InvalidInputError(
                f"The feature {absent[0]!r} is not a column of the data"
                + (f" (nor are {len(absent) - 1} more)" if len(absent) > 1 else "")
                + f"; the columns are {_preview(columns)}."
            )
        if target is not None and target in chosen:
            raise InvalidInputError(
                f"The target {target!r} is also listed as a feature: a model must not see its own answer.",
                hint="Remove the target from the feature list.",
            )
    if not chosen:
        raise InvalidInputError(
            "No features are left: every column is the target or has the role id, datetime or ignore.",
            hint="Give some columns the role 'feature', or choose the features explicitly.",
        )
    return chosen


def clean_target(y: pd.Series, kind: str) -> tuple[pd.Series, list[str]]:
    """Drop rows whose target is missing and check the target suits ``kind``.

    Returns
    -------
    (Series, list of str)
        The target on the kept rows (original index) and notes for the log, such as how many
        rows were dropped.
    """
    notes: list[str] = []
    kept = y.dropna()
    if kept.empty:
        raise InvalidInputError(
            f"Every value of the target {y.name!r} is missing, so there is nothing to learn from.",
            hint="Choose another target column, or fill the target in the data first.",
        )
    if len(kept) < len(y):
        notes.append(f"{len(y) - len(kept)} of {len(y)} rows have no target value and were left out of training.")
    if kind == "regression":
        if pd.api.types.is_bool_dtype(kept.dtype) or not pd.api.types.is_numeric_dtype(kept.dtype):
            numbers = pd.to_numeric(kept, errors="coerce") if not pd.api.types.is_bool_dtype(kept.dtype) else None
            if numbers is None or numbers.isna().any():
                example = kept.iloc[0] if numbers is None else kept[numbers.isna()].iloc[0]
                raise InvalidInputError(
                    f"Regression needs a numeric target, but {y.name!r} holds values such as {example!r}.",
                    hint="Choose classification for a categorical target, or pick a numeric target column.",
                )
            kept = numbers
        return kept.astype(np.float64), notes
    if kind in ("binary", "multiclass"):
        kept = _tidy_labels(kept)
        counts = kept.value_counts()
        if len(counts) < 2:
            raise InvalidInputError(
                f"The target {y.name!r} has a single class ({counts.index[0]!r}) in the rows used: "
                "a classifier needs at least two classes to tell apart.",
                hint="Check the row filters, or choose another target.",
            )
        if kind == "binary" and len(counts) > 2:
            raise InvalidInputError(
                f"Binary classification needs exactly 2 classes, but {y.name!r} has {len(counts)}.",
                hint="Choose multiclass classification.",
            )
    return kept, notes


def _tidy_labels(y: pd.Series) -> pd.Series:
    """Labels a classifier accepts: whole floats become ints, mixed types become text."""
    if pd.api.types.is_float_dtype(y.dtype) and bool(np.all(np.mod(y.to_numpy(), 1) == 0)):
        return y.astype(np.int64)
    if isinstance(y.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(y.dtype):
        kinds = {type(v) for v in y}
        if len(kinds) > 1 or isinstance(y.dtype, pd.CategoricalDtype) or kinds != {str}:
            return y.astype(str).astype(object)
        return y.astype(object)
    if pd.api.types.is_extension_array_dtype(y.dtype):
        return y.astype(object if pd.api.types.is_bool_dtype(y.dtype) else np.int64)
    return y


def column_types(X: pd.DataFrame, overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Logical type per column as preprocessing sees it: numeric, categorical, datetime or text.

    Uses :func:`core.models.training_stats.logical_type` so the model and its reference statistics agree;
    booleans count as categorical here.  ``overrides`` wins over detection.
    """
    overrides = dict(overrides or {})
    types: dict[str, str] = {}
    for column in X.columns:
        kind = overrides.get(column) or logical_type(X[column])
        types[column] = "categorical" if kind == "boolean" else kind
    return types


def feature_warnings(df: pd.DataFrame, target: str | None, features: Sequence[str]) -> list[str]:
    """Warnings about the chosen features: constant columns and likely target leakage.

    A feature is a leakage suspect when on its own (a shallow tree, cross-validated, or the
    per-category majority) it predicts the target with a balanced accuracy or R² of at least 0.98,
    or (regression) its rank correlation with the target is that strong.

    Returns
    -------
    list of str
        One sentence per problem, in feature order; empty when nothing looks wrong.
    """
    warnings_: list[str] = []
    for feature in features:
        column = df[feature]
        if column.isna().all():
            warnings_.append(f"{feature!r} is missing in every row: it carries no information; set its role to ignore.")
        elif _is_constant(column):
            warnings_.append(
                f"{feature!r} has the same value in every row (constant): it carries no information; "
                "set its role to ignore."
            )
    if target is None or target not in df.columns:
        return warnings_
    y = df[target]
    rows = y.notna()
    if rows.sum() < 20:
        return warnings_
    kind = detect_problem(y).kind
    labelled = np.flatnonzero(rows.to_numpy())
    if len(labelled) > _LEAK_SAMPLE:  # draw the rows first: copying every row to keep 5,000 costs seconds at 1M
        labelled = np.sort(np.random.default_rng(0).choice(labelled, _LEAK_SAMPLE, replace=False))
    sample = df.iloc[labelled][[*features, target]]
    for feature in features:
        measured = _single_feature_score(sample[feature], sample[target], kind)
        if measured is None:
            continue
        measure, score = measured
        if score >= LEAK_SCORE:
            warnings_.append(
                f"{feature!r} alone predicts the target almost perfectly ({measure} {score:.2f}): check that it is "
                "not derived from the target or only known after the outcome (leakage)."
            )
    return warnings_


def _is_constant(column: pd.Series) -> bool:
    """One value in every row (missing counts as a value), without hashing the whole column."""
    if column.isna().any():
        return False  # some rows missing and some not (all missing is reported apart): two values
    if pd.api.types.is_numeric_dtype(column.dtype) and not pd.api.types.is_bool_dtype(column.dtype):
        return bool(column.min() == column.max())
    first = column.iloc[0]
    if not (column.iloc[:1000] == first).all():
        return False  # nearly every varying column shows it in its first rows: no need to compare a million
    return bool((column == first).all())


def _single_feature_score(x: pd.Series, y: pd.Series, kind: str) -> tuple[str, float] | None:
    from sklearn.metrics import balanced_accuracy_score, r2_score

    if x.nunique(dropna=False) <= 1:
        return None
    if kind == "regression" and not pd.api.types.is_numeric_dtype(y.dtype):
        return None
    kind_x = logical_type(x)
    classify = kind != "regression"
    target = y.astype(str) if classify else y.astype(np.float64)
    if kind_x in ("numeric", "datetime"):
        values = datetime_seconds(x) if kind_x == "datetime" else x.astype(np.float64)
        tree = _tree_score(values.to_frame(), target, classify)
        if classify:
            return "balanced accuracy", tree
        # A tree only approximates a smooth relation; a monotone one shows in the rank correlation.
        rho = abs(float(values.corr(target, method="spearman")))
        return ("R²", tree) if not rho > tree else ("|Spearman ρ|", rho)
    if kind_x not in ("categorical", "boolean") or x.nunique() > max(20, len(x) // 20):
        return None
    groups = x.astype(str).fillna("(missing)")
    if classify:
        majority = target.groupby(groups).agg(lambda s: s.value_counts().index[0])
        return "balanced accuracy", float(balanced_accuracy_score(target, groups.map(majority)))
    means = target.groupby(groups).transform("mean")
    return "R²", float(r2_score(target, means))


def _tree_score(x: pd.DataFrame, y: pd.Series, classify: bool) -> float:
    """Cross-validated score of a shallow tree on one feature (3 folds, on plain arrays: fast)."""
    from sklearn.metrics import balanced_accuracy_score, r2_score
    from sklearn.model_selection import KFold
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    values = x.to_numpy(dtype=np.float64)
    target = pd.factorize(y)[0] if classify else y.to_numpy(dtype=np.float64)
    predicted = np.empty_like(target)
    for fit, held in KFold(3, shuffle=True, random_state=0).split(values):
        model = DecisionTreeClassifier(max_depth=4, random_state=0) if classify else DecisionTreeRegressor(
            max_depth=6, random_state=0)
        predicted[held] = model.fit(values[fit], target[fit]).predict(values[held])
    if classify:
        return float(balanced_accuracy_score(target, predicted))
    return float(r2_score(target, predicted))


def datetime_seconds(series: pd.Series) -> pd.Series:
    """Seconds since 1970 (UTC; naive times taken as UTC), NaN where a value is missing or unreadable."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        moments = series.dt.tz_convert("UTC") if series.dt.tz is not None else series.dt.tz_localize("UTC")
    else:
        moments = pd.to_datetime(series, errors="coerce", utc=True, format="mixed")
    return (moments - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds()


def _preview(names: Sequence[str], limit: int = 8) -> str:
    shown = ", ".join(map(repr, names[:limit]))
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
