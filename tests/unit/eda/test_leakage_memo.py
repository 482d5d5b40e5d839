"""One leakage screen per named table and target (core.eda.leakage_memo), shared by the Train page's
warnings and the algorithm ranking."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.eda import leakage_memo
from core.eda.leakage import screen_leakage
from core.eda.leakage_memo import MEMO_ENTRIES, forget_screens, screen_features
from core.ml.automl import AutoMLConfig, recommend_for
from core.ml.problem import feature_warnings


def churn(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    churned = rng.integers(0, 2, n)
    return pd.DataFrame({
        "tenure": rng.normal(size=n),
        "plan": rng.choice(["basic", "pro", "team"], n),
        "refund": np.where(churned == 1, "yes", "no"),  # known only after the outcome: a leak
        "spend": rng.normal(size=n) + churned * 0.3,
        "region": rng.choice(list("ABCDE"), n),
        "churned": np.where(churned == 1, "yes", "no"),
        "other": churned + rng.normal(size=n),  # a second possible target
    })


@pytest.fixture
def screens(monkeypatch) -> list[tuple]:
    """Each screen the memo runs, as (target, features)."""
    forget_screens()
    runs: list[tuple] = []

    def counting(df, target, kind, features, **kwargs):
        runs.append((target, tuple(features)))
        return screen_leakage(df, target, kind, features, **kwargs)

    monkeypatch.setattr(leakage_memo, "screen_leakage", counting)
    yield runs
    forget_screens()


def test_two_feature_sets_on_one_table_screen_once_with_the_same_verdicts(screens):
    df = churn()
    first = screen_features(df, "churned", "binary", ["tenure", "refund", "plan"], key=("v", 1))
    second = screen_features(df, "churned", "binary", ["spend", "refund"], key=("v", 1))
    assert screens == [("churned", tuple(df.columns))]  # every column once (the screen skips the target)
    # the same checks, in the asked order, as screening each feature set on its own
    assert first == screen_leakage(df, "churned", "binary", ["tenure", "refund", "plan"])
    assert second == screen_leakage(df, "churned", "binary", ["spend", "refund"])
    assert [c.feature for c in second if c.suspect] == ["refund"]


def test_another_table_or_target_screens_again(screens):
    df = churn()
    screen_features(df, "churned", "binary", ["tenure"], key=("v", 1))
    screen_features(df, "churned", "binary", ["tenure"], key=("v", 2))  # a new version
    assert len(screens) == 2
    screen_features(df, "other", "regression", ["tenure"], key=("v", 2))  # a new target
    assert len(screens) == 3 and screens[-1][0] == "other"
    screen_features(df.iloc[:300], "churned", "binary", ["tenure"], key=("v", 1))  # fewer rows: not the same table
    assert len(screens) == 4


def test_without_a_key_nothing_is_kept(screens):
    df = churn()
    screen_features(df, "churned", "binary", ["tenure"])
    screen_features(df, "churned", "binary", ["tenure"])
    assert screens == [("churned", ("tenure",)), ("churned", ("tenure",))]


def test_the_memo_keeps_a_bounded_number_of_tables(screens):
    df = churn(n=100)
    for version in range(MEMO_ENTRIES + 1):
        screen_features(df, "churned", "binary", ["tenure"], key=("v", version))
    screen_features(df, "churned", "binary", ["tenure"], key=("v", MEMO_ENTRIES))  # the newest: kept
    assert len(screens) == MEMO_ENTRIES + 1
    screen_features(df, "churned", "binary", ["tenure"], key=("v", 0))  # the oldest: left out, screened again
    assert len(screens) == MEMO_ENTRIES + 2


def test_the_warnings_and_the_ranking_share_one_screen(screens):
    df = churn()
    key = ("version sample", 7, "abc", len(df))
    warnings = feature_warnings(df, "churned", ["tenure", "refund"], screen_key=key)
    _, excluded = recommend_for(df, AutoMLConfig(target="churned", budget=60, features=["tenure", "refund", "spend"]),
                                screen_key=key)
    _, again = recommend_for(df, AutoMLConfig(target="churned", budget=60, features=["refund", "plan"]),
                             screen_key=key)
    assert len(screens) == 1  # the page's warnings, the search set-up and its data preparation: one screen
    assert [item["feature"] for item in excluded] == ["refund"] == [item["feature"] for item in again]
    assert [item["reason"] for item in excluded] == [w for w in warnings if w.startswith("'refund'")]


@pytest.mark.parametrize("key, expected", [(("automl", 7, "abc", 600), 1), (None, 2)])
def test_an_automl_run_given_a_key_screens_once(screens, key, expected):
    from core.ml.automl import run_automl
    from core.platform.errors import ResourceError

    # A budget too small for one fit ends the run right after its set-up: the search's own screen and
    # the data preparation's warnings, the two places a run screens.
    with pytest.raises(ResourceError):
        run_automl(churn(), AutoMLConfig(target="churned", budget=0.01), screen_key=key)
    assert len(screens) == expected
