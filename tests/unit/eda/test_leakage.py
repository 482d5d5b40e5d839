"""The leakage screen (core.eda.leakage): each rule it keeps, its sentences, and both pages agreeing on it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.eda import analyze_target
from core.eda.leakage import LEAK_SCORE, screen_leakage
from core.ml.problem import feature_warnings
from core.platform.errors import InvalidInputError

ADVICE = "check that it is not derived from the target or only known after the outcome (leakage)."


def flagged_by_both_pages(df: pd.DataFrame, target: str, kind: str) -> tuple[set[str], set[str]]:
    """The features the EDA page's target analysis and the Train page's warnings call leakage."""
    features = [c for c in df.columns if c != target]
    eda = analyze_target(df, target, kind).leakage
    train = feature_warnings(df, target, features)

    def flagged(messages: list[str]) -> set[str]:
        return {f for f in features if any(m.startswith(f"{f!r} alone predicts the target") for m in messages)}

    return flagged(eda), flagged(train)


def by_feature(df: pd.DataFrame, target: str, kind: str) -> dict:
    return {c.feature: c for c in screen_leakage(df, target, kind, [c for c in df.columns if c != target])}


def fine_codes_frame(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    """150 short codes, each naming the outcome: too many values for the old per-category rules."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 150, n)
    return pd.DataFrame({
        "detail": [f"D{c}" for c in codes],
        "signal": rng.normal(size=n),
        "plan": rng.choice(["basic", "pro", "team"], n),
        "churn": np.where(codes < 75, "yes", "no"),
    })


def test_both_pages_flag_the_same_columns_for_classification():
    eda, train = flagged_by_both_pages(fine_codes_frame(), "churn", "classification")
    assert eda == train == {"detail"}


def test_both_pages_flag_the_same_columns_for_regression():
    rng = np.random.default_rng(4)
    x = rng.normal(size=800)
    df = pd.DataFrame({"x": x, "noise": rng.normal(size=800), "amount": np.exp(3 * x)})
    eda, train = flagged_by_both_pages(df, "amount", "regression")
    assert eda == train == {"x"}


def test_sentences_for_each_page():
    check = by_feature(fine_codes_frame(), "churn", "binary")["detail"]
    assert check.suspect and check.score == 1.0 and check.entropy_share is None
    assert check.message == ("'detail' alone predicts the target almost perfectly (balanced accuracy 1.000 from this "
                             f"feature alone, 3-fold cross-validated): {ADVICE}")
    assert check.short_message == ("'detail' alone predicts the target almost perfectly (balanced accuracy 1.00): "
                                   f"{ADVICE}")
    assert analyze_target(fine_codes_frame(), "churn", "classification").leakage == [check.message]
    assert feature_warnings(fine_codes_frame(), "churn", ["detail", "signal"]) == [check.short_message]


def test_scores_are_out_of_fold_so_unique_codes_score_as_chance():
    rng = np.random.default_rng(5)
    y = rng.choice(["no", "yes"], 600)
    df = pd.DataFrame({"ticket": pd.Categorical([f"T{i}" for i in range(600)]), "y": y})
    check = by_feature(df, "y", "binary")["ticket"]
    # In sample, each ticket's own row is its majority: a perfect, meaningless score.  Out of fold it is chance.
    assert check.kind == "categorical" and check.score < 0.6 and not check.suspect
    assert flagged_by_both_pages(df, "y", "classification") == (set(), set())


def test_missing_values_are_information():
    rng = np.random.default_rng(6)
    y = rng.choice(["no", "yes"], 1000)
    df = pd.DataFrame({
        "refund_amount": np.where(y == "yes", rng.normal(50, 5, 1000), np.nan),  # only known after churning
        "refunded": np.where(y == "yes", 1.0, np.nan),  # one value, present only for churners: still screened
        "always": 1.0,
        "y": y,
    })
    checks = by_feature(df, "y", "binary")
    assert checks["refund_amount"].suspect and checks["refunded"].suspect
    assert "always" not in checks  # one value in every row: nothing to screen
    eda, train = flagged_by_both_pages(df, "y", "classification")
    assert eda == train == {"refund_amount", "refunded"}
    analysis = analyze_target(df, "y", "classification")  # the ranking's idea of "constant" is the screen's
    assert "refunded" in set(analysis.ranking["feature"]) and "Left out (constant): 'always'." in analysis.notes
    regression = analyze_target(df.assign(y=np.where(y == "yes", 1.0, 0.0)), "y", "regression").ranking
    assert np.isnan(regression.set_index("feature").loc["refunded", "correlation"])


def test_rank_correlation_catches_a_monotone_transform_of_the_target():
    rng = np.random.default_rng(4)
    x = rng.normal(size=800)
    df = pd.DataFrame({"x": x, "amount": np.exp(3 * x)})
    check = by_feature(df, "amount", "regression")["x"]
    assert check.score < LEAK_SCORE and check.rank_correlation == pytest.approx(1.0)
    assert check.message == ("'x' alone predicts the target almost perfectly (Spearman rank correlation 1.000): "
                             f"{ADVICE}")
    assert check.short_message == f"'x' alone predicts the target almost perfectly (|Spearman ρ| 1.00): {ADVICE}"
    ranking = analyze_target(df, "amount", "regression").ranking.set_index("feature")
    assert ranking.loc["x", "correlation"] < 0.9 and ranking.loc["x", "leakage"]  # Pearson's r alone misses it


def test_one_extreme_row_is_not_leakage():
    rng = np.random.default_rng(7)
    x, t = rng.normal(size=500), rng.normal(size=500)
    x[0] = t[0] = 1000.0  # one shared outlier: Pearson's r near 1, ranks unrelated
    df = pd.DataFrame({"x": x, "t": t})
    assert np.corrcoef(x, t)[0, 1] > LEAK_SCORE
    check = by_feature(df, "t", "regression")["x"]
    assert abs(check.rank_correlation) < 0.2 and not check.suspect
    assert flagged_by_both_pages(df, "t", "regression") == (set(), set())


def test_entropy_share_flags_a_few_valued_copy_that_misses_a_rare_class():
    rng = np.random.default_rng(8)
    y = rng.choice(["a", "b", "c"], 5000, p=[0.4995, 0.4995, 0.001])
    df = pd.DataFrame({"group": np.where(y == "b", "B", "A"), "z": rng.normal(size=5000), "y": y})
    check = by_feature(df, "y", "multiclass")["group"]
    # Class c is never predicted, so balanced accuracy stays near 2/3; the rest of the target is copied.
    assert check.score < 0.7 and check.entropy_share >= LEAK_SCORE and check.suspect
    assert check.short_message == ("'group' alone predicts the target almost perfectly (mutual information 99% of the "
                                   f"target's entropy): {ADVICE}")
    eda, train = flagged_by_both_pages(df, "y", "classification")
    assert eda == train == {"group"}
    many = by_feature(fine_codes_frame(), "churn", "binary")
    assert many["plan"].entropy_share is not None and many["detail"].entropy_share is None  # too many values


def test_nothing_is_screened_without_enough_rows_or_a_second_class():
    rng = np.random.default_rng(9)
    one_class = pd.DataFrame({"x": rng.normal(size=100), "y": ["a"] * 100})
    assert screen_leakage(one_class, "y", "binary", ["x"]) == []
    assert feature_warnings(one_class, "y", ["x"]) == []
    few = pd.DataFrame({"x": np.arange(19.0), "y": np.arange(19.0) * 2})
    assert screen_leakage(few, "y", "regression", ["x"]) == []
    assert "Leakage is not checked: 19 rows have a target value, and the check needs at least 20." in (
        analyze_target(few, "y", "regression").notes)
    assert screen_leakage(fine_codes_frame(), "churn", "clustering", ["detail"]) == []


def test_rows_without_a_target_are_left_out_and_large_frames_are_sampled():
    df = fine_codes_frame(n=20_000)
    df.loc[::7, "churn"] = None
    assert by_feature(df, "churn", "binary")["detail"].suspect  # 5,000 of the 17,142 labelled rows
    # On 500 rows some of the 150 codes sit in one fold only, and their rows get the overall majority.
    [small] = screen_leakage(df, "churn", "binary", ["detail"], rows=500)
    [everything] = screen_leakage(df, "churn", "binary", ["detail"], rows=50_000)
    assert small.score < everything.score == 1.0


def test_an_unknown_kind_is_refused():
    with pytest.raises(InvalidInputError, match="The 'kind' parameter must be one of 'classification', 'regression', "
                                                "'binary', 'multiclass', 'clustering'; got 'ranking'."):
        screen_leakage(fine_codes_frame(), "churn", "ranking", ["detail"])
