"""Target versus features: rank the features by mutual information and flag likely leakage.

Mutual information (scikit-learn's ``mutual_info_classif`` / ``mutual_info_regression``, in nats,
fixed seed) is estimated on a random sample of the rows where the target is present; categorical
and boolean features are ordinal codes marked discrete (at most ``max_categories`` values, the rest
folded together, missing as a value of its own), numeric ones have missing values filled with the
median, datetimes count as seconds since 1970, free text is left out.

Likely leakage comes from :func:`core.eda.leakage.screen_leakage`, the screen the Train page's
feature warnings use too: a feature that on its own predicts the target almost perfectly (an
out-of-fold score or a Spearman rank correlation of at least 0.98), holds 80% or more of the
target's entropy, or whose missingness alone gives the target away.
The ranking's ``correlation`` column stays Pearson's r on the mutual-information sample: it
describes the feature; the screen decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.data.target import ProblemKind
from core.data.types import MAX_CATEGORIES
from core.eda._common import (
    SAMPLE_ROWS,
    capped_categories,
    check_choice,
    check_columns,
    check_frame,
    check_positive,
    column_kind,
    numeric_values,
    preview,
    sample_positions,
    seconds_since_epoch,
    take,
)
from core.eda.leakage import LEAK_ROWS, MIN_ROWS, screen_leakage
from core.platform.errors import InvalidInputError

__all__ = ["TargetAnalysis", "analyze_target", "problem_kind"]

# EDA compares features with a target, so it asks only classification or regression; a problem
# kind (binary, multiclass, regression) names its task.
_TASKS = {k.value: k.task for k in ProblemKind if k is not ProblemKind.CLUSTERING}
KINDS = tuple(dict.fromkeys(_TASKS.values()))
_MI_ROWS = 10_000
_MAX_CLASSES = 200
_COLUMNS = ["feature", "kind", "mutual_information", "entropy_share", "single_feature_score", "correlation", "leakage"]


@dataclass
class TargetAnalysis:
    """Features ranked by mutual information with the target, with leakage warnings.

    ``ranking`` has one row per feature that took part: feature, kind, mutual_information (nats),
    entropy_share (classification: share of the target's entropy), single_feature_score (balanced
    accuracy or R², out of fold, from the leakage screen), correlation (regression, numeric
    features: Pearson r) and leakage (bool, the screen's verdict); highest mutual information first.
    ``leakage`` holds the screen's warnings: ranked features first, in ranking order.
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
    kind = _TASKS.get(kind, kind) if isinstance(kind, str) else kind
    check_choice("kind", kind, KINDS)
    return kind


def analyze_target(
    df: pd.DataFrame,
    target: Any,
    kind: str,
    *,
    features: Sequence[Any] | None = None,
    sample_rows: int = _MI_ROWS,
    leak_rows: int = LEAK_ROWS,
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
        Rows (with the target present) for the leakage screen; a random sample above this.
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
        ranking = pd.DataFrame(columns=_COLUMNS)
        return TargetAnalysis(str(target), kind, ranking, _leakage(ranking, df, target, kind, names, leak_rows, seed),
                              len(present), None if positions is None else len(rows), notes)
    ranking = _ranking(columns, discrete, y_sample, kind, seed)
    if kind == "classification":
        shares = np.bincount(y_sample) / len(y_sample)
        entropy = float(-(shares[shares > 0] * np.log(shares[shares > 0])).sum())
        ranking["entropy_share"] = ranking["mutual_information"] / entropy if entropy > 0 else np.nan
    if kind == "regression":
        for i in ranking.index[~ranking["kind"].eq("categorical")]:
            x = columns[ranking.at[i, "feature"]]
            if x.min() < x.max():  # one value and missing ones: no correlation once the median fills them
                ranking.at[i, "correlation"] = float(np.corrcoef(x, y_sample)[0, 1])
    leakage = _leakage(ranking, df, target, kind, names, leak_rows, seed)
    if len(present) < MIN_ROWS:
        notes.append(f"Leakage is not checked: {len(present):,} rows have a target value, and the check needs at "
                     f"least {MIN_ROWS}.")
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
            values = numeric_values(series) if kind == "numeric" else seconds_since_epoch(series)
            missing = np.isnan(values)
            if missing.all() or (np.nanmin(values) == np.nanmax(values) and not missing.any()):
                skipped.setdefault("constant", []).append(name)  # missing counts as a value, as in the screen
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


def _leakage(ranking: pd.DataFrame, df: pd.DataFrame, target: Any, kind: str, names: list[Any], leak_rows: int,
             seed: int) -> list[str]:
    """Run the leakage screen, fill the ranking's score and verdict, return the warnings."""
    checks = {check.feature: check for check in screen_leakage(df, target, kind, names, rows=leak_rows, seed=seed)}
    for i, feature in zip(ranking.index, ranking["feature"], strict=True):
        if feature in checks:
            ranking.at[i, "single_feature_score"] = checks[feature].score
            ranking.at[i, "leakage"] = checks[feature].suspect
    ranked = set(ranking["feature"])
    order = [*ranking["feature"], *(f for f in checks if f not in ranked)]
    return [checks[f].message for f in order if f in checks and checks[f].suspect]
