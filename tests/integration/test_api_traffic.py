"""A/B, shadow, monitoring windows and alerts of the HTTP API: a real uvicorn server on loopback."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pandas as pd
import pytest

from core.cli import main as cli_main
from core.data import datasets
from core.models import registry
from core.platform.config import Settings
from core.platform.workspace import Workspace
from core.serve import alerts, prediction_runs, routing
from core.serve.routing import bucket
from tests.integration.test_api import NAME, Server, _build, _json_rows
from tests.support.models import copy_home, template_home


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return template_home(tmp_path_factory.mktemp("traffic"), _build)  # v1 production, v2 lightgbm


def _open(template: Path, home: Path, **settings) -> Workspace:
    base = {"serve_refresh_ms": 100, "serve_window_s": 3600, "serve_sample_share": 1.0}
    return Workspace.open(Settings(home=copy_home(template, home), **{**base, **settings}))


@pytest.fixture
def ws(template, tmp_path) -> Iterator[Workspace]:
    ws = _open(template, tmp_path / "home")
    yield ws
    ws.db.dispose()


def _start(ws: Workspace) -> Server:
    return Server(ws)


def _state(server: Server):
    return server.server.config.app.state.atelier


def _rows(ws: Workspace, n: int = 40, seed: int = 0) -> pd.DataFrame:
    version = datasets.get_version(ws, "titanic")
    frame = datasets.load_frame(ws, version).sample(n, random_state=seed, replace=n > 500).reset_index(drop=True)
    return frame.drop(columns=[version.target])


def _post(server: Server, records: list[dict], request_id: str | None = None, path: str = f"/v1/models/{NAME}"):
    headers = {"X-Request-Id": request_id} if request_id else {}
    return server.client.post(f"{path}/predict", json={"dataframe_records": records}, headers=headers)


@pytest.fixture
def served(ws) -> Iterator[Server]:
    server = _start(ws)
    yield server
    server.close()


# -- A/B -------------------------------------------------------------------------------------
def test_a_challenger_answers_its_share_by_request_id_and_the_same_id_always_gets_the_same_version(ws):
    routing.set_route(ws, NAME, challenger=2, share=0.25)
    server = _start(ws)
    try:
        record = _json_rows(_rows(ws, 1))
        ids = [f"req-{i}" for i in range(200)]
        got = {}
        for rid in ids:
            response = _post(server, record, rid)
            assert response.status_code == 200, response.text
            got[rid] = (response.headers["X-Atelier-Model-Version"], response.headers["X-Atelier-Route"])
        expected = {rid for rid in ids if bucket(NAME, rid) < 0.25}
        assert {rid for rid, (v, _) in got.items() if v == "2"} == expected
        assert all(role == ("challenger" if v == "2" else "production") for v, role in got.values())
        assert 0.18 <= len(expected) / len(ids) <= 0.32  # the hash spreads ids evenly
        for rid in ids[:20]:  # sticky: the same id gets the same version again
            assert _post(server, record, rid).headers["X-Atelier-Model-Version"] == got[rid][0]

        info = server.client.get(f"/v1/models/{NAME}").json()
        assert info["routing"]["challenger"] == 2 and info["routing"]["share"] == 0.25
        assert info["routing"]["shadow"] is None
        traffic = {(t["role"], t["version"]): t for t in info["traffic"]}
        n2 = len(expected) + sum(got[rid][0] == "2" for rid in ids[:20])
        assert traffic[("challenger", 2)]["requests"] == n2
        assert traffic[("production", 1)]["requests"] == 220 - n2
        assert traffic[("production", 1)]["errors"] == 0
        assert sum(traffic[("production", 1)]["class_mix"].values()) == pytest.approx(1.0)
    finally:
        server.close()


def test_without_a_request_id_the_share_is_drawn_at_random(ws):
    routing.set_route(ws, NAME, challenger=2, share=0.3)
    server = _start(ws)
    try:
        _state(server).routes.rng = random.Random(7)
        record = _json_rows(_rows(ws, 1))
        versions = [_post(server, record).headers["X-Atelier-Model-Version"] for _ in range(200)]
        share = versions.count("2") / len(versions)
        assert 0.2 <= share <= 0.4, share
        # the draws are the seeded generator's: the same sequence again gives the same split
        draws = random.Random(7)
        assert versions.count("2") == sum(draws.random() < 0.3 for _ in range(200))
    finally:
        server.close()


def test_a_cleared_route_sends_everything_to_production_within_the_refresh(ws, served):
    routing.set_route(ws, NAME, challenger=2, share=1.0)
    record = _json_rows(_rows(ws, 1))
    _state(served).routes.refresh_seconds = 0
    assert _post(served, record, "a").headers["X-Atelier-Model-Version"] == "2"
    routing.clear_route(ws, NAME)
    assert {_post(served, record, f"id{i}").headers["X-Atelier-Model-Version"] for i in range(20)} == {"1"}


# -- shadow ----------------------------------------------------------------------------------
def test_a_shadow_is_scored_on_every_request_but_never_returned(ws, served):
    routing.set_route(ws, NAME, shadow=2)
    rows = _rows(ws, 40)
    records = _json_rows(rows)
    answers = []
    for i in range(0, 40, 4):
        response = _post(served, records[i:i + 4], f"s{i}")
        assert response.status_code == 200
        assert response.headers["X-Atelier-Model-Version"] == "1"
        body = response.json()
        assert body["version"] == 1 and set(body) <= {"model", "version", "predictions", "warnings"}
        answers += body["predictions"]
    assert _state(served).shadow.wait_idle(60)
    shadow = _post(served, records, path=f"/v1/models/{NAME}/versions/2").json()["predictions"]
    agreed = sum(a["prediction"] == b["prediction"] for a, b in zip(answers, shadow, strict=True))

    traffic = {(t["role"], t["version"]): t for t in served.client.get(f"/v1/models/{NAME}").json()["traffic"]}
    assert traffic[("production", 1)]["requests"] == 10
    stats = traffic[("shadow", 2)]
    assert stats["requests"] == 10 and stats["errors"] == 0 and stats["rows"] == 40
    assert stats["compared_rows"] == 40
    assert stats["agreement"] == pytest.approx(agreed / 40)
    assert ("production", 2) not in traffic  # the direct call above is counted as "version", apart
    assert traffic[("version", 2)]["requests"] == 1


def test_a_failing_shadow_never_fails_the_caller(ws, served):
    routing.set_route(ws, NAME, shadow=2)
    registry.delete_version(ws, NAME, 2)  # the route still names v2: every shadow copy fails
    record = _json_rows(_rows(ws, 1))
    assert all(_post(served, record).status_code == 200 for _ in range(5))
    assert _state(served).shadow.wait_idle(60)
    traffic = {(t["role"], t["version"]): t for t in served.client.get(f"/v1/models/{NAME}").json()["traffic"]}
    assert traffic[("shadow", 2)]["errors"] == 5
    assert traffic[("production", 1)]["errors"] == 0


# -- command line ----------------------------------------------------------------------------
def test_routes_from_the_command_line(ws, capsys, monkeypatch):
    monkeypatch.setenv("ATELIER_HOME", str(ws.settings.home))
    assert cli_main(["models", "route", NAME, "--challenger", "2", "--share", "0.1"]) == 0
    assert "v2 answers 10%" in capsys.readouterr().out
    assert cli_main(["models", "deployments", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed == [{"name": NAME, "production": 1, "algorithm": "logistic_regression", "challenger": 2,
                       "share": 0.1, "shadow": None, "retrain_policy": None}]
    assert cli_main(["models", "route", NAME, "--shadow", "2"]) == 0
    capsys.readouterr()
    assert routing.get_route(ws, NAME).shadow == 2 and routing.get_route(ws, NAME).challenger == 2
    assert cli_main(["models", "deployments"]) == 0
    assert "v2 (10%)" in capsys.readouterr().out

    assert cli_main(["models", "route", NAME, "--challenger", "1", "--share", "0.5"]) == 1
    assert "v1 of 'titanic-survived' is the production version" in capsys.readouterr().err
    assert cli_main(["models", "route", NAME, "--challenger", "9", "--share", "0.5"]) == 1
    assert capsys.readouterr().err.startswith("error:")
    assert cli_main(["models", "route", NAME, "--challenger", "2"]) == 1
    assert "--challenger needs --share" in capsys.readouterr().err
    assert routing.get_route(ws, NAME).share == 0.1  # a refused change keeps the stored route

    assert cli_main(["models", "route", NAME, "--clear"]) == 0
    assert "production answers every request" in capsys.readouterr().out
    assert not routing.get_route(ws, NAME).active


# -- monitoring windows and alerts -----------------------------------------------------------
class _Hook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        length = int(self.headers["Content-Length"])
        type(self).received.append(json.loads(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict]]]:
    received: list[dict] = []
    handler = type("Hook", (_Hook,), {"received": received})
    httpd = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/alerts", received
    httpd.shutdown()
    httpd.server_close()


def _drifted(ws: Workspace, n: int) -> pd.DataFrame:
    """First-class women only: sex, class and fare far from the training mix, every value in range."""
    version = datasets.get_version(ws, "titanic")
    frame = datasets.load_frame(ws, version)
    subset = frame[(frame["sex"] == "female") & (frame["pclass"] == 1)]
    return subset.sample(n, replace=True, random_state=0).drop(columns=[version.target]).reset_index(drop=True)


def test_served_requests_become_prediction_runs_with_drift_and_a_drift_alert_is_posted(template, tmp_path,
                                                                                        webhook):
    url, received = webhook
    ws = _open(template, tmp_path / "home", alert_drift_share=0.2, alert_webhook_url=url)
    server = _start(ws)
    try:
        records = _json_rows(_drifted(ws, 200))
        for i in range(0, 200, 20):
            assert _post(server, records[i:i + 20]).status_code == 200
        assert prediction_runs.list_runs(ws, NAME) == []  # nothing written on the request path
        (run,) = _state(server).monitor.flush()
    finally:
        server.close()
    assert run.source == "api" and run.version == 1 and run.n_rows == 200
    assert run.summary["requests"] == 10 and run.summary["errors"] == 0 and run.summary["sampled_requests"] == 10
    assert set(run.summary["latency_ms"]) == {"mean", "p50", "p95", "p99"}
    assert sum(run.summary["class_mix"].values()) == pytest.approx(1.0)
    assert run.drift_share >= 0.2 and "sex" in run.summary["drift"]["drifted_features"]
    assert prediction_runs.list_runs(ws, NAME)[0].id == run.id  # the Health view reads it

    (event,) = [e for e in alerts.list_events(ws, NAME) if e.kind == "drift"]
    assert event.version == 1 and "sex" in event.details["drifted_features"]
    assert event.details["run_id"] == run.id and event.webhook_status == "204"
    assert [r["kind"] for r in received] == ["drift"]
    assert received[0]["model"] == NAME and received[0]["id"] == event.id
    ws.db.dispose()


def test_an_error_rate_alert_is_recorded_even_when_the_webhook_is_down(template, tmp_path):
    ws = _open(template, tmp_path / "home", alert_error_rate=0.2, alert_webhook_url="http://127.0.0.1:9/down",
               serve_sample_share=0.0)
    server = _start(ws)
    try:
        good = _json_rows(_rows(ws, 1))
        bad = [{k: v for k, v in good[0].items() if k != "age"}]  # a missing column: 422
        for i in range(30):
            assert _post(server, bad if i % 3 == 0 else good).status_code == (422 if i % 3 == 0 else 200)
    finally:
        server.close()  # the server's shutdown records the last window
    (run,) = prediction_runs.list_runs(ws, NAME)
    assert run.summary["requests"] == 30 and run.summary["errors"] == 10 and run.n_rows == 0
    assert run.drift_share is None  # nothing sampled: no drift test
    (event,) = alerts.list_events(ws, NAME)
    assert event.kind == "error_rate" and event.details["errors"] == 10
    assert event.webhook_status.startswith("failed")
    ws.db.dispose()


def test_a_sampled_share_keeps_only_some_requests(template, tmp_path):
    ws = _open(template, tmp_path / "home", serve_sample_share=0.25)
    server = _start(ws)
    try:
        _state(server).monitor.rng = random.Random(3)
        record = _json_rows(_rows(ws, 1))
        for _ in range(80):
            _post(server, record)
        (run,) = _state(server).monitor.flush()
    finally:
        server.close()
    draws = random.Random(3)
    expected = sum(draws.random() < 0.25 for _ in range(80))
    assert run.summary["requests"] == 80 and run.summary["sampled_requests"] == run.n_rows == expected
    assert 10 <= expected <= 30
    ws.db.dispose()
