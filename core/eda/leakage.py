"""The leakage screen: which single features predict the target almost perfectly.

One screen for every page: the EDA page's target analysis (:func:`core.eda.target.analyze_target`)
and the Train page's feature warnings (:func:`core.ml.problem.feature_warnings`) both call
:func:`screen_leakage`, so a column gets the same verdict on the same data wherever it is shown.

The screen draws a random sample of at most 5,000 rows where the target is present (seed 0 by
default; the rows are chosen before any column is copied) and scores each feature on its own,
out of fold (3-fold cross-validation: a feature is always judged on rows it did not learn from):

* numeric and datetime features (datetimes as seconds): a shallow decision tree (depth 4 for
  classification, 6 for regression).  Missing values stay missing and the tree routes them, so a
  column whose mere presence gives the target away is caught too;
* categorical and boolean features: each value's majority class (or mean target) learnt on the
  other folds; values the other folds never saw get the overall one, so a column of unique codes
  scores as chance, not as perfect.  Missing is a value of its own.

A feature is a suspect when, alone, it reaches :data:`LEAK_SCORE` (0.98) on one of these:

* its out-of-fold score: balanced accuracy (classification) or R² (regression);
* regression, numeric or datetime feature: ``|Spearman ρ|`` with the target, which sees any
  monotone transform of the target (price in cents, log price) that a tree only approximates
  and Pearson's r misses when the transform is not linear;
* classification, categorical feature with at most ``max(2, rows / 20)`` values (enough rows per
  value for the in-sample estimate to be fair): its mutual information as a share of the
  target's entropy.

Two more signs, weaker than "almost perfect" but still worth a look before training:

* classification, categorical feature: mutual information at least :data:`LEAK_ENTROPY_SHARE`
  (80%) of the target's entropy.  Titanic's ``boat`` (the lifeboat, known only for survivors)
  reaches 85%, while ``sex``, the strongest honest feature, reaches 21%;
* classification, any screened feature that is present in some rows and missing in others:
  whether it is missing alone gives the target away, i.e. the rows where it is present (or
  missing), at least 5% of the rows and :data:`MIN_ROWS`, are :data:`MISSING_PURITY` (98%) or
  more one class that is at most 80% of all rows.  Titanic's ``body`` (the number of a
  recovered body) is filled in only for passengers who died.

Not screened: free text, columns missing in every row, constant columns (missing counts as a
value, so a column that is present only sometimes is screened), and everything when fewer than
:data:`MIN_ROWS` rows have a target or the target has a single class or value.  Column kinds are
:func:`core.eda._common.column_kind` on a random sample of up to 100,000 rows, as the EDA page
judges them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from core.data.target import ProblemKind
from core.eda._common import (
    SAMPLE_ROWS,
    check_choice,
    column_kind,
    numeric_values,
    sample_positions,
    seconds_since_epoch,
    take,
)

__all__ = ["LEAK_ENTROPY_SHARE", "LEAK_ROWS", "LEAK_SCORE", "MIN_ROWS", "MISSING_PURITY", "LeakageCheck",
           "screen_leakage"]

LEAK_SCORE = 0.98
LEAK_ENTROPY_SHARE = 0.8
MISSING_PURITY = 0.98
_MISSING_MIN_SHARE = 0.05
_MISSING_MAX_BASE = 0.8  # the class must be rarer than this overall: else "mostly one class" says nothing
LEAK_ROWS = 5_000
MIN_ROWS = 20  # fewer labelled rows than this: 3 folds of a handful of rows score anything as perfect
_FOLDS = 3
_TASKS = {"classification": "classification", "regression": "regression"} | {k.value: k.task for k in ProblemKind}
_ADVICE = "check that it is not derived from the target or only known after the outcome (leakage)."


@dataclass(frozen=True)
class LeakageCheck:
    """What the screen measured for one feature, its verdict and the sentences to show.

    ``score`` is the out-of-fold balanced accuracy (classification) or R² (regression) of the
    feature alone; ``rank_correlation`` the Spearman ρ with the target (regression, numeric or
    datetime features, else ``None``); ``entropy_share`` the mutual information as a share of
    the target's entropy (classification, categoricals with few values, else ``None``).
    ``missing_side`` is ``'present'`` or ``'missing'`` when the rows where the feature is so
    (``missing_rows`` of them) are ``missing_purity`` one class, ``missing_class``, else ``None``.
    """

    feature: Any
    kind: str
    classification: bool
    score: float
    rank_correlation: float | None = None
    entropy_share: float | None = None
    missing_side: str | None = None
    missing_rows: int = 0
    missing_class: Any = None
    missing_purity: float | None = None

    @property
    def reasons(self) -> list[str]:
        """Each measure that reached :data:`LEAK_SCORE`, in words; empty when the feature looks clean."""
        reasons = []
        if self.score >= LEAK_SCORE:
            reasons.append(f"{self._measure} {self.score:.3f} from this feature alone, {_FOLDS}-fold cross-validated")
        if self.rank_correlation is not None and abs(self.rank_correlation) >= LEAK_SCORE:
            reasons.append(f"Spearman rank correlation {self.rank_correlation:.3f}")
        if self.entropy_share is not None and self.entropy_share >= LEAK_ENTROPY_SHARE:
            reasons.append(f"mutual information {self.entropy_share:.0%} of the target's entropy")
        if self.missing_side is not None:
            reasons.append(self._missing_reason)
        return reasons

    @property
    def _almost_perfect(self) -> bool:
        return bool(self.score >= LEAK_SCORE
                    or (self.rank_correlation is not None and abs(self.rank_correlation) >= LEAK_SCORE)
                    or (self.entropy_share is not None and self.entropy_share >= LEAK_SCORE))

    @property
    def _missing_reason(self) -> str:
        where = "filled in" if self.missing_side == "present" else "missing"
        return (f"it is {where} on {self.missing_rows:,} rows and {self.missing_purity:.0%} of them have the "
                f"target {str(self.missing_class)!r}")

    @property
    def suspect(self) -> bool:
        return bool(self.reasons)

    @property
    def message(self) -> str:
        """The warning with every measure that reached the threshold (the EDA page's wording)."""
        return self._sentence("; ".join(self.reasons))

    @property
    def short_message(self) -> str:
        """The warning with the strongest measure only, two decimals (the Train page's wording)."""
        rho = abs(self.rank_correlation) if self.rank_correlation is not None else None
        share = self.entropy_share if self.entropy_share is not None else 0.0
        if rho is not None and rho >= LEAK_SCORE and not self.score >= rho:
            strongest = f"|Spearman ρ| {rho:.2f}"
        elif self.score >= LEAK_SCORE or (share < LEAK_ENTROPY_SHARE and self.missing_side is None):
            strongest = f"{self._measure} {self.score:.2f}"
        elif share >= LEAK_ENTROPY_SHARE:
            strongest = f"mutual information {share:.0%} of the target's entropy"
        else:
            strongest = self._missing_reason
        return self._sentence(strongest)

    def _sentence(self, evidence: str) -> str:
        if self._almost_perfect:
            return f"{str(self.feature)!r} alone predicts the target almost perfectly ({evidence}): {_ADVICE}"
        return f"{str(self.feature)!r} alone gives much of the target away ({evidence}): {_ADVICE}"

    @property
    def _measure(self) -> str:
        return "balanced accuracy" if self.classification else "R²"


def screen_leakage(
    df: pd.DataFrame,
    target: Any,
    kind: str,
    features: Sequence[Any],
    *,
    rows: int = LEAK_ROWS,
    seed: int = 0,
) -> list[LeakageCheck]:
    """Score every feature alone against the target and say which ones leak it.

    Parameters
    ----------
    df : DataFrame
    target : column name
    kind : ``'classification'`` or ``'regression'``, or a :class:`~core.data.target.ProblemKind`
        (binary and multiclass are classification; clustering has no target: nothing is screened).
    features : the columns to screen (the target is skipped).
    rows : int, default 5,000
        Rows with the target present that the scores use; a random sample above this.
    seed : int, default 0
        Seed of the row samples, the folds and the trees.

    Returns
    -------
    list of LeakageCheck
        One per screened feature, in ``features`` order; ``check.suspect`` gives the verdict.
    """
    task = _TASKS.get(kind) if isinstance(kind, str) else None
    if task is None:
        check_choice("kind", kind, list(_TASKS))
    if task == "clustering":
        return []
    classify = task == "classification"
    y_all = df[target]
    if classify:
        labelled = np.flatnonzero(y_all.notna().to_numpy())
    elif pd.api.types.is_numeric_dtype(y_all.dtype):
        y_numbers = numeric_values(y_all)
        labelled = np.flatnonzero(np.isfinite(y_numbers))
    else:
        return []  # a regression target that is not numeric: refused by every caller before training
    if len(labelled) < MIN_ROWS:
        return []
    positions = sample_positions(len(labelled), rows, seed)
    picked = labelled if positions is None else labelled[positions]
    labels = None
    if classify:
        codes, labels = pd.factorize(y_all.iloc[picked])
        y = np.asarray(codes, dtype=np.int64)
        if y.max() < 1:
            return []  # a single class: every feature would "predict" it
    else:
        y = y_numbers[picked]
        if y.min() == y.max():
            return []
    judged = sample_positions(len(df), SAMPLE_ROWS, seed)
    folds = _folds(len(y), seed)
    checks = []
    for name in features:
        if name == target:
            continue
        x = df[name].iloc[picked]
        check = _check(name, column_kind(take(df[name], judged)), x, y, classify, folds, seed)
        if check is not None and classify:
            tell = _missing_tell(x.isna().to_numpy(), y)
            if tell is not None:
                side, count, code, purity = tell
                check = replace(check, missing_side=side, missing_rows=count, missing_class=labels[code],
                                missing_purity=purity)
        if check is not None:
            checks.append(check)
    return checks


def _missing_tell(missing: np.ndarray, y: np.ndarray) -> tuple[str, int, int, float] | None:
    """``(side, rows, class code, purity)`` when the rows where the feature is present (or missing) are
    nearly all one class that is not already most rows; ``None`` otherwise."""
    n = len(y)
    if not missing.any() or missing.all():
        return None
    overall = np.bincount(y) / n
    for side, mask in (("present", ~missing), ("missing", missing)):
        count = int(mask.sum())
        if count < max(MIN_ROWS, _MISSING_MIN_SHARE * n):
            continue
        counts = np.bincount(y[mask], minlength=len(overall))
        top = int(counts.argmax())
        purity = counts[top] / count
        if purity >= MISSING_PURITY and overall[top] <= _MISSING_MAX_BASE:
            return side, count, top, float(purity)
    return None


def _check(
    name: Any, kind: str, x: pd.Series, y: np.ndarray, classify: bool, folds: list, seed: int
) -> LeakageCheck | None:
    if kind in ("numeric", "datetime"):
        values = numeric_values(x) if kind == "numeric" else seconds_since_epoch(x)
        missing = np.isnan(values)
        present = values[~missing]
        if not present.size or (present.min() == present.max() and not missing.any()):
            return None  # one value in every row
        score = _tree_score(values, y, classify, folds, seed)
        rho = None if classify else _spearman(values[~missing], y[~missing])
        return LeakageCheck(name, kind, classify, score, rank_correlation=rho)
    if kind not in ("categorical", "boolean"):
        return None  # free text, or missing in every row
    codes, uniques = pd.factorize(x, use_na_sentinel=True)
    codes = np.where(codes < 0, len(uniques), codes).astype(np.int64)  # missing: a value of its own
    n_values = len(np.unique(codes))
    if n_values < 2:
        return None
    score = _group_score(codes, y, classify, folds)
    share = _entropy_share(codes, y) if classify and n_values <= max(2, len(y) // 20) else None
    return LeakageCheck(name, kind, classify, score, entropy_share=share)


def _folds(n: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import KFold

    return list(KFold(_FOLDS, shuffle=True, random_state=seed).split(np.empty((n, 1))))


def _score(y: np.ndarray, predicted: np.ndarray, classify: bool) -> float:
    from sklearn.metrics import balanced_accuracy_score, r2_score

    if classify:
        return float(balanced_accuracy_score(y, predicted.astype(np.int64)))
    return float(r2_score(y, predicted))


def _tree_score(values: np.ndarray, y: np.ndarray, classify: bool, folds: list, seed: int) -> float:
    """Out-of-fold score of a shallow tree on one feature (missing values routed by the tree)."""
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    x = values.reshape(-1, 1)
    predicted = np.empty(len(y), dtype=np.float64)
    for fit, held in folds:
        model = (DecisionTreeClassifier(max_depth=4, random_state=seed) if classify
                 else DecisionTreeRegressor(max_depth=6, random_state=seed))
        predicted[held] = model.fit(x[fit], y[fit]).predict(x[held])
    return _score(y, predicted, classify)


def _group_score(codes: np.ndarray, y: np.ndarray, classify: bool, folds: list) -> float:
    """Out-of-fold score of each value's majority class (or mean); unseen values get the overall one."""
    size = int(codes.max()) + 1
    predicted = np.empty(len(y), dtype=np.float64)
    for fit, held in folds:
        x_fit, y_fit = codes[fit], y[fit]
        if classify:
            table = np.zeros((size, int(y.max()) + 1))
            np.add.at(table, (x_fit, y_fit), 1)
            guess = np.where(table.sum(axis=1) > 0, table.argmax(axis=1), np.bincount(y_fit).argmax())
        else:
            counts = np.bincount(x_fit, minlength=size)
            sums = np.bincount(x_fit, weights=y_fit, minlength=size)
            guess = np.full(size, y_fit.mean())
            np.divide(sums, counts, out=guess, where=counts > 0)
        predicted[held] = guess[codes[held]]
    return _score(y, predicted, classify)


def _spearman(x: np.ndarray, y: np.ndarray) -> float | None:
    """Spearman's ρ (Pearson's r of the average ranks); ``None`` when either side is constant."""
    from scipy.stats import rankdata

    if len(x) < 3:
        return None
    rx, ry = rankdata(x), rankdata(y)
    rx, ry = rx - rx.mean(), ry - ry.mean()
    norm = float(np.sqrt((rx @ rx) * (ry @ ry)))
    return float(rx @ ry / norm) if norm > 0 else None


def _entropy_share(codes: np.ndarray, y: np.ndarray) -> float | None:
    """Mutual information of two discrete columns (plug-in, nats) over the entropy of ``y``."""
    table = np.zeros((int(codes.max()) + 1, int(y.max()) + 1))
    np.add.at(table, (codes, y), 1)
    joint = table / len(y)
    p_x, p_y = joint.sum(axis=1, keepdims=True), joint.sum(axis=0, keepdims=True)
    nonzero = joint > 0
    mutual = float((joint[nonzero] * np.log(joint[nonzero] / (p_x @ p_y)[nonzero])).sum())
    shares = p_y[p_y > 0]
    entropy = float(-(shares * np.log(shares)).sum())
    return mutual / entropy if entropy > 0 else None
