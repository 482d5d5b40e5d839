"""Input files refused with a reason, row samples, drift of a file, health of prediction runs."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from core.data.sources.input_chunks import check_input_file, read_rows
from core.models.training_stats import build_reference
from core.platform.errors import InvalidInputError
from core.serve.drift import drift_of_file
from core.serve.health import health_figure, health_table
from core.serve.outputs import output_bytes
from core.serve.prediction_runs import PredictionRunInfo


def test_check_input_file_says_what_is_wrong(tmp_path):
    with pytest.raises(InvalidInputError, match="There is no file at"):
        check_input_file(tmp_path / "absent.csv")
    with pytest.raises(InvalidInputError, match="is a folder, not a file"):
        check_input_file(tmp_path)
    (tmp_path / "model.pkl").write_bytes(b"x")
    with pytest.raises(InvalidInputError, match=r"Files ending in \.pkl cannot be read; the supported extensions"):
        check_input_file(tmp_path / "model.pkl")
    (tmp_path / "broken.parquet").write_bytes(b"not parquet at all")
    with pytest.raises(InvalidInputError, match="broken.parquet is not a readable Parquet file"):
        check_input_file(tmp_path / "broken.parquet")
    (tmp_path / "ok.csv").write_text("a\n1\n")
    assert check_input_file(tmp_path / "ok.csv") == tmp_path / "ok.csv"


def test_read_rows_takes_the_first_rows_of_any_format(tmp_path):
    frame = pd.DataFrame({"a": np.arange(250), "b": ["x", "y"] * 125})
    frame.to_parquet(tmp_path / "t.parquet")
    frame.to_csv(tmp_path / "t.csv", index=False)
    for name in ("t.parquet", "t.csv"):
        rows = read_rows(tmp_path / name, limit=100)
        assert rows["a"].tolist() == list(range(100)) and rows.index.tolist() == list(range(100))
    assert len(read_rows(tmp_path / "t.parquet")) == 250
    with pytest.raises(InvalidInputError, match="row limit must be a whole number"):
        read_rows(tmp_path / "t.csv", limit=0)
    frame.head(0).to_parquet(tmp_path / "empty.parquet")
    with pytest.raises(InvalidInputError, match="empty.parquet has no rows"):
        read_rows(tmp_path / "empty.parquet")


def test_drift_of_file_flags_the_shifted_feature_only(tmp_path):
    rng = np.random.default_rng(0)
    train = pd.DataFrame({"x": rng.normal(0, 1, 3000), "z": rng.normal(5, 2, 3000),
                          "c": rng.choice(["a", "b", "c"], 3000)})
    reference = build_reference(train, ["x", "z", "c"])
    new = pd.DataFrame({"x": rng.normal(0, 1, 1000) + 2.0, "z": rng.normal(5, 2, 1000),
                        "c": rng.choice(["a", "b", "c"], 1000), "extra": 1})
    new.to_csv(tmp_path / "new.csv", index=False)
    report = drift_of_file(reference, tmp_path / "new.csv")
    assert report.drifted_features == ["x"] and report.n_rows == 1000
    assert report.to_json()["features"][0]["feature"] == "x"


def test_output_bytes_refuses_other_formats():
    run = PredictionRunInfo(1, "m", 1, "f.csv", 3, "predictions/k.parquet", {}, None, None, dt.datetime.now(dt.UTC))
    with pytest.raises(InvalidInputError, match="downloaded as csv or parquet; got 'xlsx'"):
        output_bytes(None, run, "xlsx")
    blank = PredictionRunInfo(1, "m", 1, "f.csv", 3, None, {}, None, None, dt.datetime.now(dt.UTC))
    with pytest.raises(InvalidInputError, match="has no stored output"):
        output_bytes(None, blank, "csv")


def _run(i: int, hours: int, summary: dict, drift: float | None) -> PredictionRunInfo:
    at = dt.datetime(2026, 3, 1, tzinfo=dt.UTC) + dt.timedelta(hours=hours)
    return PredictionRunInfo(i, "m", 1, f"batch{i}.csv", 100 * i, f"k{i}", summary, drift, None, at)


def test_health_table_and_figure_of_classifier_runs():
    runs = [_run(2, 5, {"class_mix": {"0": 0.6, "1": 0.4}}, 0.5),
            _run(1, 1, {"class_mix": {"0": 0.75, "1": 0.25}}, 0.0)]
    table = health_table(runs)
    assert table["id"].tolist() == [2, 1]  # newest first
    assert table["class mix"].tolist() == ["0: 60%, 1: 40%", "0: 75%, 1: 25%"]
    assert table["rows"].tolist() == [200, 100] and table["drift share"].tolist() == [0.5, 0.0]
    fig = health_figure(runs)
    share_of_1 = next(t for t in fig.data if t.name == "share of 1")
    assert list(share_of_1.y) == [0.25, 0.4]  # oldest first along time
    assert list(fig.data[-1].y) == [0.0, 0.5] and fig.data[-1].name == "drift share"


def test_health_of_regression_runs_shows_the_mean_prediction():
    runs = [_run(1, 1, {"mean": 20.5, "std": 3.0}, None), _run(2, 2, {"mean": 22.0}, 0.25)]
    table = health_table(runs)
    assert table["mean prediction"].tolist() == [22.0, 20.5] and table["class mix"].tolist() == ["", ""]
    assert np.isnan(table["drift share"].iloc[1])
    fig = health_figure(runs)
    assert fig.data[0].name == "mean prediction" and list(fig.data[0].y) == [20.5, 22.0]
    with pytest.raises(InvalidInputError, match="has not scored any file yet"):
        health_figure([])
