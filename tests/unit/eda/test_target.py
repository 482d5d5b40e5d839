"""analyze_target: mutual-information ranking and leakage flags; target_figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.eda import analyze_target, target_figure
from core.platform.errors import InvalidInputError


def classification_frame(n: int = 1500, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    signal = rng.normal(size=n)
    churn = np.where(signal + rng.normal(scale=1.0, size=n) > 0, "yes", "no")
    return pd.DataFrame({
        "signal": signal,
        "noise": rng.normal(size=n),
        "plan": rng.choice(["basic", "pro", "team"], n),
        "churn_code": np.where(churn == "yes", "C1", "C0"),  # the target in disguise
        "churn": churn,
    })


def test_classification_ranking_and_leakage():
    result = analyze_target(classification_frame(), "churn", "classification")
    ranking = result.ranking.set_index("feature")
    assert list(result.ranking["feature"][:2]) == ["churn_code", "signal"]
    # A binary target with balanced classes holds ln 2 nats; the disguised copy carries all of it.
    assert ranking.loc["churn_code", "entropy_share"] == pytest.approx(1.0, abs=0.01)
    assert ranking.loc["churn_code", "single_feature_score"] == pytest.approx(1.0)
    assert ranking.loc["churn_code", "leakage"] and not ranking.loc["signal", "leakage"]
    assert ranking.loc["signal", "mutual_information"] > ranking.loc["noise", "mutual_information"]
    assert 0.6 < ranking.loc["signal", "single_feature_score"] < 0.9
    assert len(result.leakage) == 1
    assert result.leakage[0].startswith("'churn_code' alone predicts the target almost perfectly (balanced accuracy "
                                        "1.000 from this feature alone, 3-fold cross-validated")
    assert result.rows == 1500 and result.sampled_rows is None


def test_regression_flags_a_near_copy_of_the_target():
    rng = np.random.default_rng(1)
    x = rng.normal(size=800)
    price = 3 * x + rng.normal(size=800)
    df = pd.DataFrame({"x": x, "price_in_cents": price * 100 + rng.normal(scale=0.5, size=800),
                       "region": rng.choice(["n", "s"], 800), "price": price})
    result = analyze_target(df, "price", "regression")
    ranking = result.ranking.set_index("feature")
    assert ranking.loc["price_in_cents", "correlation"] == pytest.approx(1.0, abs=1e-3)
    assert ranking.loc["x", "correlation"] == pytest.approx(np.corrcoef(x, price)[0, 1])
    assert ranking.loc["price_in_cents", "leakage"] and not ranking.loc["x", "leakage"]
    assert "correlation 1.000" in result.leakage[0]
    assert np.isnan(ranking.loc["region", "correlation"])


def test_a_categorical_that_maps_to_the_target_is_leakage():
    rng = np.random.default_rng(2)
    status = rng.choice(["a", "b", "c"], 600)
    df = pd.DataFrame({"status_label": pd.Series(status).map({"a": "A!", "b": "B!", "c": "C!"}),
                       "z": rng.normal(size=600), "status": status})
    result = analyze_target(df, "status", "multiclass")  # core.ml.problem's kinds are accepted
    assert result.kind == "classification"
    assert "mutual information 100% of the target's entropy" in result.leakage[0]
    assert "The target has 3 classes." in result.notes


def test_rows_without_target_are_left_out_and_samples_are_said():
    df = classification_frame(3000)
    df.loc[::10, "churn"] = None
    result = analyze_target(df, "churn", "classification", sample_rows=1000)
    assert result.rows == 2700 and result.sampled_rows == 1000
    assert "300 rows without a target value are left out." in result.notes
    assert "Mutual information uses a random sample of 1,000 of the 2,700 rows with a target (seed 0)." in result.notes


def test_features_that_cannot_take_part_are_named():
    df = classification_frame(300)
    df["empty"] = np.nan
    df["same"] = "x"
    df["comment"] = [f"free text comment number {i} about the service" for i in range(300)]
    result = analyze_target(df, "churn", "classification", features=["signal", "empty", "same", "comment"])
    assert list(result.ranking["feature"]) == ["signal"]
    assert "Left out (missing in every row): 'empty'." in result.notes
    assert "Left out (constant): 'same'." in result.notes
    assert "Left out (free text): 'comment'." in result.notes


def test_only_the_target_gives_an_empty_ranking():
    result = analyze_target(pd.DataFrame({"y": [1.0, 2.0, 3.0]}), "y", "regression")
    assert result.ranking.empty and result.notes[-1].startswith("No feature can be compared with the target: the "
                                                                "dataset has no other column.")


def test_targets_that_cannot_be_analysed_are_refused():
    df = classification_frame(100)
    with pytest.raises(InvalidInputError, match="Regression needs a numeric target; 'churn' holds object values"):
        analyze_target(df, "churn", "regression")
    with pytest.raises(InvalidInputError, match="Classification needs at least two classes; the target 'c' has one"):
        analyze_target(df.assign(c="same"), "c", "classification")
    many = pd.DataFrame({"amount": np.arange(250.0), "x": np.ones(250)})
    with pytest.raises(InvalidInputError, match="'amount' has 250 distinct values: too many classes for classif"):
        analyze_target(many, "amount", "classification")
    with pytest.raises(InvalidInputError, match="The target 'gone' is missing in every row"):
        analyze_target(df.assign(gone=np.nan), "gone", "regression")
    with pytest.raises(InvalidInputError, match="'kind' parameter must be one of 'classification', 'regression'"):
        analyze_target(df, "churn", "ranking")
    with pytest.raises(InvalidInputError, match="The target 'nope' is not a column of the dataset"):
        analyze_target(df, "nope", "regression")


def test_target_figures_for_each_combination():
    df = classification_frame(500)
    df["amount"] = df["signal"] * 10 + 50
    numeric_by_class = target_figure(df, "signal", "churn", "classification")
    assert {t.name for t in numeric_by_class.figure.data} == {"yes", "no"}
    assert sum(numeric_by_class.figure.data[0].y) == pytest.approx(1.0)  # shares within the class
    shares = target_figure(df, "plan", "churn", "classification").figure
    assert shares.layout.barmode == "stack" and len(shares.data) == 2
    assert np.allclose(np.sum([t.y for t in shares.data], axis=0), 1.0)
    trend = target_figure(df, "signal", "amount", "regression")
    line = trend.figure.data[-1]
    assert line.name == "trend (OLS)" and np.allclose(line.y, np.asarray(line.x) * 10 + 50)
    assert "slope 10.0 per unit, R² 1.000" in trend.figure.layout.title.text
    boxes = target_figure(df, "plan", "amount", "regression").figure
    assert {t.type for t in boxes.data} == {"box"} and len(boxes.data) == 3


def test_target_figure_explains_what_it_cannot_draw():
    df = classification_frame(200)
    df["comment"] = [f"long free text comment number {i} about the service" for i in range(200)]
    chart = target_figure(df, "comment", "churn", "classification")
    assert chart.figure is None and chart.notes == ["'comment' is free text: it has no distribution to compare with "
                                                    "the target."]
    chart = target_figure(df, "signal", "churn", "regression")
    assert chart.figure is None and chart.notes == ["Regression needs a numeric target; 'churn' is categorical."]
