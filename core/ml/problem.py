"""Which columns feed the model, what types they have, and what looks wrong with them.

``select_features`` applies the default (every column but the target and the id / datetime /
ignore roles), ``clean_target`` drops rows whose target is missing and checks the target suits
the kind, ``column_types`` names each feature's logical type, and ``feature_warnings`` flags
constant columns and single columns that predict the target almost perfectly (likely leakage).
The problem kind itself is detected by :func:`core.data.target.detect_problem`.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np
import pandas as pd

from core.data.target import CLASSIFICATION_KINDS, detect_problem
from core.data.types import logical_type
from core.eda.leakage import MIN_ROWS
from core.eda.leakage_memo import screen_features
from core.platform.errors import InvalidInputError

__all__ = ["clean_target", "column_types", "datetime_seconds", "feature_warnings", "select_features"]

EXCLUDED_ROLES = ("target", "id", "datetime", "ignore")


def select_features(
    df: pd.DataFrame,
    target: str | None,
    features: Sequence[str] | None = None,
    roles: Mapping[str, str] | None = None,
    *,
    drop_text: bool = False,
) -> list[str]:
    """The model's input columns: the given ones, or every column but the target and excluded roles.

    ``drop_text`` leaves free-text columns out of the default too (the Train page's pre-selection:
    with the default ``text='drop'`` preprocessing they would be dropped, and then show as zero bars
    in importance charts); columns named in ``features`` are always kept.

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
        if drop_text:
            chosen = [c for c in chosen if logical_type(df[c]) != "text"] or chosen
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
    if kind in CLASSIFICATION_KINDS:
        kept = tidy_labels(kept)
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


def tidy_labels(y: pd.Series) -> pd.Series:
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

    Uses :func:`core.data.types.logical_type` so the model and its reference statistics agree;
    booleans count as categorical here.  ``overrides`` wins over detection.
    """
    overrides = dict(overrides or {})
    types: dict[str, str] = {}
    for column in X.columns:
        kind = overrides.get(column) or logical_type(X[column])
        types[column] = "categorical" if kind == "boolean" else kind
    return types


def feature_warnings(df: pd.DataFrame, target: str | None, features: Sequence[str], *,
                     screen_key: Hashable | None = None) -> list[str]:
    """Warnings about the chosen features: constant columns and likely target leakage.

    Leakage suspects come from :func:`core.eda.leakage.screen_leakage` (the EDA page's screen
    too), for the problem kind :func:`core.data.target.detect_problem` reads off the target.
    ``screen_key`` names ``df``'s data (see :func:`core.eda.leakage_memo.screen_features`): the
    screen of every column is then kept, and another feature set on the same data reuses it.

    Returns
    -------
    list of str
        One sentence per problem, in feature order; empty when nothing looks wrong.
    """
    warnings_: list[str] = []
    for feature in features:
        column = df[feature]
        if _varies_early(column):
            continue  # neither constant nor missing everywhere: the usual case, told from its first rows
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
    if int(y.notna().sum()) < MIN_ROWS:
        return warnings_  # nothing to screen (and detect_problem refuses a target missing in every row)
    checks = screen_features(df, target, detect_problem(y).kind, features, key=screen_key)
    return warnings_ + [check.short_message for check in checks if check.suspect]


def _varies_early(column: pd.Series, rows: int = 1000) -> bool:
    """Two different values (missing counts as one) among the first ``rows``: no need to scan a million."""
    try:
        return column.iloc[:rows].nunique(dropna=False) > 1
    except TypeError:  # unhashable values (lists, say): the full checks decide
        return False


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
