"""Cross-validation folds fitted side by side on free cores give the very scores of folds fitted in turn."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pandas as pd
import pytest

from core.ml import cross_validation as cv_module
from core.ml.catalogue import get_algorithm
from core.ml.config import SplitConfig, TrainConfig
from core.ml.cross_validation import fold_workers
from core.ml.fitting import fit_pipeline, make_pipeline
from core.ml.prepared import prepare_data
from core.ml.preprocessing import resolve_preprocessing
from core.ml.train import train_candidate
from core.platform import cores
from core.platform.errors import JobCancelledError


def _frame(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "plan": rng.choice(["x", "y", "z"], n)})
    df["y"] = np.where(df["a"] + (df["plan"] == "x") + rng.normal(0, 0.7, n) > 0.4, "yes", "no")
    return df


def _config(**extra) -> TrainConfig:
    return TrainConfig(algorithm="random_forest", target="y", explain=False, split=SplitConfig(cv_folds=4),
                       params={"n_estimators": 20}, **extra)


def test_fold_workers_use_the_cores_a_fit_leaves_free(monkeypatch):
    monkeypatch.setattr(cv_module, "free_cores", lambda: 4)
    assert fold_workers(5, 1, explicit_threads=False) == 4
    assert fold_workers(3, 1, explicit_threads=False) == 3  # never more than the folds
    assert fold_workers(5, 2, explicit_threads=False) == 2
    assert fold_workers(5, 4, explicit_threads=False) == 1  # a fit that takes every core: one fold at a time
    assert fold_workers(5, 1, explicit_threads=True) == 1  # an explicit n_jobs is the user's whole budget


def test_side_by_side_folds_score_exactly_as_folds_in_turn(monkeypatch):
    df = _frame()
    monkeypatch.setattr(cv_module, "free_cores", lambda: 1)
    in_turn = train_candidate(df, _config())
    names: set[str] = set()
    real = cv_module.evaluate

    def recording(*args, **kwargs):
        names.add(threading.current_thread().name)
        return real(*args, **kwargs)

    monkeypatch.setattr(cv_module, "free_cores", lambda: 3)
    monkeypatch.setattr(cv_module, "evaluate", recording)
    side_by_side = train_candidate(df, _config())
    assert any(name.startswith("cv-fold") for name in names)  # the folds did run on the pool
    assert side_by_side.cv == in_turn.cv and len(side_by_side.cv["accuracy"]["folds"]) == 4
    assert side_by_side.metrics == in_turn.metrics


def test_warning_filters_are_as_before_after_folds_side_by_side(monkeypatch):
    monkeypatch.setattr(cv_module, "free_cores", lambda: 3)
    before = list(warnings.filters)
    train_candidate(_frame(), _config())
    assert warnings.filters == before


def test_a_cancel_during_side_by_side_folds_stops_the_run(monkeypatch):
    monkeypatch.setattr(cv_module, "free_cores", lambda: 2)

    def check() -> None:
        if any("folds done" in m for m in seen):
            raise JobCancelledError("The job was cancelled.")

    seen: list[str] = []
    with pytest.raises(JobCancelledError):
        train_candidate(_frame(), _config(), progress=lambda f, m=None: seen.append(m or ""), check_cancelled=check)


def test_a_fit_without_capture_leaves_warnings_to_the_caller():
    df = _frame()
    prepared = prepare_data(df, TrainConfig(target="y"))
    entry = get_algorithm("logistic_regression")
    resolved, _ = resolve_preprocessing(prepared.config.preprocessing, entry.family, prepared.kind,
                                        entry.handles_missing)
    pipeline, weigh, _ = make_pipeline(entry, prepared.kind, prepared.types, resolved, {"max_iter": 1},
                                       y=prepared.y_train)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert fit_pipeline(pipeline, prepared.X_train, prepared.y_train, weigh=weigh, capture=False) == []
    assert any("converge" in str(w.message).lower() for w in caught)  # max_iter=1 cannot converge
    again, _, _ = make_pipeline(entry, prepared.kind, prepared.types, resolved, {"max_iter": 1}, y=prepared.y_train)
    assert any("converge" in line.lower() for line in fit_pipeline(again, prepared.X_train, prepared.y_train))


def test_lightgbm_early_stopping_raises_no_deprecation_of_its_own():
    rng = np.random.default_rng(1)
    n = 400
    df = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    df["y"] = np.where(df["a"] + rng.normal(0, 0.5, n) > 0, "yes", "no")  # string classes, as in penguins
    prepared = prepare_data(df, TrainConfig(target="y"))
    entry = get_algorithm("lightgbm")
    resolved, _ = resolve_preprocessing(prepared.config.preprocessing, entry.family, prepared.kind,
                                        entry.handles_missing)
    pipeline, weigh, _ = make_pipeline(entry, prepared.kind, prepared.types, resolved, {}, y=prepared.y_train)
    lines = fit_pipeline(pipeline, prepared.X_train, prepared.y_train, weigh=weigh)
    assert not [line for line in lines if "Deprecat" in line], lines
    assert pipeline[-1].best_iteration_ >= 1  # it did stop early on the held-out tenth


def test_free_cores_is_remembered_for_a_while(monkeypatch):
    monkeypatch.setattr(cores, "usable_cpus", lambda: 4)
    monkeypatch.delenv(cores.THREADS_ENV, raising=False)
    monkeypatch.setattr(cores, "_memo", {})
    samples = iter([1.0, 3.0])
    monkeypatch.setattr(cores, "busy_elsewhere", lambda *a: next(samples))
    assert cores.free_cores() == 3
    assert cores.free_cores() == 3  # remembered: no second sample
    assert cores.free_cores(max_age=0) == 1  # measured again
    monkeypatch.setenv(cores.THREADS_ENV, "2")
    assert cores.free_cores() == 2
