"""Target versus features: rank the features by mutual information and flag likely leakage.

Mutual information (scikit-learn's ``mutual_info_classif`` / ``mutual_info_regression``, in nats,
fixed seed) is estimated on a random sample of the rows where the target is present; categorical
and boolean features are ordinal codes marked discrete (at most ``max_categories`` values, the rest
folded together, missing as a value of its own), numeric ones have missing values filled with the
median, datetimes count as seconds since 1970, free text is left out.

A feature is flagged as likely leakage when on its own it predicts the target almost perfectly:
a cross-validated single-feature score of at least 0.98 (balanced accuracy for classification,
R² for regression; a shallow decision tree for numeric features, the per-category majority or mean
for categorical ones), or ``|Pearson r| >= 0.98`` with a numeric regression target, or (for a
categorical feature with few values) a mutual information of at least 98% of the target's entropy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.eda._common import (
    MAX_CATEGORIES,
    SAMPLE_ROWS,
    capped_categories,
    check_choice,
    check_columns,
    check_frame,
    check_positive,
    column_kind,
    datetime_ns,
    numeric_values,
    preview,
    sample_positions,
    take,
)
from core.platform.errors import InvalidInputError

__all__ = ["TargetAnalysis", "analyze_target", "problem_kind"]

KINDS = ("classification", "regression")
_ALIASES = {"binary": "classification", "multiclass": "classification"}
LEAK_SCORE = 0.98
_MI_ROWS = 10_000
_LEAK_ROWS = 5_000
_MAX_CLASSES = 200
_COLUMNS = ["feature", "kind", "mutual_information", "entropy_share", "single_feature_score", "correlation", "leakage"]


@dataclass
class TargetAnalysis:
    """Features ranked by mutual information with the target, with leakage warnings.

    ``ranking`` has one row per feature that took part: feature, kind, mutual_information (nats),
    entropy_share (classification: share of the target's entropy), single_feature_score (balanced
    accuracy or R², cross-validated), correlation (regression, numeric features: Pearson r) and
    leakage (bool); highest mutual information first.
    """

    target: str
    kind: str
    ranking: pd.DataFrame
    leakage: list[str]
    rows: int
    sampled_rows: int | None = None
    notes: list[str] = field(default_factory=list)


def problem_kind(kind: str) -> str:
    """'classification' or 'regression' (also accepting 'binary' and 'multiclass' for classification)."""
    kind = _ALIASES.get(kind, kind)
    check_choice("kind", kind, KINDS)
    return kind


def analyze_target(
    df: pd.DataFrame,
    target: Any,
    kind: str,
    *,
    features: Sequence[Any] | None = None,
    sample_rows: int = _MI_ROWS,
    leak_rows: int = _LEAK_ROWS,
    max_categories: int = MAX_CATEGORIES,
    seed: int = 0,
) -> TargetAnalysis:
    """Rank features by mutual information with the target and flag features that leak it.

    Parameters
    ----------
    df : DataFrame
    target : column name
    kind : {'classification', 'regression'}
    features : sequence, optional
        Default: every other column.
    sample_rows : int, default 10_000
        Rows (with the target present) for the mutual information; a random sample above this.
    leak_rows : int, default 5_000
        Rows for the single-feature scores behind the leakage check.
    max_categories : int, default 50
    seed : int, default 0

    Returns
    -------
    TargetAnalysis

    Raises
    ------
    InvalidInputError
        For an unknown target or feature, a target missing in every row, a regression target that
        is not numeric, or a classification target with one class or more than 200.
    """
    check_frame(df, "The target analysis")
    check_columns(df, [target], "target")
    kind = problem_kind(kind)
    for name, value in (("sample_rows", sample_rows), ("leak_rows", leak_rows), ("max_categories", max_categories)):
        check_positive(name, value)
    names = [c for c in (check_columns(df, list(features), "feature") if features is not None else df.columns)
             if c != target]
    y_all = df[target]
    present = np.flatnonzero(y_all.notna().to_numpy())
    y, classes = _target_values(y_all.iloc[present], target, kind)
    notes: list[str] = []
    if len(present) < len(df):
        notes.append(f"{len(df) - len(present):,} rows without a target value are left out.")
    positions = sample_positions(len(present), sample_rows, seed)
    rows = present if positions is None else present[positions]
    if positions is not None:
        notes.append(f"Mutual information uses a random sample of {len(rows):,} of the {len(present):,} rows with a "
                     f"target (seed {seed}).")
    y_sample = y if positions is None else y[positions]
    columns, discrete = _feature_matrix(df, names, rows, max_categories, seed, notes)
    if not columns:
        notes.append("No feature can be compared with the target: " + (
            "the dataset has no other column." if not names else "every other column was left out (see above)."))
        return TargetAnalysis(str(target), kind, pd.DataFrame(columns=_COLUMNS), [], len(present),
                              None if positions is None else len(rows), notes)
    ranking = _ranking(columns, discrete, y_sample, kind, seed)
    if kind == "classification":
        shares = np.bincount(y_sample) / len(y_sample)
        entropy = float(-(shares[shares > 0] * np.log(shares[shares > 0])).sum())
        ranking["entropy_share"] = ranking["mutual_information"] / entropy if entropy > 0 else np.nan
    leakage = _leakage(ranking, columns, discrete, y_sample, kind, leak_rows, seed)
    if classes > 2 and kind == "classification":
        notes.append(f"The target has {classes} classes.")
    return TargetAnalysis(str(target), kind, ranking, leakage, len(present), None if positions is None else len(rows),
                          notes)


def _target_values(y: pd.Series, target: Any, kind: str) -> tuple[np.ndarray, int]:
    if y.empty:
        raise InvalidInputError(f"The target {str(target)!r} is missing in every row: there is nothing to compare "
                                "the features with.", hint="Pick another target column.")
    if kind == "regression":
        if column_kind(y) not in ("numeric", "boolean"):
            raise InvalidInputError(
                f"Regression needs a numeric target; {str(target)!r} holds {y.dtype} values such as "
                f"{preview([str(v) for v in y.iloc[:3]], 3)}.", hint="Choose kind='classification' or another target.")
        values = numeric_values(y)
        if np.isnan(values).all() or np.nanmin(values) == np.nanmax(values):
            raise InvalidInputError(f"The target {str(target)!r} has the same value in every row: nothing can "
                                    "be predicted from it.", hint="Pick another target column.")
        return np.nan_to_num(values, nan=float(np.nanmedian(values))), 0
    codes, uniques = pd.factorize(y)
    if len(uniques) < 2:
        raise InvalidInputError(f"Classification needs at least two classes; the target {str(target)!r} has one "
                                f"({uniques[0]!r}).", hint="Pick another target column.")
    if len(uniques) > _MAX_CLASSES:
        raise InvalidInputError(f"The target {str(target)!r} has {len(uniques):,} distinct values: too many classes "
                                f"for classification (at most {_MAX_CLASSES}).",
                                hint="Choose kind='regression' for a numeric target, or another target column.")
    return np.asarray(codes, dtype=np.int64), len(uniques)


def _feature_matrix(df, names, rows, max_categories, seed, notes) -> tuple[dict[Any, np.ndarray], dict[Any, bool]]:
    columns: dict[Any, np.ndarray] = {}
    discrete: dict[Any, bool] = {}
    skipped: dict[str, list[Any]] = {}
    # Kinds are judged on the usual 100,000-row sample: on the smaller MI sample 10,000 zip codes look unique.
    judged = sample_positions(len(df), SAMPLE_ROWS, seed)
    for name in names:
        series = df[name].iloc[rows]
        kind = column_kind(take(df[name], judged))
        if kind in ("empty", "text"):
            skipped.setdefault("missing in every row" if kind == "empty" else "free text", []).append(name)
            continue
        if kind in ("numeric", "datetime"):
            values = numeric_values(series) if kind == "numeric" else _seconds(series)
            if np.isnan(values).all() or np.nanmin(values) == np.nanmax(values):
                skipped.setdefault("constant", []).append(name)
                continue
            columns[name], discrete[name] = np.nan_to_num(values, nan=float(np.nanmedian(values))), False
        else:
            cats = capped_categories(series, max_categories)
            if cats.capped:
                notes.append(f"{str(name)!r} has {cats.distinct:,} distinct values: its {max_categories} most "
                             "frequent are kept and the rest counted together as '(other)'.")
            codes = np.where(cats.codes < 0, len(cats.labels), cats.codes)  # missing: a value of its own
            if len(np.unique(codes)) < 2:
                skipped.setdefault("constant", []).append(name)
                continue
            columns[name], discrete[name] = codes, True
    for reason, cols in skipped.items():
        notes.append(f"Left out ({reason}): {preview(cols)}.")
    return columns, discrete


def _seconds(series: pd.Series) -> np.ndarray:
    values = datetime_ns(series).astype(np.float64) / 1e9
    values[series.isna().to_numpy()] = np.nan
    return values


def _ranking(columns: dict, discrete: dict, y: np.ndarray, kind: str, seed: int) -> pd.DataFrame:
    from sklearn.feature_selection import mutual_info_classif, mutual_info_regression

    x = np.column_stack(list(columns.values())).astype(np.float64)
    mask = np.array(list(discrete.values()))
    estimate = mutual_info_classif if kind == "classification" else mutual_info_regression
    mi = estimate(x, y, discrete_features=mask, random_state=seed)
    ranking = pd.DataFrame({
        "feature": list(columns), "kind": ["categorical" if d else "numeric" for d in mask],
        "mutual_information": mi.astype(np.float64), "entropy_share": np.nan, "single_feature_score": np.nan,
        "correlation": np.nan, "leakage": False,
    }, columns=_COLUMNS)
    return ranking.sort_values("mutual_information", ascending=False, kind="stable").reset_index(drop=True)


def _leakage(ranking, columns, discrete, y, kind, leak_rows, seed) -> list[str]:
    positions = sample_positions(len(y), leak_rows, seed)
    pick = (lambda v: v) if positions is None else (lambda v: v[positions])
    y_small = pick(y)
    messages = []
    for i, row in ranking.iterrows():
        x = pick(columns[row.feature])
        score = _single_feature_score(x, y_small, kind, discrete[row.feature], seed)
        ranking.at[i, "single_feature_score"] = score
        reasons = []
        if score >= LEAK_SCORE:
            reasons.append(f"{'balanced accuracy' if kind == 'classification' else 'R²'} {score:.3f} from this "
                           "feature alone, 3-fold cross-validated")
        if kind == "regression" and not discrete[row.feature]:
            r = float(np.corrcoef(columns[row.feature], y)[0, 1])
            ranking.at[i, "correlation"] = r
            if abs(r) >= LEAK_SCORE:
                reasons.append(f"correlation {r:.3f}")
        few_values = discrete[row.feature] and len(np.unique(columns[row.feature])) <= max(2, len(y) // 20)
        if kind == "classification" and few_values and row.entropy_share >= LEAK_SCORE:
            reasons.append(f"mutual information {row.entropy_share:.0%} of the target's entropy")
        if reasons:
            ranking.at[i, "leakage"] = True
            messages.append(f"{str(row.feature)!r} alone predicts the target almost perfectly ({'; '.join(reasons)}): "
                            "check that it is not derived from the target or only known after the outcome (leakage).")
    return messages


def _single_feature_score(x: np.ndarray, y: np.ndarray, kind: str, is_discrete: bool, seed: int) -> float:
    from sklearn.metrics import balanced_accuracy_score, r2_score
    from sklearn.model_selection import KFold, cross_val_predict
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    folds = KFold(3, shuffle=True, random_state=seed)
    classify = kind == "classification"
    if is_discrete:
        predicted = np.empty(len(y), dtype=np.float64)
        for train, test in folds.split(x):
            predicted[test] = _group_predict(x[train], y[train], x[test], classify)
    else:
        model = (DecisionTreeClassifier(max_depth=4, random_state=seed) if classify
                 else DecisionTreeRegressor(max_depth=6, random_state=seed))
        predicted = cross_val_predict(model, x.reshape(-1, 1), y, cv=folds)
    if classify:
        return float(balanced_accuracy_score(y, predicted.astype(np.int64)))
    return float(r2_score(y, predicted))


def _group_predict(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, classify: bool) -> np.ndarray:
    """Each category's majority class (or mean) learnt on the training fold; unseen ones get the overall one."""
    size = int(max(x_train.max(), x_test.max())) + 1
    if classify:
        table = np.zeros((size, int(y_train.max()) + 1))
        np.add.at(table, (x_train, y_train), 1)
        fallback = np.bincount(y_train).argmax()
        guess = np.where(table.sum(axis=1) > 0, table.argmax(axis=1), fallback)
    else:
        counts = np.bincount(x_train, minlength=size)
        sums = np.bincount(x_train, weights=y_train, minlength=size)
        with np.errstate(invalid="ignore", divide="ignore"):
            guess = np.where(counts > 0, sums / counts, y_train.mean())
    return guess[x_test].astype(np.float64)
