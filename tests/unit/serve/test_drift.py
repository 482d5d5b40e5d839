"""Drift against stored reference statistics: tests, PSI, verdicts, JSON, figures."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from scipy import stats

from core.models.training_stats import build_reference
from core.platform.errors import InvalidInputError
from core.serve.drift import DriftReport, FeatureDrift, detect_drift, distribution_figure, psi

CITIES = ["Paris", "Lyon", "Nice", "Lille"]
CITY_P = [0.4, 0.3, 0.2, 0.1]


def make(n: int, seed: int, *, shift: float = 0.0, cities: list[float] | None = None) -> pd.DataFrame:
    """Five features; ``shift`` moves ``price`` by that many standard deviations."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "price": rng.normal(100 + 10 * shift, 10, n),
            "age": rng.gamma(2.0, 10.0, n),
            "rooms": rng.integers(1, 6, n),
            "city": rng.choice(CITIES, n, p=cities or CITY_P),
            "garden": rng.random(n) < 0.3,
        }
    )


@pytest.fixture(scope="module")
def ref() -> dict:
    train = make(200_000, seed=0)
    return build_reference(train, list(train.columns))


@pytest.mark.parametrize("n", [1_000, 100_000])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_untouched_features_are_not_flagged(ref: dict, n: int, seed: int) -> None:
    report = detect_drift(ref, make(n, seed))
    assert report.drifted_features == []
    assert report.verdict == "No drift" and report.share_drifted == 0.0


@pytest.mark.parametrize("n", [1_000, 100_000])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shifted_numeric_feature_is_flagged(ref: dict, n: int, seed: int) -> None:
    report = detect_drift(ref, make(n, seed, shift=0.5))
    assert report.drifted_features == ["price"]
    price = report.features[0]
    assert price.test == "ks" and price.p_value < 1e-6
    # a shift of half a standard deviation moves the CDF by about Phi(0.25) - Phi(-0.25) = 0.197
    assert price.statistic == pytest.approx(0.197, abs=0.05)
    assert report.verdict == "Some drift: 1 of 5 features"


@pytest.mark.parametrize("n", [1_000, 100_000])
def test_shifted_categorical_feature_is_flagged(ref: dict, n: int) -> None:
    report = detect_drift(ref, make(n, 4, cities=[0.1, 0.2, 0.3, 0.4]))
    assert report.drifted_features == ["city"]
    city = report.features[3]
    assert city.test == "chi2" and city.p_value < 1e-10 and city.psi > 0.2


def test_identical_data_has_zero_psi() -> None:
    train = make(20_000, seed=5)
    ref = build_reference(train, list(train.columns))
    report = detect_drift(ref, train)
    for f in report.features:
        assert f.psi == pytest.approx(0.0, abs=1e-12) and f.statistic == pytest.approx(0.0, abs=1e-12)
        assert f.p_value == pytest.approx(1.0) and not f.drifted


def test_psi_hand_checked() -> None:
    # (0.25 - 0.5) ln(0.25 / 0.5) + (0.75 - 0.5) ln(0.75 / 0.5) = 0.25 ln 2 + 0.25 ln 1.5
    assert psi([50, 50], [25, 75]) == pytest.approx(0.25 * math.log(2) + 0.25 * math.log(1.5))
    assert psi([50, 50], [25, 75]) == pytest.approx(0.274653, abs=1e-6)
    # an empty bin is clipped to 1e-4 rather than making the index infinite
    assert psi([10, 0], [5, 5]) == pytest.approx(-0.5 * math.log(0.5) + (0.5 - 1e-4) * math.log(0.5 / 1e-4))
    with pytest.raises(InvalidInputError, match=r"PSI needs two count vectors of the same length"):
        psi([1, 2], [1, 2, 3])
    with pytest.raises(InvalidInputError, match=r"add up to more than zero on both sides"):
        psi([0, 0], [1, 2])


def test_ks_statistic_and_p_value_hand_checked() -> None:
    ref = build_reference(pd.DataFrame({"x": np.arange(1.0, 101.0)}), ["x"], bins=4)  # edges 25.75, 50.5, 75.25
    result = detect_drift(ref, pd.DataFrame({"x": np.full(100, 10.0)})).features[0]
    # all new values lie in the first bin: CDFs 1 vs 0.25 at 25.75
    assert result.statistic == pytest.approx(0.75)
    assert result.p_value == pytest.approx(stats.kstwo.sf(0.75, 50))  # effective n = 100 * 100 / 200
    beyond = detect_drift(ref, pd.DataFrame({"x": np.full(100, 500.0)})).features[0]
    # beyond the training maximum: the open last bin hides it, the maximum does not
    assert beyond.statistic == pytest.approx(1.0) and beyond.drifted


def test_chi2_and_cramers_v_hand_checked() -> None:
    ref = build_reference(pd.DataFrame({"c": ["a"] * 50 + ["b"] * 50}), ["c"])
    result = detect_drift(ref, pd.DataFrame({"c": ["a"] * 25 + ["b"] * 75})).features[0]
    expected = stats.chi2_contingency([[50, 50], [25, 75]], correction=False)
    assert result.statistic == pytest.approx(expected.statistic)  # 13.333...
    assert result.p_value == pytest.approx(expected.pvalue)
    # balanced Cramér's V: sqrt(0.25^2 / (2 * 0.75) + 0.25^2 / (2 * 1.25))
    assert result.effect_size == pytest.approx(math.sqrt(0.0625 / 1.5 + 0.0625 / 2.5))
    assert result.psi == pytest.approx(psi([50, 50], [25, 75]))


def test_unseen_categories_pooled_into_other(ref: dict) -> None:
    batch = make(2_000, 6)
    batch.loc[:599, "city"] = "Rome"
    city = detect_drift(ref, batch).features[3]
    assert city.drifted and city.psi > 1.0


def test_significant_but_tiny_shift_is_not_drift(ref: dict) -> None:
    report = detect_drift(ref, make(100_000, 7, shift=0.05))
    price = report.features[0]
    assert price.p_value < 0.01  # with this many rows even 0.05 sd is "significant" ...
    assert price.statistic < 0.1 and price.psi < 0.2 and not price.drifted  # ... but not drift


def test_missing_values_move_the_psi(ref: dict) -> None:
    batch = make(5_000, 8)
    batch.loc[batch.index[:2_500], "age"] = np.nan
    age = detect_drift(ref, batch).features[1]
    assert age.psi > 0.2 and age.drifted and age.statistic < 0.1  # KS looks at present values only


def test_datetime_and_text_features() -> None:
    rng = np.random.default_rng(9)
    n = 5_000
    train = pd.DataFrame(
        {
            "when": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
            "note": [f"free text about item {i}" for i in range(n)],
        }
    )
    ref = build_reference(train, ["when", "note"])
    later = train.assign(when=train["when"] + pd.Timedelta(days=200))
    report = detect_drift(ref, later)
    when, note = report.features
    assert (when.test, when.drifted) == ("ks", True)
    assert (note.test, note.statistic, note.psi, note.drifted) == ("none", None, None, False)
    assert report.share_drifted == 1.0 and report.verdict == "Severe drift: 1 of 1 features"
    assert not detect_drift(ref, train.astype({"when": str})).features[0].drifted  # dates as text


def test_verdicts() -> None:
    def report(flags: list[bool]) -> DriftReport:
        return DriftReport(
            [FeatureDrift(f"f{i}", "numeric", "ks", 0.0, 1.0, 0.0, 0.0, d) for i, d in enumerate(flags)], 10
        )

    assert report([False] * 10).verdict == "No drift"
    assert report([True] * 2 + [False] * 8).verdict == "Some drift: 2 of 10 features"
    assert report([True] * 3 + [False] * 7).verdict == "Severe drift: 3 of 10 features"
    assert report([True] * 3 + [False] * 7).share_drifted == 0.3


def test_to_json_shape(ref: dict) -> None:
    data = detect_drift(ref, make(3_000, 10, shift=1.0)).to_json()
    assert list(data) == ["drifted_features", "share_drifted", "verdict", "features"]
    assert data["drifted_features"] == ["price"] and data["share_drifted"] == 0.2
    assert data["verdict"] == "Some drift: 1 of 5 features"
    for row in data["features"]:
        assert list(row) == ["feature", "test", "statistic", "p_value", "psi", "drifted"]
        assert all(type(v) in (str, float, bool) for v in row.values())
    assert json.loads(json.dumps(data, allow_nan=False)) == data


def test_worst_and_frame(ref: dict) -> None:
    report = detect_drift(ref, make(3_000, 11, shift=1.0, cities=[0.1, 0.2, 0.3, 0.4]))
    assert set(report.worst(2)) == {"price", "city"}
    frame = report.to_frame()
    assert list(frame.columns) == [
        "feature",
        "logical_type",
        "test",
        "statistic",
        "p_value",
        "psi",
        "effect_size",
        "drifted",
    ]
    assert frame["drifted"].sum() == 2


def test_numbers_as_text_are_read(ref: dict) -> None:
    batch = make(1_000, 12).astype({"price": str, "rooms": str})
    assert detect_drift(ref, batch).drifted_features == []


def test_distribution_figure(ref: dict) -> None:
    batch = make(2_000, 13, shift=1.0)
    fig = distribution_figure(ref, batch, "price")
    assert isinstance(fig, go.Figure) and [t.name for t in fig.data] == ["Training", "New data"]
    assert len(fig.data[0].x) == len(ref["features"][0]["histogram"]["counts"]) == 20
    assert fig.data[0].x[0].startswith("< ") and fig.data[0].x[-1].startswith("≥ ")
    assert sum(fig.data[1].y) == pytest.approx(1.0) and sum(fig.data[0].y) == pytest.approx(1.0)
    assert "PSI" in fig.layout.title.text
    city = distribution_figure(ref, batch.assign(city="Rome"), "city")
    assert list(city.data[0].x) == [*CITIES, "__other__"]
    assert city.data[1].y[-1] == 1.0


def test_bad_inputs(ref: dict) -> None:
    with pytest.raises(InvalidInputError, match=r"Column 'city' is missing from the data: drift is measured on all 5"):
        detect_drift(ref, make(10, 1).drop(columns="city"))
    with pytest.raises(InvalidInputError, match=r"The data has no rows: drift needs at least one"):
        detect_drift(ref, make(10, 1).iloc[:0])
    with pytest.raises(InvalidInputError, match=r"The 'psi_threshold' parameter must be a positive number; got 0"):
        detect_drift(ref, make(10, 1), psi_threshold=0)
    with pytest.raises(InvalidInputError, match=r"Feature 'size' is not one of the model's 5 features"):
        distribution_figure(ref, make(10, 1), "size")
    doubled = pd.concat([make(10, 1), make(10, 1)[["age"]]], axis=1)
    with pytest.raises(InvalidInputError, match=r"Column 'age' appears more than once in the data"):
        detect_drift(ref, doubled)
    with pytest.raises(InvalidInputError, match=r"Drift needs a pandas DataFrame; got list instead"):
        detect_drift(ref, [1, 2])  # type: ignore[arg-type]
