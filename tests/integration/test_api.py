"""The HTTP prediction API end to end: a real uvicorn server on a free loopback port, called with httpx."""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest
import uvicorn

from core.cli import main as cli_main
from core.data import datasets
from core.models import registry
from core.platform.config import Settings
from core.platform.workspace import Workspace
from core.serve import api_keys
from core.serve.api import create_app
from core.serve.loaded import load_model
from core.serve.outputs import score_frame
from core.serve.validation import validate_and_coerce
from tests.support.models import copy_home, template_home, train_sample

NAME = registry.default_model_name("titanic", "survived")


def _build(ws: Workspace) -> None:
    train_sample(ws, "titanic", ["logistic_regression", "lightgbm"])
    registry.promote(ws, NAME, 1)


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return template_home(tmp_path_factory.mktemp("api"), _build)


class Server:
    """uvicorn in a thread, on a socket bound to a free port of 127.0.0.1."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(create_app(ws), log_level="warning", access_log=False))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
        self.client = httpx.Client(base_url=self.url, timeout=30)

    def close(self) -> None:
        self.client.close()
        self.server.should_exit = True
        self.thread.join(10)


def _serve(template: Path, home: Path, **settings) -> Iterator[Server]:
    ws = Workspace.open(Settings(home=copy_home(template, home), serve_refresh_ms=100, **settings))
    server = Server(ws)
    yield server
    server.close()
    ws.db.dispose()


@pytest.fixture
def server(template, tmp_path) -> Iterator[Server]:
    yield from _serve(template, tmp_path / "home")


@pytest.fixture
def rows(server) -> pd.DataFrame:
    version = datasets.get_version(server.ws, "titanic")
    frame = datasets.load_frame(server.ws, version).sample(40, random_state=0).reset_index(drop=True)
    return frame.drop(columns=[version.target])


def _expected(ws: Workspace, rows: pd.DataFrame, ref: str = f"{NAME}:1") -> pd.DataFrame:
    model = load_model(ws, ref)
    report, X = validate_and_coerce(model.reference, rows)
    assert report.ok
    return score_frame(model, X)


def _json_rows(rows: pd.DataFrame) -> list[dict]:
    return [{k: (None if pd.isna(v) else v) for k, v in r.items()} for r in rows.astype(object).to_dict("records")]


def _check(answer: dict, expected: pd.DataFrame) -> None:
    predictions = answer["predictions"]
    assert [p["prediction"] for p in predictions] == expected["prediction"].tolist()
    got = np.array([[p["probabilities"]["0"], p["probabilities"]["1"]] for p in predictions])
    assert np.allclose(got, expected[["probability_0", "probability_1"]].to_numpy(), rtol=0, atol=1e-12)


# -- payload formats -------------------------------------------------------------------------
@pytest.mark.parametrize("n", [40, 1])  # one row is validated without a frame: the same numbers
def test_every_json_format_gives_the_batch_scoring_numbers(server, rows, n):
    rows = rows.head(n)
    expected = _expected(server.ws, rows)
    records = _json_rows(rows)
    columns = list(rows.columns)
    bodies = {
        "dataframe_split": {"columns": columns, "data": [[r[c] for c in columns] for r in records]},
        "dataframe_records": records,
        "instances": records,
        "inputs": {c: [r[c] for r in records] for c in columns},
    }
    for key, value in bodies.items():
        response = server.client.post(f"/v1/models/{NAME}/predict", json={key: value})
        assert response.status_code == 200, (key, response.text)
        assert response.json()["version"] == 1
        assert response.headers["x-atelier-model-version"] == "1"
        _check(response.json(), expected)


def test_csv_and_parquet_bodies_give_the_batch_scoring_numbers(server, rows):
    expected = _expected(server.ws, rows)
    buffer = io.BytesIO()
    rows.to_parquet(buffer)
    for content_type, body in (("text/csv", rows.to_csv(index=False).encode()),
                               ("application/vnd.apache.parquet", buffer.getvalue()),
                               ("application/octet-stream", buffer.getvalue())):
        response = server.client.post(f"/v1/models/{NAME}/predict", content=body,
                                      headers={"Content-Type": content_type})
        assert response.status_code == 200, (content_type, response.text)
        _check(response.json(), expected)


def test_a_version_by_number_and_top3_contributions(server, rows):
    expected = _expected(server.ws, rows.head(5), f"{NAME}:2")
    response = server.client.post(f"/v1/models/{NAME}/versions/2/predict?explain=top3",
                                  json={"dataframe_records": _json_rows(rows.head(5))})
    assert response.status_code == 200, response.text
    _check(response.json(), expected)
    first = response.json()["predictions"][0]
    assert len(first["contributions"]) == 3 and set(first["contributions"]) <= set(rows.columns)
    assert isinstance(first["base_value"], float)


# -- refusals --------------------------------------------------------------------------------
def test_a_missing_column_is_a_422_with_the_per_column_report(server, rows):
    response = server.client.post(f"/v1/models/{NAME}/predict",
                                  json={"dataframe_records": _json_rows(rows.drop(columns=["age"]))})
    assert response.status_code == 422
    body = response.json()
    assert "predictions" not in body
    assert body["error"].startswith("The rows cannot be scored: 1 problem blocks them.")
    [issue] = [i for i in body["report"]["issues"] if i["severity"] == "error"]
    assert issue["column"] == "age" and issue["kind"] == "missing_column"
    assert "Column 'age' is missing" in issue["message"]


def test_unreadable_values_are_refused_whole_not_half_scored(server, rows):
    bad = _json_rows(rows)
    for r in bad[:10]:
        r["age"] = "not a number"
    response = server.client.post(f"/v1/models/{NAME}/predict", json={"dataframe_records": bad})
    assert response.status_code == 422
    assert any(i["kind"] == "type_not_coercible" and i["column"] == "age" for i in response.json()["report"]["issues"])


@pytest.mark.parametrize(("body", "content_type", "match"), [
    (b"{not json", "application/json", "The body is not valid JSON"),
    (b'{"rows": []}', "application/json", "The JSON body must hold exactly one of dataframe_split"),
    (b'{"dataframe_split": {"columns": ["a"], "data": [[1, 2]]}}', "application/json",
     "Row 0 of 'dataframe_split' has 2 values; the columns are 1."),
    (b'{"dataframe_records": []}', "application/json", "'dataframe_records' holds no rows"),
    (b'{"instances": [1, 2]}', "application/json", "'instances' must be a list of row objects"),
    (b'{"inputs": {"a": [1], "b": [1, 2]}}', "application/json", "'inputs' given as columns"),
    (b"PAR1 nope", "application/vnd.apache.parquet", "The body is not a readable Parquet file"),
    (b"a,b\n1,2", "application/xml", "Bodies of type 'application/xml' cannot be scored"),
    (b"", "application/json", "The request has no body"),
])
def test_unreadable_bodies_are_a_400_saying_why(server, body, content_type, match):
    response = server.client.post(f"/v1/models/{NAME}/predict", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 400, response.text
    assert match in response.json()["error"]


def test_unknown_models_versions_and_routes_are_404s(server):
    record = {"dataframe_records": [{"age": 3}]}
    response = server.client.post("/v1/models/nope/predict", json=record)
    assert response.status_code == 404 and response.json()["error"] == "There is no model named 'nope'."
    assert NAME in response.json()["hint"]
    response = server.client.post(f"/v1/models/{NAME}/versions/9/predict", json=record)
    assert response.status_code == 404 and "has no version 9" in response.json()["error"]
    assert server.client.get("/nowhere").json() == {"error": "There is no such route: see /docs for the API."}
    response = server.client.post(f"/v1/models/{NAME}/predict?explain=all", json=record)
    assert response.status_code == 400 and "explain must be topN" in response.json()["error"]


def test_a_model_without_a_production_version_says_how_to_promote(server):
    registry.set_stage(server.ws, NAME, 1, "archived")
    time.sleep(0.15)  # past serve_refresh_ms: the server asks the registry again
    response = server.client.get(f"/v1/models/{NAME}")
    assert response.status_code == 404
    assert response.json()["error"].startswith(f"Model {NAME!r} has no version in production")
    assert "python -m core models promote" in response.json()["hint"]


def test_a_body_over_the_limit_is_a_413(template, tmp_path):
    for server in _serve(template, tmp_path / "home", serve_max_body_mb=1):
        response = server.client.post(f"/v1/models/{NAME}/predict", content=b"x" * (1024 * 1024 + 1),
                                      headers={"Content-Type": "text/csv"})
        assert response.status_code == 413
        assert response.json()["error"] == ("The request body is 1,048,577 bytes; this server reads at most 1 MB "
                                            "(1,048,576 bytes) per request.")


# -- keys --------------------------------------------------------------------------------------
def test_api_keys_are_required_once_one_exists_and_stop_working_when_revoked(server, rows):
    body = {"dataframe_records": _json_rows(rows.head(2))}
    assert server.client.post(f"/v1/models/{NAME}/predict", json=body).status_code == 200
    created = api_keys.create_key(server.ws, "batch job")
    assert created.key not in repr(api_keys.list_keys(server.ws))
    deadline = time.monotonic() + 10
    while (response := server.client.post(f"/v1/models/{NAME}/predict", json=body)).status_code == 200:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert response.status_code == 401
    assert response.json()["error"].startswith("This request has no API key")
    wrong = server.client.post(f"/v1/models/{NAME}/predict", json=body, headers={"X-API-Key": "atl_wrong"})
    assert wrong.status_code == 401 and wrong.json()["error"].startswith("This API key is not valid")
    ok = server.client.post(f"/v1/models/{NAME}/predict", json=body,
                            headers={"Authorization": f"Bearer {created.key}"})
    assert ok.status_code == 200
    assert server.client.get(f"/v1/models/{NAME}/schema", headers={"X-API-Key": created.key}).status_code == 200
    api_keys.revoke_key(server.ws, "batch job")
    deadline = time.monotonic() + 10
    while (response := server.client.post(f"/v1/models/{NAME}/predict", json=body,
                                          headers={"X-API-Key": created.key})).status_code == 200:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert response.status_code == 401
    assert response.json()["error"] == "Every API key of this server was revoked: a new one is needed."
    assert server.client.get("/health").status_code == 200  # health stays open to probes


def test_a_key_can_be_required_before_any_exists(template, tmp_path):
    for server in _serve(template, tmp_path / "home", serve_require_key=True):
        response = server.client.get(f"/v1/models/{NAME}")
        assert response.status_code == 401
        assert response.json()["error"] == "This server requires an API key, and none has been created yet."
        assert "python -m core serve keys create NAME" in response.json()["hint"]


# -- hot switch, info, metrics ---------------------------------------------------------------
def test_promote_and_rollback_switch_versions_with_no_failed_request(server, rows):
    body = {"dataframe_records": _json_rows(rows.head(3))}
    statuses: list[int] = []
    versions: set[str] = set()
    stop = threading.Event()

    def send() -> None:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            while not stop.is_set():
                response = client.post(f"/v1/models/{NAME}/predict", json=body)
                statuses.append(response.status_code)
                versions.add(response.headers.get("x-atelier-model-version", "?"))

    senders = [threading.Thread(target=send) for _ in range(2)]
    for t in senders:
        t.start()
    try:
        _wait_for(lambda: "1" in versions)
        registry.promote(server.ws, NAME, 2)
        _wait_for(lambda: "2" in versions)
        registry.rollback(server.ws, NAME)
        seen = len(statuses)
        _wait_for(lambda: len(statuses) > seen + 20)
    finally:
        stop.set()
        for t in senders:
            t.join(30)
    assert statuses and set(statuses) == {200}
    assert versions == {"1", "2"}
    assert server.client.get(f"/v1/models/{NAME}").json()["version"] == 1


def _wait_for(condition, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.02)


def test_model_info_schema_health_docs_and_metrics(server, rows):
    info = server.client.get(f"/v1/models/{NAME}").json()
    assert (info["version"], info["stage"]) == (1, "production")
    schema = server.client.get(f"/v1/models/{NAME}/schema").json()
    assert [f["name"] for f in schema["features"]] == load_model(server.ws, NAME).features
    assert schema["classes"] == [0, 1]
    sex = next(f for f in schema["features"] if f["name"] == "sex")
    assert set(sex["categories"]) == {"male", "female"}
    assert server.client.get("/health").json() == {"status": "ok", "models": {NAME: 1}}
    assert server.client.get("/v1/models").json()["models"][0]["name"] == NAME
    openapi = server.client.get("/openapi.json").json()
    assert "sex" in openapi["components"]["schemas"][f"Row of {NAME}"]["properties"]
    assert server.client.get("/docs").status_code == 200
    server.client.post(f"/v1/models/{NAME}/predict", json={"dataframe_records": _json_rows(rows.head(7))})
    server.client.post(f"/v1/models/{NAME}/predict", json={"dataframe_records": [{"age": 1}]})
    server.client.post("/v1/models/nope/predict", json={"dataframe_records": [{"age": 1}]})
    text = server.client.get("/metrics").text
    assert f'atelier_requests_total{{model="{NAME}",status="200",version="1"}} 1.0' in text
    assert f'atelier_requests_total{{model="{NAME}",status="422",version="1"}} 1.0' in text
    assert f'atelier_rows_scored_total{{model="{NAME}",version="1"}} 7.0' in text
    assert f'atelier_errors_total{{model="{NAME}",reason="validation"}} 1.0' in text
    assert 'atelier_requests_total{model="(unresolved)",status="404",version=""} 1.0' in text
    assert f'atelier_request_seconds_count{{model="{NAME}"}} 2.0' in text


# -- the command line ------------------------------------------------------------------------
def test_keys_from_the_command_line_are_shown_once(server, capsys, monkeypatch):
    monkeypatch.setenv("ATELIER_HOME", str(server.ws.settings.home))
    assert cli_main(["serve", "keys", "create", "ci"]) == 0
    out, err = capsys.readouterr()
    key = out.strip()
    assert key.startswith("atl_") and "shown only this once" in err
    assert cli_main(["serve", "keys", "list"]) == 0
    assert key not in capsys.readouterr().out
    assert cli_main(["serve", "keys", "create", "ci"]) == 1
    assert "An active API key is already named 'ci'." in capsys.readouterr().err
    assert cli_main(["serve", "keys", "revoke", "ci"]) == 0
    assert "Revoked API key 'ci'" in capsys.readouterr().out
    assert cli_main(["serve", "keys", "revoke", "ci"]) == 1
    assert "There is no active API key named 'ci'." in capsys.readouterr().err


def test_python_m_core_serve_answers_on_its_port_and_stops(server):
    import os
    import subprocess
    import sys

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    env = {**os.environ, "ATELIER_HOME": str(server.ws.settings.home)}
    proc = subprocess.Popen([sys.executable, "-m", "core", "serve", "--port", str(port), "--log-level", "warning"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.communicate()[1]
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "python -m core serve did not answer"
                time.sleep(0.2)
        assert health.json()["models"] == {NAME: 1}
    finally:
        proc.terminate()
        _out, err = proc.communicate(timeout=30)
    assert f"Serving production models at http://127.0.0.1:{port}" in err
    busy = subprocess.run([sys.executable, "-m", "core", "serve", "--port", server.url.rsplit(":", 1)[1]],
                          env=env, capture_output=True, text=True, timeout=60)
    assert busy.returncode == 1 and "Traceback" not in busy.stderr
    assert f"error: Cannot listen on 127.0.0.1:{server.url.rsplit(':', 1)[1]}: Address already in use." in busy.stderr
