"""The retraining policy end to end: a served model, drifted requests over N windows, a retraining job,
a common holdout, promoted or kept, and every decision in the audit trail with its numbers."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from core.cli import main as cli_main
from core.data import datasets
from core.data.ingest import import_sample
from core.ml.config import SplitConfig, TrainConfig
from core.models import registry
from core.models.training import train_version
from core.platform import jobs
from core.platform.config import Settings
from core.platform.metadata.models import AuditEvent
from core.platform.workspace import Workspace
from core.serve import alerts, prediction_runs, retrain_policy
from core.serve.retrain_check import check_policies
from tests.integration.test_api import Server, _json_rows
from tests.support.models import copy_home, template_home

WEAK, FULL = "survival", "survival-full"


def _build(ws: Workspace) -> None:
    """WEAK v1: trained on titanic@2 (without 'sex'), in production; titanic@3 is complete again.
    FULL v1: trained on titanic@3, the newest version, in production."""
    full = import_sample(ws, "titanic")
    weak = datasets.derive_version(ws, full, drop_columns=["sex"])
    config = TrainConfig(target=weak.target, explain=False, split=SplitConfig(cv_folds=0))
    train_version(ws, weak, config, ["logistic_regression"], model_name=WEAK)
    registry.promote(ws, WEAK, 1)
    newest = import_sample(ws, "titanic")
    train_version(ws, newest, config, ["logistic_regression"], model_name=FULL)
    registry.promote(ws, FULL, 1)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return template_home(tmp_path_factory.mktemp("policy"), _build)


@pytest.fixture
def ws(template, tmp_path, monkeypatch) -> Iterator[Workspace]:
    home = copy_home(template, tmp_path / "home")
    monkeypatch.setenv("ATELIER_HOME", str(home))
    ws = Workspace.open(Settings(home=home, serve_refresh_ms=100, serve_window_s=3600, serve_sample_share=1.0,
                                 alert_drift_share=0.2))
    yield ws
    ws.db.dispose()


def _drifted(ws: Workspace, n: int, seed: int = 0) -> list[dict]:
    """First-class passengers with high fares: far from the training mix, every value in range."""
    version = datasets.get_version(ws, "titanic")
    frame = datasets.load_frame(ws, version)
    subset = frame[(frame["pclass"] == 1) & (frame["fare"] > 50)]
    return _json_rows(subset.sample(n, replace=True, random_state=seed).drop(columns=[version.target])
                      .reset_index(drop=True))


def _audit(ws: Workspace, prefix: str = "retrain_") -> list[tuple[str, str]]:
    with ws.db.session() as s:
        return [(a.action, a.object) for a in s.scalars(select(AuditEvent).order_by(AuditEvent.id))
                if a.action.startswith(prefix)]


def _window(server: Server, name: str, records: list[dict]) -> list:
    """One monitoring window of drifted requests, ended now (the policy check runs after it)."""
    for i in range(0, len(records), 20):
        response = server.client.post(f"/v1/models/{name}/predict", json={"dataframe_records": records[i:i + 20]})
        assert response.status_code == 200, response.text
    return server.server.config.app.state.atelier.monitor.flush()


def _policy_job(ws: Workspace, name: str) -> str:
    deadline = time.monotonic() + 60
    while (job_id := retrain_policy.get_policy(ws, name).job_id) in (None, "pending"):
        assert time.monotonic() < deadline, "no retraining job was started"
        time.sleep(0.05)
    return job_id


def test_drift_on_n_windows_in_a_row_retrains_on_the_newest_version_and_promotes_the_better_one(ws):
    retrain_policy.set_policy(ws, WEAK, drift_windows=2, min_gain=0.01)
    server = Server(ws)
    try:
        (first,) = _window(server, WEAK, _drifted(ws, 100))
        assert first.drift_share >= 0.2  # flagged, but one window is not two in a row
        assert retrain_policy.get_policy(ws, WEAK).job_id is None and _audit(ws) == []
        (second,) = _window(server, WEAK, _drifted(ws, 100, seed=1))
        assert second.drift_share >= 0.2
        job = jobs.wait(ws, _policy_job(ws, WEAK), timeout=300)
        assert job.status == "succeeded", job.error
        assert registry.get_version(ws, f"{WEAK}@production").version == 2
        # the server follows the promotion on its own
        deadline = time.monotonic() + 30
        while True:
            response = server.client.post(f"/v1/models/{WEAK}/predict", json={"dataframe_records": _drifted(ws, 1)})
            if response.headers.get("X-Atelier-Model-Version") == "2":
                break
            assert time.monotonic() < deadline, "the server kept answering with v1"
            time.sleep(0.1)
    finally:
        server.close()
    new = registry.get_version(ws, f"{WEAK}:2")
    assert new.dataset_label == "titanic@3" and new.algorithm == "logistic_regression"
    (started, promoted) = _audit(ws)
    assert started[0] == "retrain_started" and "titanic@3" in started[1] and "drift flagged on 2 windows" in started[1]
    assert promoted[0] == "retrain_promoted" and f"{WEAK}:2 promoted: roc_auc" in promoted[1]
    gain = float(re.search(r"gain ([+-][0-9.]+) >= 0.01", promoted[1]).group(1))
    assert gain >= 0.01
    (event,) = [e for e in alerts.list_events(ws, WEAK) if e.kind == "retrain"]
    comparison = event.details["comparison"]
    assert event.details["action"] == "promoted" and event.details["base"] == f"{WEAK}:1"
    assert comparison["gain"] == pytest.approx(gain, abs=1e-4) and comparison["dataset"] == "titanic@3"
    assert comparison["gain"] == pytest.approx(comparison["new"] - comparison["base"])
    assert event.details["job_id"] == job.id and "drift flagged on 2 windows" in event.details["reasons"][0]
    assert "roc_auc on a common holdout" in registry.history(ws, WEAK)[0].note
    assert retrain_policy.get_policy(ws, WEAK).job_id is None  # released for the next trigger


def test_new_data_retrains_from_the_check_command_and_below_the_gain_production_is_kept(ws, capsys):
    assert cli_main(["models", "policy", WEAK, "--on-new-data", "--min-gain", "0.9"]) == 0
    assert "retrain when a newer version of its dataset appears" in capsys.readouterr().out
    assert cli_main(["retrain", "check", "--json"]) == 0
    (decision,) = json.loads(capsys.readouterr().out)
    assert decision["model"] == WEAK and decision["action"] == "started" and decision["dataset"] == "titanic@3"
    assert "titanic@3 is newer than titanic@2" in decision["reasons"][0]
    job = jobs.wait(ws, decision["job_id"], timeout=300)
    assert job.status == "succeeded", job.error
    assert job.result["decision"] == "kept" and job.result["comparison"]["gain"] < 0.9
    assert registry.get_version(ws, f"{WEAK}@production").version == 1
    assert sorted(v.version for v in registry.list_versions(ws, WEAK)) == [1, 2]
    actions = [a for a, _ in _audit(ws)]
    assert actions == ["retrain_started", "retrain_kept"]
    kept = _audit(ws)[1][1]
    assert f"{WEAK}:1 kept, {WEAK}:2 not promoted: roc_auc" in kept and "< 0.9" in kept
    # titanic@3 was tried: the next check has nothing new and does nothing
    assert cli_main(["retrain", "check"]) == 0
    assert "No retraining policy fired" in capsys.readouterr().out
    assert len(_audit(ws)) == 2


def test_drift_with_nothing_newer_to_train_on_is_a_skip_said_and_audited_once(ws):
    retrain_policy.set_policy(ws, FULL, drift_windows=1, min_gain=0.005)
    served = registry.get_version(ws, f"{FULL}@production")
    summary = {"rows": 100, "requests": 5}
    prediction_runs.record(ws, served, source="api", n_rows=100, summary=summary, drift_share=0.5)
    (decision,) = check_policies(ws)
    assert decision.action == "skipped" and decision.job_id is None
    assert "no version of 'titanic' newer than titanic@3" in decision.message
    ((action, text),) = _audit(ws)
    assert action == "retrain_skipped" and "drift flagged on 1 window in a row (50% of the features)" in text
    assert check_policies(ws) == []  # that window was used up by the decision
    (event,) = alerts.list_events(ws, FULL)
    assert event.kind == "retrain" and event.details["action"] == "skipped"
    assert [v.version for v in registry.list_versions(ws, FULL)] == [1]


def test_windows_count_only_in_a_row_and_only_when_drift_reached_the_threshold(ws):
    retrain_policy.set_policy(ws, FULL, drift_windows=2)
    served = registry.get_version(ws, f"{FULL}@production")

    def window(share: float | None, rows: int = 100) -> None:
        prediction_runs.record(ws, served, source="api", n_rows=rows, summary={"rows": rows}, drift_share=share)

    window(0.5)
    window(0.1)  # below the 20% threshold: breaks the run
    window(0.5)
    assert check_policies(ws) == []
    window(0.5, rows=5)  # too few sampled rows to count
    assert check_policies(ws) == []
    prediction_runs.record(ws, served, source="batch", n_rows=100, summary={"rows": 100}, drift_share=0.9)
    window(0.5)
    window(0.6)  # two flagged api windows in a row (the batch run in between is not a window)
    (decision,) = check_policies(ws)
    assert decision.action == "skipped" and "(50%, 60% of the features)" in decision.message


def test_the_policy_command_sets_shows_and_clears_and_refuses_bad_input(ws, capsys):
    assert cli_main(["models", "policy", WEAK]) == 0
    assert "has no retraining policy" in capsys.readouterr().out
    assert cli_main(["models", "policy", WEAK, "--drift-windows", "3", "--on-new-data", "--min-gain", "0.005",
                     "--every-hours", "24", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["drift_windows"], shown["on_new_data"], shown["every_hours"]) == (3, True, 24)
    assert shown["min_gain"] == 0.005
    assert cli_main(["models", "policy", WEAK]) == 0
    assert "drift is flagged on 3 windows in a row or a newer version" in capsys.readouterr().out
    assert [a for a, _ in _audit(ws, "set_retrain_policy")] == ["set_retrain_policy"]
    assert cli_main(["models", "deployments"]) == 0
    assert "drift x3, new data, every 24 h; gain >= 0.005" in capsys.readouterr().out
    for bad, message in ((["--drift-windows", "0"], "whole number from 1"), (["--min-gain", "2"], "below 1"),
                         (["--every-hours", "-1"], "above 0")):
        with pytest.raises(SystemExit) as exit_:
            cli_main(["models", "policy", WEAK, *bad])
        assert exit_.value.code == 2 and message in capsys.readouterr().err
    assert cli_main(["models", "policy", "nobody", "--on-new-data"]) == 1
    assert "There is no model named 'nobody'" in capsys.readouterr().err
    assert cli_main(["models", "policy", WEAK, "--clear"]) == 0
    assert retrain_policy.get_policy(ws, WEAK) is None
    assert cli_main(["models", "policy", WEAK, "--min-gain", "0.1"]) == 0  # no trigger given: only shows
    assert retrain_policy.get_policy(ws, WEAK) is None


def test_a_due_schedule_retrains_only_when_there_is_new_data(ws):
    from datetime import timedelta

    policy = retrain_policy.set_policy(ws, FULL, every_hours=1)
    assert check_policies(ws, now=policy.updated_at + timedelta(minutes=30)) == []
    (decision,) = check_policies(ws, now=policy.updated_at + timedelta(hours=2))
    assert decision.action == "skipped" and "schedule (every 1 hours) is due" in decision.message
    assert check_policies(ws, now=policy.updated_at + timedelta(hours=2, minutes=30)) == []  # not due again yet



def test_of_two_checkers_that_saw_the_same_policy_only_one_decides(ws):
    from core.platform.metadata.models import utcnow
    from core.serve.retrain_check import _check_one

    retrain_policy.set_policy(ws, FULL, drift_windows=1)
    served = registry.get_version(ws, f"{FULL}@production")
    prediction_runs.record(ws, served, source="api", n_rows=100, summary={"rows": 100}, drift_share=0.5)
    seen = retrain_policy.get_policy(ws, FULL)  # what two workers read at the same moment
    now = utcnow()
    first, second = _check_one(ws, seen, now), _check_one(ws, seen, now)
    assert first is not None and first.action == "skipped" and second is None
    assert [a for a, _ in _audit(ws)] == ["retrain_skipped"]
