"""Train's estimates: a sample fit is made once per what changes it, new ones wait for the inputs to stand,
and fits queued for inputs a session left are cancelled (issue 17)."""

from __future__ import annotations

import threading

import pandas as pd
import pytest

from core.data import datasets
from core.platform.config import Settings
from core.platform.workspace import Workspace
from tests.app.conftest import open_on, texts
from tests.app.test_train_page import wait_for_estimates


class Clock:
    """The debounce's clock, moved by the test: no test here waits on wall time for it."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fits(app_home, monkeypatch):
    """Every sample fit the page starts, as (algorithm, features), with the debounce on a test clock."""
    from components import estimates

    estimates._futures().clear()  # per process: another test's fits of the same (version id, sha) would answer
    calls: list[tuple[str, tuple[str, ...]]] = []
    real = estimates._compute

    def counting(sample, algorithm, target, features, *rest):
        calls.append((algorithm, features))
        return real(sample, algorithm, target, features, *rest)

    monkeypatch.setattr(estimates, "_compute", counting)
    clock = Clock()
    monkeypatch.setattr(estimates, "_clock", clock)
    yield calls, clock
    estimates._futures().clear()


def _version(name: str) -> datasets.VersionInfo:
    frame = pd.DataFrame({"x": [float(i % 11) for i in range(80)], "z": [float(i % 3) for i in range(80)],
                          "w": [float(i % 7) for i in range(80)], "kind": ["p", "q"] * 40})
    return datasets.save_version(Workspace.open(Settings.load()), name, frame, provenance={"source": "test"},
                                 roles={"kind": "target"})


def _settled(calls: list) -> int:
    """How many fits have started once the estimate thread has caught up with those submitted."""
    from components import estimates

    for future in list(estimates._futures().values()):
        if not future.cancelled():
            future.exception(timeout=120)  # waits for it, whatever its outcome
    return len(calls)


def test_folds_tuning_and_the_test_share_change_the_estimate_without_a_new_fit(fits):
    calls, _ = fits
    _version("reuse")
    at = open_on("views/train.py", timeout=120)
    at.multiselect(key="train.algorithms.binary").set_value(["logistic_regression"]).run()
    [before] = wait_for_estimates(at)
    made = _settled(calls)
    assert made >= 1

    at.toggle(key="train.tune").set_value(True).run()
    at.number_input(key="train.trials").set_value(1000).run()
    at.number_input(key="train.cv").set_value(3).run()
    at.slider(key="train.test_size").set_value(0.3).run()
    assert not at.exception, at.exception
    [after] = [d.value for d in at.dataframe if "estimated time" in d.value.columns]
    assert "estimating…" not in after["estimated time"].tolist()  # shown at once, from the fit already made
    assert "tuning" in after["how"].iloc[0] and "tuning" not in before["how"].iloc[0]  # the estimate did change
    assert _settled(calls) == made


def test_a_changed_feature_set_is_fitted_once_it_has_stood(fits):
    from components import estimates

    calls, clock = fits
    version = _version("debounce")
    at = open_on("views/train.py", timeout=120)
    at.multiselect(key="train.algorithms.binary").set_value(["logistic_regression"]).run()
    wait_for_estimates(at)
    made = _settled(calls)
    key = f"train.features.{version.id}.kind"
    at.multiselect(key=key).set_value(["x", "z"]).run()
    at.multiselect(key=key).set_value(["x"]).run()  # two changes in quick succession
    at.run()
    [table] = [d.value for d in at.dataframe if "estimated time" in d.value.columns]
    assert table["how"].tolist() == ["Starts when the settings stop changing."]
    assert _settled(calls) == made  # nothing started while the inputs moved

    clock.now += estimates.DEBOUNCE_S
    [table] = wait_for_estimates(at)
    assert _settled(calls) == made + 1 and calls[-1] == ("logistic_regression", ("x",))  # the set that stood only
    assert "A fit on" in texts(at.caption)


def test_fits_queued_for_inputs_left_behind_are_cancelled(fits, monkeypatch):
    from components import estimates

    calls, clock = fits
    version = _version("cancel")
    release = threading.Event()
    counting = estimates._compute

    def slow(*args):
        release.wait(60)  # the first fit holds the one estimate thread; the others queue behind it
        return counting(*args)

    monkeypatch.setattr(estimates, "_compute", slow)
    try:
        at = open_on("views/train.py", timeout=120)  # three defaults submitted: one running, two queued
        at.multiselect(key=f"train.features.{version.id}.kind").set_value(["x"]).run()
        clock.now += estimates.DEBOUNCE_S
        at.run()  # the new set starts; the old set's two queued fits were cancelled when the features changed
    finally:
        release.set()
    [table] = wait_for_estimates(at)
    assert len(table) == 3
    _settled(calls)
    started = [features for _, features in calls]
    assert started.count(("x",)) == 3
    assert len(started) == 4  # of the first set only the fit already running when the features changed
