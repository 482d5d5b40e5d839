"""``python -m core serve --workers 2``: /metrics and the per-version statistics count every worker's
requests, whichever worker answers."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from core.data import datasets
from core.platform.config import Settings
from core.platform.workspace import Workspace
from tests.integration.test_api import NAME, _build, _json_rows
from tests.support.models import copy_home, template_home

PUBLISH_WAIT = 0.6  # a little over traffic.PUBLISH_SECONDS: each worker has written its counts since


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    return template_home(tmp_path_factory.mktemp("workers"), _build)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _record(home: Path) -> list[dict]:
    ws = Workspace.open(Settings(home=home))
    try:
        version = datasets.get_version(ws, "titanic")
        frame = datasets.load_frame(ws, version).sample(1, random_state=0).drop(columns=[version.target])
        return _json_rows(frame)
    finally:
        ws.db.dispose()


def _workers_counted(shared: Path) -> set[str]:
    return {p.stem.removeprefix("traffic-") for p in shared.glob("traffic-*.json")}


def _total(text: str, status: str) -> float:
    pattern = rf'^atelier_requests_total{{model="{re.escape(NAME)}",status="{status}",version="1"}} ([0-9.e+]+)$'
    return sum(float(m.group(1)) for m in re.finditer(pattern, text, flags=re.M))


def test_two_workers_report_the_sum_of_both_in_metrics_and_per_version_statistics(template, tmp_path):
    home = copy_home(template, tmp_path / "home")
    shared = tmp_path / "metrics"
    shared.mkdir()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "ATELIER_HOME": str(home), "PROMETHEUS_MULTIPROC_DIR": str(shared)}
    proc = subprocess.Popen([sys.executable, "-m", "core", "serve", "--port", str(port), "--workers", "2",
                             "--log-level", "warning"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    body = {"dataframe_records": _record(home)}

    def send(_: int) -> int:  # a new connection each time: the kernel hands connections to either worker
        return httpx.post(f"{url}/v1/models/{NAME}/predict", json=body, timeout=30).status_code

    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, proc.communicate()[1]
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not answer"
            time.sleep(0.2)
        sent = 0
        bad = 0
        with ThreadPoolExecutor(8) as pool:
            for _round in range(60):  # until both workers have answered some (almost always the first round)
                statuses = list(pool.map(send, range(16)))
                sent += len(statuses)
                bad += sum(s != 200 for s in statuses)
                time.sleep(PUBLISH_WAIT)
                if len(_workers_counted(shared)) >= 2:
                    break
        assert bad == 0
        assert len(_workers_counted(shared)) == 2, "one worker answered every request: nothing to add up"
        answers = []
        deadline = time.monotonic() + 30
        while len(answers) < 6:  # each from a new connection, so from either worker
            metrics = httpx.get(f"{url}/metrics", timeout=10).text
            info = httpx.get(f"{url}/v1/models/{NAME}", timeout=10).json()
            production = next(t for t in info["traffic"] if t["role"] == "production")
            if production["requests"] != sent:  # the other worker's counts are at most half a second old
                assert time.monotonic() < deadline, f"per-version requests {production['requests']} != {sent}"
                time.sleep(0.1)
                continue
            answers.append((_total(metrics, "200"), production["requests"], production["rows"]))
        assert set(answers) == {(float(sent), sent, sent)}
        assert f'atelier_request_seconds_count{{model="{NAME}"}} {float(sent)}' in metrics
    finally:
        proc.terminate()
        proc.communicate(timeout=30)

