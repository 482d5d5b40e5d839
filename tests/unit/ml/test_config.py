"""Run settings and callbacks (core.ml.config)."""

from __future__ import annotations

import json

import pytest

from core.ml.config import PreprocessConfig, SplitConfig, TrainConfig, TuningConfig
from core.platform.errors import InvalidInputError
from core.platform.progress import Progress


def test_train_config_round_trips_through_json():
    config = TrainConfig(
        algorithm="mlp", target="y", features=["a", "b"], roles={"id": "id"}, params={"alpha": 0.01},
        split=SplitConfig(kind="time", time_column="t", cv_folds=3),
        preprocessing=PreprocessConfig(scaling="robust", column_types={"a": "categorical"}),
        tuning=TuningConfig(n_trials=5, timeout=30.0), seed=4, positive_label="yes",
    )
    data = json.loads(json.dumps(config.to_dict()))
    assert TrainConfig.from_dict(data) == config
    assert TrainConfig.from_dict(TrainConfig().to_dict()) == TrainConfig()


def test_train_config_errors():
    with pytest.raises(InvalidInputError, match="The training settings cannot be read: .*'colour'"):
        TrainConfig.from_dict({"colour": "red"})
    with pytest.raises(InvalidInputError, match="The 'problem_kind' parameter of TrainConfig must be one of"):
        TrainConfig(problem_kind="ranking")
    with pytest.raises(InvalidInputError, match="n_jobs must be at least 1"):
        TrainConfig(n_jobs=0)
    with pytest.raises(InvalidInputError, match="Cross-validation takes between 2 and 20 folds"):
        SplitConfig(cv_folds=50)
    with pytest.raises(InvalidInputError, match="tuning objective takes between 2 and 20 folds"):
        TuningConfig(cv_folds=1)


def test_callbacks_scale_clamp_and_check_cancel_first():
    seen: list[tuple[float, str | None]] = []
    events: list[str] = []
    outer = Progress.of(lambda f, m=None: seen.append((f, m)), None, lambda: events.append("checked"))
    inner = outer.scaled(0.5, 0.7)
    inner.step(0.5, "halfway")
    inner.progress(2.0)
    outer.step(-1, "start")
    assert seen == [(pytest.approx(0.6), "halfway"), (pytest.approx(0.7), None), (0.0, "start")]
    assert events == ["checked", "checked"]
    Progress().step(0.3, "no-op hooks do nothing")
