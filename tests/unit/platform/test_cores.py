"""How many threads a fit gets (core.platform.cores): small data, busy cores, the override."""

from __future__ import annotations

import pandas as pd
import pytest

from core.platform import cores


@pytest.fixture
def four_cpus(monkeypatch):
    monkeypatch.setattr(cores, "usable_cpus", lambda: 4)


def test_small_data_gets_one_thread_without_measuring(four_cpus, monkeypatch):
    monkeypatch.setattr(cores, "busy_elsewhere", lambda *a: pytest.fail("no need to measure a small fit"))
    assert cores.thread_budget(1_309) == 1


@pytest.mark.parametrize(("busy", "threads"), [(0.0, 4), (0.4, 4), (1.6, 2), (3.9, 1), (8.0, 1)])
def test_large_data_gets_the_cores_other_processes_leave_free(four_cpus, monkeypatch, busy, threads):
    monkeypatch.setattr(cores, "busy_elsewhere", lambda *a: busy)
    assert cores.thread_budget(1_000_000) == threads


@pytest.mark.parametrize(("rows", "threads"), [(1_000_000, 4), (50_000, 1)])
def test_a_long_fit_is_judged_by_the_load_that_lasts(four_cpus, monkeypatch, rows, threads):
    loads = iter([3.5, 0.2, 3.5])  # one sample caught a burst (a process exiting), the next did not
    monkeypatch.setattr(cores, "busy_elsewhere", lambda *a: next(loads))
    assert cores.thread_budget(rows) == threads


def test_a_lasting_load_still_takes_its_cores(four_cpus, monkeypatch):
    monkeypatch.setattr(cores, "busy_elsewhere", lambda *a: 2.0)  # another training job, every sample
    assert cores.thread_budget(1_000_000) == 2


def test_an_estimate_reuses_a_recent_reading_of_the_free_cores(four_cpus, monkeypatch):
    readings = []
    monkeypatch.setattr(cores, "busy_elsewhere", lambda *a: readings.append(1) or 1.6)
    monkeypatch.setattr(cores, "_memo", {})
    assert cores.thread_budget(1_000_000, fresh=False) == cores.thread_budget(1_000_000, fresh=False) == 2
    assert len(readings) == 1  # one sample for both, not three each
    assert cores.thread_budget(1_000, fresh=False) == 1  # small data: one thread, unmeasured


def test_the_override_wins_within_the_cpus(four_cpus, monkeypatch):
    monkeypatch.setenv(cores.THREADS_ENV, "3")
    assert cores.thread_budget(10) == 3
    monkeypatch.setenv(cores.THREADS_ENV, "64")
    assert cores.thread_budget(None) == 4


def test_measuring_busy_cores_works_here():
    assert cores.busy_elsewhere(0.05) >= 0.0
    assert 1 <= cores.thread_budget(None) <= cores.usable_cpus()


def test_a_training_run_asks_the_budget(monkeypatch):
    from core.ml import train as train_module
    from core.ml.config import TrainConfig

    asked: list[int | None] = []
    monkeypatch.setattr(train_module, "thread_budget", lambda rows=None: asked.append(rows) or 1)
    frame = pd.DataFrame({"a": range(60), "y": [0, 1] * 30})
    result = train_module.train_candidate(frame, TrainConfig(algorithm="random_forest", target="y", explain=False))
    assert result.ok and asked == [48] and result.pipeline[-1].n_jobs == 1
