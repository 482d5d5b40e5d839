"""The leakage screen on the Titanic sample: `boat` (85% of the target's entropy) and `body` (filled in
only for passengers who died) are flagged on both pages, honest features are not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.data.sources.samples import load_sample
from core.eda import analyze_target
from core.eda.leakage import LEAK_ENTROPY_SHARE, screen_leakage
from core.ml.problem import feature_warnings


@pytest.fixture(scope="module")
def titanic() -> pd.DataFrame:
    return load_sample("titanic")


def features_of(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if c != "survived"]


def test_boat_and_body_are_flagged_and_honest_features_are_not(titanic):
    checks = {c.feature: c for c in screen_leakage(titanic, "survived", "binary", features_of(titanic))}
    assert checks["boat"].entropy_share == pytest.approx(0.85, abs=0.02)
    assert checks["boat"].suspect and checks["body"].suspect
    assert checks["body"].missing_side == "present" and checks["body"].missing_purity == 1.0
    assert str(checks["body"].missing_class) == "0"
    for honest in ("sex", "pclass", "age", "fare", "embarked", "sibsp", "parch"):
        assert not checks[honest].suspect, honest
    assert checks["sex"].entropy_share < LEAK_ENTROPY_SHARE / 2
    assert checks["boat"].short_message.startswith(
        "'boat' alone gives much of the target away (mutual information 85% of the target's entropy)")
    assert checks["body"].short_message.startswith(
        "'body' alone gives much of the target away (it is filled in on 121 rows and 100% of them have the "
        "target '0')")


def test_the_eda_and_train_pages_both_warn_about_boat_and_body(titanic):
    warnings = feature_warnings(titanic, "survived", features_of(titanic))
    eda = analyze_target(titanic, "survived", "binary").leakage
    for messages in (warnings, eda):
        flagged = {f for f in features_of(titanic) if any(m.startswith(f"{f!r} alone") for m in messages)}
        assert flagged == {"boat", "body"}


def test_missingness_of_the_majority_class_is_not_a_tell():
    rng = np.random.default_rng(3)
    y = rng.choice([0, 1], 2000, p=[0.9, 0.1])
    note = np.where(rng.random(2000) < 0.3, rng.normal(size=2000), np.nan)
    note[y == 1] = rng.normal(size=int((y == 1).sum()))  # present for every 1, but 1 is rare among present rows
    pure = np.where(y == 1, rng.normal(size=2000), np.nan)  # present exactly for the rare class
    df = pd.DataFrame({"note": note, "pure": pure, "y": y})
    checks = {c.feature: c for c in screen_leakage(df, "y", "binary", ["note", "pure"])}
    assert not checks["note"].suspect
    assert checks["pure"].missing_side == "present" and checks["pure"].suspect
