"""Routing draws, shadow agreement, per-version statistics and the monitoring settings."""

from __future__ import annotations

import random

import pytest

from core.platform.config import Settings
from core.platform.errors import InvalidInputError
from core.serve import routing
from core.serve.api.traffic import ShadowRunner, Traffic, agreement
from core.serve.routing import Route, bucket, pick


def test_the_bucket_of_a_request_id_is_stable_and_spreads_evenly():
    assert bucket("m", "abc") == bucket("m", "abc")
    assert bucket("m", "abc") != bucket("other", "abc")  # each model splits its own ids
    draws = [bucket("m", f"id-{i}") for i in range(4000)]
    assert all(0 <= d < 1 for d in draws)
    share = sum(d < 0.1 for d in draws) / len(draws)
    assert 0.085 <= share <= 0.115


def test_pick_sends_the_share_to_the_challenger():
    route = Route("m", challenger=3, share=0.2)
    rng = random.Random(1)
    picks = [pick(route, None, rng) for _ in range(5000)]
    assert set(picks) == {3, None}
    assert 0.18 <= picks.count(3) / len(picks) <= 0.22
    assert {pick(route, "same", rng) for _ in range(50)} in ({3}, {None})
    assert pick(Route("m", shadow=2), "x") is None and pick(None, "x") is None
    assert pick(Route("m", challenger=3, share=1.0), "x") == 3


def test_route_descriptions():
    assert Route("m").describe() == "production answers every request" and not Route("m").active
    both = Route("m", challenger=2, share=0.25, shadow=4)
    assert both.describe() == "v2 answers 25%; v4 shadows every request" and both.active
    assert both.to_json() == {"challenger": 2, "share": 0.25, "shadow": 4}


def test_agreement_of_labels_and_of_numbers():
    assert agreement([{"prediction": "a"}, {"prediction": "b"}], [{"prediction": "a"}, {"prediction": "c"}]) == (
        2, 1, 0.0)
    compared, same, diff = agreement([{"prediction": 1.0}, {"prediction": 2.0}],
                                     [{"prediction": 1.0}, {"prediction": 2.5}])
    assert (compared, same) == (2, 1) and diff == pytest.approx(0.5)


def test_traffic_counts_each_role_and_version_apart():
    traffic = Traffic()
    traffic.observe("m", "production", 1, 0.010, ok=True, rows=2,
                    values=[1, 0], classifier=True)
    traffic.observe("m", "production", 1, 0.030, ok=False)
    traffic.observe("m", "challenger", 2, 0.020, ok=True, rows=1, values=[3.5])
    traffic.observe("other", "production", 1, 0.020, ok=True)
    snap = traffic.snapshot("m")
    assert [(s["role"], s["version"]) for s in snap] == [("production", 1), ("challenger", 2)]
    production, challenger = snap
    assert production["requests"] == 2 and production["errors"] == 1 and production["error_rate"] == 0.5
    assert production["class_mix"] == {"1": 0.5, "0": 0.5}
    assert production["latency_ms"]["mean"] == pytest.approx(20.0)
    assert challenger["mean"] == 3.5 and "class_mix" not in challenger


def test_a_shadow_that_falls_behind_is_dropped_not_queued():
    import threading

    traffic = Traffic()
    runner = ShadowRunner(traffic, queue=2)
    gate = threading.Event()

    def slow():
        gate.wait(30)
        return [{"prediction": 1}]

    assert runner.submit("m", 2, slow, [{"prediction": 1}])
    assert runner.submit("m", 2, slow, [{"prediction": 0}])
    assert not runner.submit("m", 2, slow, [{"prediction": 1}])  # the queue is full
    gate.set()
    assert runner.wait_idle(30)
    (stats,) = traffic.snapshot("m")
    assert stats["requests"] == 2 and stats["dropped"] == 1 and stats["agreement"] == 0.5
    runner.close()


def test_set_route_refuses_nonsense_before_touching_the_database(ws):
    with pytest.raises(InvalidInputError, match="Say what to route"):
        routing.set_route(ws, "m")
    with pytest.raises(InvalidInputError, match="above 0 and at most 1"):
        routing.set_route(ws, "m", challenger=2, share=1.5)


def test_monitoring_settings_are_read_and_checked(monkeypatch):
    monkeypatch.setenv("ATELIER_SERVE_SAMPLE_SHARE", "0.5")
    monkeypatch.setenv("ATELIER_ALERT_WEBHOOK_URL", "http://127.0.0.1:1/hook")
    s = Settings.load()
    assert s.serve_sample_share == 0.5 and s.alert_webhook_url == "http://127.0.0.1:1/hook"
    monkeypatch.setenv("ATELIER_ALERT_ERROR_RATE", "lots")
    with pytest.raises(InvalidInputError, match="ATELIER_ALERT_ERROR_RATE must be a number"):
        Settings.load()
    with pytest.raises(InvalidInputError, match="ATELIER_SERVE_SAMPLE_SHARE is a share from 0 to 1"):
        Settings(serve_sample_share=2.0)
