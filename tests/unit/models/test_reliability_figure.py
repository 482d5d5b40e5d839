"""The reliability figure: observed against predicted per bin, rows per bin, the Brier score in the title."""

import pytest

from core.models import figures as mf
from core.platform.errors import InvalidInputError


def card(calibration: dict, metrics: dict | None = None) -> dict:
    return {"kind": "binary", "curves": {"calibration": calibration, "positive_label": 1}, "metrics": metrics or {}}


def test_the_figure_shows_the_curve_the_rows_and_the_brier_score():
    fig = mf.reliability_figure(card({
        "predicted": [0.05, 0.42, 0.93], "observed": [0.1, 0.4, 0.9], "count": [120, 30, 50],
        "bin_low": [0.0, 0.4, 0.9], "bin_high": [0.1, 0.5, 1.0], "brier": 0.1234,
    }))
    bars, diagonal, line = fig.data
    assert list(bars.y) == [120, 30, 50] and bars.yaxis == "y2"
    assert list(bars.x) == pytest.approx([0.05, 0.45, 0.95])
    assert list(line.x) == [0.05, 0.42, 0.93] and list(line.y) == [0.1, 0.4, 0.9]
    assert list(diagonal.x) == [0, 1]
    assert "Brier score 0.123" in fig.layout.title.text


def test_an_older_card_without_bins_still_draws_with_the_metric_brier():
    fig = mf.reliability_figure(card({"predicted": [0.15, 0.87], "observed": [0.2, 0.8], "count": [10, 5]},
                                     {"brier": 0.2}))
    assert list(fig.data[0].x) == pytest.approx([0.15, 0.85])
    assert "Brier score 0.200" in fig.layout.title.text


def test_a_card_without_a_curve_says_so():
    with pytest.raises(InvalidInputError, match="calibration curve"):
        mf.reliability_figure({"kind": "multiclass", "curves": {}})
