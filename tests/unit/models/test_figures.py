"""core.models.figures: what each figure draws from a card or a leaderboard, checked by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from core.models import comparison_figures as cf
from core.models import figures as mf
from core.models.leaderboard import leaderboard
from core.models.registry import ModelVersionInfo, Transition
from core.platform.chart_style import model_colours
from core.platform.errors import InvalidInputError

UTC = dt.UTC


def binary_card(auc: float = 0.75) -> dict:
    return {
        "kind": "binary", "label": "Logistic regression",
        "curves": {
            "confusion_matrix": {"labels": [0, 1], "counts": [[145, 17], [36, 64]],
                                 "normalized": [[0.895062, 0.104938], [0.36, 0.64]]},
            "roc": {"1": {"fpr": [0.0, 0.5, 1.0], "tpr": [0.0, 0.9, 1.0], "thresholds": [None, 0.5, 0.0],
                          "auc": auc}},
            "pr": {"1": {"recall": [1.0, 0.5, 0.0], "precision": [0.4, 0.8, 1.0], "thresholds": [0.1, 0.5, None],
                         "average_precision": 0.8}},
            "calibration": {"predicted": [0.1, 0.5, 0.9], "observed": [0.2, 0.5, 0.8], "count": [10, 5, 10]},
            "thresholds": [
                {"threshold": 0.5, "precision": 0.7, "recall": 0.6, "f1": 0.646, "positive_rate": 0.3},
                {"threshold": 0.3, "precision": 0.5, "recall": 0.9, "f1": 0.643, "positive_rate": 0.6},
                {"threshold": 0.7, "precision": 0.9, "recall": 0.3, "f1": 0.45, "positive_rate": 0.1},
            ],
            "positive_label": 1,
        },
        "importances": {"sex": 0.6, "age": 0.3, "fare": 0.1},
        "importance_method": "native",
        "shap": {"mean_abs": {"sex": 2.5, "fare": 1.0}, "method": "linear", "n_rows": 100, "seconds": 0.1},
    }


def multiclass_card() -> dict:
    curve = {"fpr": [0.0, 1.0], "tpr": [0.0, 1.0], "thresholds": [None, 0.0], "auc": 0.5}
    return {"kind": "multiclass", "curves": {"roc": {"Adelie": curve, "Gentoo": {**curve, "auc": 0.9}}}}


def regression_card(n: int = 10, total: int = 10) -> dict:
    actual = np.arange(n, dtype=float)
    predicted = actual + 1.0
    return {"kind": "regression", "curves": {"scatter": {"actual": actual.tolist(), "predicted": predicted.tolist(),
                                                         "residual": (actual - predicted).tolist()},
                                             "n_total": total}}


# -- classification ---------------------------------------------------------------------
def test_confusion_matrix_counts_and_shares():
    counts = mf.confusion_matrix_figure(binary_card())
    heat = counts.data[0]
    assert heat.type == "heatmap" and list(heat.x) == ["0", "1"] and list(heat.y) == ["0", "1"]
    assert heat.z.tolist() == [[145, 17], [36, 64]] and list(heat.text[1]) == ["36", "64"]
    shares = mf.confusion_matrix_figure(binary_card(), normalized=True).data[0]
    assert list(shares.text[0]) == ["90%", "10%"] and shares.z[1][1] == pytest.approx(0.64)
    assert counts.layout.yaxis.autorange == "reversed"  # actual class 0 on top, as a table reads


def test_roc_of_one_binary_model_has_its_line_and_the_chance_diagonal():
    fig = mf.roc_figure({"LR": binary_card()})
    chance, line = fig.data
    assert (list(chance.x), list(chance.y)) == ([0, 1], [0, 1])
    assert line.name == "AUC 0.750" and list(line.y) == [0.0, 0.9, 1.0]


def test_roc_draws_one_vs_rest_lines_for_multiclass_and_overlays_models():
    one = mf.roc_figure({"M": multiclass_card()})
    assert [t.name for t in one.data[1:]] == ["Adelie vs rest (AUC 0.500)", "Gentoo vs rest (AUC 0.900)"]
    both = mf.roc_figure({"A:1": binary_card(0.8), "B:2": multiclass_card()})
    assert [t.name for t in both.data[1:]] == ["A:1 (AUC 0.800)", "B:2 · Adelie (AUC 0.500)",
                                               "B:2 · Gentoo (AUC 0.900)"]


def test_missing_curves_are_refused_with_a_message():
    with pytest.raises(InvalidInputError, match="This model has no ROC curve to draw"):
        mf.roc_figure({"R": regression_card()})
    with pytest.raises(InvalidInputError, match="Choose at least one model"):
        mf.pr_figure({})
    with pytest.raises(InvalidInputError, match="no confusion matrix"):
        mf.confusion_matrix_figure({"curves": {}})
    with pytest.raises(InvalidInputError, match="must be a dict"):
        mf.confusion_matrix_figure(["not", "a", "card"])


def test_pr_curve_shows_the_no_skill_line_at_the_positive_share():
    fig = mf.pr_figure({"LR": binary_card()})
    line, baseline = fig.data
    assert line.name == "AP 0.800" and list(line.x) == [1.0, 0.5, 0.0]
    share = (36 + 64) / (145 + 17 + 36 + 64)  # actual positives over all test rows
    assert baseline.y == (pytest.approx(share), pytest.approx(share)) and "38% positive" in baseline.name


def test_calibration_plots_observed_against_predicted():
    fig = mf.calibration_figure({"LR": binary_card()})
    assert list(fig.data[1].x) == [0.1, 0.5, 0.9] and list(fig.data[1].y) == [0.2, 0.5, 0.8]
    with pytest.raises(InvalidInputError, match="calibration"):
        mf.calibration_figure({"M": multiclass_card()})


def test_threshold_table_is_sorted_and_read_at_the_nearest_threshold():
    table = mf.threshold_table(binary_card())
    assert list(table.columns) == ["threshold", "precision", "recall", "f1", "positive_rate"]
    assert table["threshold"].tolist() == [0.3, 0.5, 0.7]
    assert mf.metrics_at_threshold(table, 0.55) == {"threshold": 0.5, "precision": 0.7, "recall": 0.6, "f1": 0.646,
                                                    "positive_rate": 0.3}
    assert mf.metrics_at_threshold(table, 0.1)["threshold"] == 0.3
    with pytest.raises(InvalidInputError, match="threshold table"):
        mf.threshold_table(multiclass_card())


# -- regression -------------------------------------------------------------------------
def test_residuals_are_actual_minus_predicted_and_the_sample_is_said():
    fig = mf.residuals_figure(regression_card(n=10, total=50))
    assert list(fig.data[0].y) == [-1.0] * 10 and list(fig.data[0].x) == list(np.arange(10) + 1.0)
    assert fig.layout.title.text == "Residuals (10 of 50 test rows)"
    assert mf.residuals_figure(regression_card()).layout.title.text == "Residuals"


def test_predicted_vs_actual_overlays_models_with_a_diagonal_over_all_values():
    other = regression_card(n=5)
    other["curves"]["scatter"]["predicted"] = [20.0] * 5
    fig = mf.predicted_vs_actual_figure({"a": regression_card(), "b": other, "clf": binary_card()})
    names = [t.name for t in fig.data]
    assert names == ["a", "b", "perfect"]
    assert (list(fig.data[2].x), list(fig.data[2].y)) == ([0.0, 20.0], [0.0, 20.0])
    with pytest.raises(InvalidInputError, match="regression only"):
        mf.predicted_vs_actual_figure({"clf": binary_card()})


def test_residual_interval_spans_the_middle_of_the_test_errors():
    card = {"curves": {"scatter": {"residual": list(range(-50, 51))}}}
    assert mf.residual_interval(card, 100.0) == (55.0, 145.0)  # 5th and 95th percentiles are -45 and +45
    assert mf.residual_interval(card, 0.0, level=0.5) == (-25.0, 25.0)
    assert mf.residual_interval({"curves": {"scatter": {"residual": [1.0] * 5}}}, 1.0) is None
    assert mf.residual_interval(binary_card(), 1.0) is None
    with pytest.raises(InvalidInputError, match="between 0 and 1"):
        mf.residual_interval(card, 1.0, level=1.5)


# -- importances and explanations --------------------------------------------------------
def test_importances_read_both_card_shapes_largest_first():
    assert mf.importance_series(binary_card()).index.tolist() == ["sex", "age", "fare"]
    listed = {"importances": [{"feature": "b", "importance": 0.2}, {"feature": "a", "importance": 0.8}]}
    assert mf.importance_series(listed).to_dict() == {"a": 0.8, "b": 0.2}
    fig = mf.importance_figure(binary_card(), top=2)
    assert list(fig.data[0].y) == ["age", "sex"]  # horizontal bars: the largest is drawn at the top
    assert fig.layout.title.text == "Feature importance (native) (top 2; 1 more)"
    with pytest.raises(InvalidInputError, match="feature importances"):
        mf.importance_figure({})


def test_shap_summary_bars():
    fig = mf.shap_figure(binary_card())
    assert list(fig.data[0].x) == [1.0, 2.5] and list(fig.data[0].y) == ["fare", "sex"]
    assert "linear, 100 rows" in fig.layout.title.text
    with pytest.raises(InvalidInputError, match="SHAP summary"):
        mf.shap_figure({"shap": None})


def test_waterfall_goes_from_base_through_the_largest_contributions_to_the_total():
    contributions = pd.Series({"a": 1.0, "b": -2.0, "c": 0.5, "unused": 0.0, "d": 0.25})
    fig = mf.waterfall_figure(contributions, 3.0, top=2, explained_class=1)
    bars = fig.data[0]
    assert list(bars.y) == ["b", "a", "2 other features", "prediction"]
    assert list(bars.x) == [-2.0, 1.0, 0.75, 2.75] and bars.base == 3.0  # 3 - 2 + 1 + 0.75 = 2.75
    assert list(bars.measure) == ["relative", "relative", "relative", "total"]
    assert "towards class 1" in fig.layout.title.text and "3.000 to 2.750" in fig.layout.title.text
    low, high = fig.layout.xaxis.range
    assert low < 1.0 and high > 3.0  # the whole path (3, 1, 2, 2.75) is in view
    with pytest.raises(InvalidInputError, match="not explained"):
        mf.waterfall_figure(pd.Series(dtype=float), 0.0)


def test_probability_bars_highlight_the_predicted_class():
    fig = mf.probability_figure({"no": 0.3, "yes": 0.7}, predicted="yes")
    bars = fig.data[0]
    assert list(bars.y) == ["no", "yes"] and list(bars.x) == [0.3, 0.7]
    assert list(bars.marker.color) == [mf.MUTED, mf.ACCENT] and list(bars.text) == ["30.0%", "70.0%"]
    with pytest.raises(InvalidInputError, match="no class probabilities"):
        mf.probability_figure({})


# -- clustering ---------------------------------------------------------------------------
def test_pca_scatter_has_a_trace_per_cluster_and_noise_is_named():
    card = {"curves": {"projection": {"x": [0, 1, 2, 3], "y": [1, 1, 2, 2], "cluster": [0, 1, -1, 0],
                                      "explained_variance_ratio": [0.6, 0.25]},
                       "cluster_sizes": {"-1": 1, "0": 2, "1": 1}}}
    fig = mf.pca_figure(card)
    assert [t.name for t in fig.data] == ["noise", "cluster 0", "cluster 1"]
    assert list(fig.data[1].x) == [0, 3]
    assert fig.layout.xaxis.title.text == "PC1 (60% of variance)"
    sizes = mf.cluster_sizes_figure(card).data[0]
    assert list(sizes.x) == ["noise", "0", "1"] and list(sizes.y) == [1, 2, 1]
    with pytest.raises(InvalidInputError, match="clustering only"):
        mf.pca_figure(binary_card())


# -- metrics and the leaderboard -----------------------------------------------------------
def test_metrics_table_shows_test_values_and_cv_mean_plus_minus_std():
    metrics = {"accuracy": 0.8, "log_loss": 0.5, "cv": {"accuracy": {"mean": 0.79, "std": 0.01, "folds": [0.78, 0.8]},
                                                        "roc_auc": {"mean": 0.849, "std": 0.007}}}
    table = mf.metrics_table(metrics)
    assert table["metric"].tolist() == ["accuracy", "log_loss", "roc_auc"]
    assert table["cv mean ± std"].tolist() == ["0.7900 ± 0.0100", "", "0.8490 ± 0.0070"]
    assert table["better"].tolist() == ["higher", "lower", "higher"]
    assert np.isnan(table.loc[2, "test"]) and table.loc[0, "cv std"] == 0.01
    assert mf.metrics_table({"rmse": 2.0}, cv={}).loc[0, "cv mean ± std"] == ""


def mv(i: int, metrics: dict, seconds: float, name: str = "m", kind: str = "binary") -> ModelVersionInfo:
    return ModelVersionInfo(
        id=i, name=name, version=i, stage="none", algorithm=f"alg{i}", problem_type=kind, target="y",
        dataset_version_id=1, dataset_label="d@1", artifact_key=None, sha256=None, size_bytes=1000,
        metrics=metrics, card={}, train_seconds=seconds, predict_ms_per_1k=1.0, job_id=None,
        created_at=dt.datetime(2026, 1, i, tzinfo=UTC),
    )


@pytest.fixture
def board() -> pd.DataFrame:
    return leaderboard([
        mv(1, {"roc_auc": 0.9, "log_loss": 0.4, "cv": {"roc_auc": {"mean": 0.88, "std": 0.02}}}, 10.0),
        mv(2, {"roc_auc": 0.8, "log_loss": 0.3, "cv": {"roc_auc": {"mean": 0.81, "std": 0.01}}}, 1.0),
        mv(3, {"roc_auc": 0.7, "log_loss": 0.5}, 5.0),
    ])


LABELS = ["Alg1 (m:1)", "Alg2 (m:2)", "Alg3 (m:3)"]  # the algorithm in words, then the version


def test_metric_bars_mark_the_best_in_the_right_direction_in_each_models_own_colour(board):
    auc = cf.metric_bar_figure(board, "roc_auc").data[0]
    assert list(auc.x) == LABELS
    assert list(auc.marker.color) == list(model_colours(LABELS).values())
    assert list(auc.text) == ["0.900 (best)", "0.800", "0.700"]  # the mark is in words, not colour alone
    loss = cf.metric_bar_figure(board, "log_loss")
    assert list(loss.data[0].text) == ["0.400", "0.300 (best)", "0.500"]
    assert loss.layout.title.text == "Log loss (lower is better)"


def test_cross_validated_metric_bars_carry_std_error_bars(board):
    bars = cf.metric_bar_figure(board, "cv_roc_auc").data[0]
    assert list(bars.x) == LABELS[:2]  # m:3 was not cross-validated
    assert list(bars.y) == [0.88, 0.81] and list(bars.error_y.array) == [0.02, 0.01]
    assert list(cf.metric_bar_figure(board, "cv_roc_auc_mean").data[0].error_y.array) == [0.02, 0.01]


def test_metric_bars_refuse_unknown_or_empty_metrics(board):
    with pytest.raises(InvalidInputError, match="no metric 'f1'"):
        cf.metric_bar_figure(board, "f1")
    empty = board.assign(roc_auc=np.nan)
    with pytest.raises(InvalidInputError, match="No model in the table has a value for 'roc_auc'"):
        cf.metric_bar_figure(empty, "roc_auc")


def test_pareto_figure_joins_the_models_nothing_beats_on_score_and_time(board):
    fig = cf.pareto_figure(board, "roc_auc")
    front, *points = fig.data
    assert front.name == "Pareto front" and list(front.x) == [1.0, 10.0]  # m:2 in 1 s, then m:1 in 10 s
    assert list(front.y) == [0.8, 0.9]
    assert [p.name for p in points] == LABELS and [list(p.text) for p in points] == [[x] for x in LABELS]
    assert all("text" in p.mode for p in points)  # every point carries its model's name on the chart
    assert [p.marker.color for p in points] == list(model_colours(LABELS).values())
    assert [p.marker.symbol for p in points] == ["circle", "circle", "circle-open"]  # 0.7 in 5 s loses to 0.8 in 1 s
    assert fig.layout.xaxis.title.text == "Training time (s)"


# -- registry history ---------------------------------------------------------------------
def test_stage_history_table_and_timeline():
    t0 = dt.datetime(2026, 1, 1, tzinfo=UTC)
    moves = [Transition("m", 2, "none", "production", "", t0 + dt.timedelta(hours=2)),
             Transition("m", 1, "production", "archived", "replaced", t0 + dt.timedelta(hours=2)),
             Transition("m", 1, "none", "production", "", t0)]
    table = cf.stage_history_table(moves)
    assert list(table.columns) == ["when", "version", "from", "to", "note"]
    assert table["version"].tolist() == [2, 1, 1] and table["to"].iloc[-1] == "production"
    fig = cf.stage_history_figure(moves)
    step = fig.data[0]
    assert step.name == "in production" and list(step.y) == [1, 2] and step.line.shape == "hv"
    assert {t.name for t in fig.data[1:]} == {"→ production", "→ archived"}
    with pytest.raises(InvalidInputError, match="no stage changes"):
        cf.stage_history_figure([])
