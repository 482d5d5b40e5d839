"""A local double of Kaggle's API, spoken as kagglesdk sends it (``KAGGLE_API_ENVIRONMENT=TEST``
points the client at ``http://localhost:7777``, base path ``/api``).

Every call is ``POST /api/v1/<service>/<Method>`` with camelCase JSON; the download methods answer
302 to a ``GET /files/…`` URL on the double.  It checks the bearer token (or basic user:key), answers
401/403/404 as Kaggle does, streams a large generated CSV, can cut a download halfway, and answers
a ``Range`` request for the rest of a file with 206 (``ranges=False``: it never resumes).
"""

from __future__ import annotations

import base64
import fcntl
import json
import socket
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, unquote

import pytest

PORT = 7777
TOKEN = "dummy-test-token"
USER, KEY = "tester", "dummy-test-key"
BIG_ROWS = 200_000


def big_csv_chunks() -> Iterator[bytes]:
    yield b"id,value,label\n"
    for start in range(0, BIG_ROWS, 10_000):
        yield "".join(f"{i},{i * 0.5},{'ab'[i % 2]}\n" for i in range(start, start + 10_000)).encode()


BIG_SIZE = sum(len(c) for c in big_csv_chunks())


@dataclass
class KaggleDouble:
    """What the double serves; tests change it and read ``calls`` (method names, no tokens)."""

    # (owner, slug) -> {version: {file name: bytes}}
    datasets: dict[tuple[str, str], dict[int, dict[str, bytes]]] = field(default_factory=dict)
    # name -> (rules accepted, {file name: bytes})
    competitions: dict[str, tuple[bool, dict[str, bytes]]] = field(default_factory=dict)
    cut: set[str] = field(default_factory=set)  # file names whose download stops halfway
    ranges: bool = True  # answer ``Range: bytes=N-`` with 206 and the rest (as Kaggle's file storage does)
    calls: list[str] = field(default_factory=list)
    url: str = f"http://localhost:{PORT}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: KaggleDouble

    def log_message(self, *_args) -> None:  # quiet
        pass

    def _json(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _error(self, status: int, message: str) -> None:
        self._json(status, {"code": status, "message": message})

    def _authorised(self) -> bool:
        auth = self.headers.get("Authorization", "")
        if auth == f"Bearer {TOKEN}":
            return True
        if auth.startswith("Basic "):
            return base64.b64decode(auth[6:]).decode() == f"{USER}:{KEY}"
        return False

    def _redirect(self, path: str) -> None:
        self.send_response(302)
        self.send_header("Location", f"{self.state.url}/files/{path}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if not self.path.startswith("/api/v1/"):
            return self._error(404, "Not found")
        method = self.path.removeprefix("/api/v1/")
        self.state.calls.append(method)
        if not self._authorised():
            return self._error(401, "Unauthenticated")
        service, _, name = method.partition("/")
        if service == "datasets.DatasetApiService":
            key = (body.get("ownerSlug", ""), body.get("datasetSlug", ""))
            versions = self.state.datasets.get(key)
            if versions is None:
                return self._error(404, "Dataset not found")
            version = int(body.get("datasetVersionNumber") or max(versions))
            if name == "GetDataset":
                return self._json(200, {"ref": "/".join(key), "currentVersionNumber": max(versions)})
            files = versions.get(version)
            if files is None:
                return self._error(404, "Version not found")
            if name == "ListDatasetFiles":
                return self._json(200, {"datasetFiles": [{"ref": n, "name": n, "totalBytes": _size(b)}
                                                         for n, b in files.items()]})
            if name == "DownloadDataset":
                file = body.get("fileName")
                if file not in files:
                    return self._error(404, "File not found")
                return self._redirect(f"d/{key[0]}/{key[1]}/{version}/{quote(file)}")
        if service == "competitions.CompetitionApiService":
            comp = body.get("competitionName", "")
            if comp not in self.state.competitions:
                return self._error(404, "Competition not found")
            accepted, files = self.state.competitions[comp]
            if name == "ListDataFiles":
                return self._json(200, {"files": [{"ref": n, "name": n, "totalBytes": _size(b)}
                                                  for n, b in files.items()]})
            if name == "DownloadDataFile":
                if not accepted:
                    return self._error(403, "You must accept this competition's rules before you'll be able to "
                                            "download files.")
                if body.get("fileName") not in files:
                    return self._error(404, "File not found")
                return self._redirect(f"c/{comp}/{quote(body['fileName'])}")
        return self._error(404, f"No method {method}")

    def do_GET(self) -> None:  # noqa: N802
        parts = [unquote(p) for p in self.path.removeprefix("/files/").split("/")]
        try:
            if parts[0] == "d":
                body = self.state.datasets[(parts[1], parts[2])][int(parts[3])][parts[4]]
            else:
                body = self.state.competitions[parts[1]][1][parts[2]]
        except (KeyError, IndexError, ValueError):
            return self._error(404, "No such file")
        ranged = self.headers.get("Range", "")
        self.state.calls.append(f"GET {parts[-1]}" + (f" {ranged}" if ranged else ""))
        resumable = self.state.ranges and body is not BIG  # the generated CSV is streamed, not sliced
        if ranged and resumable and ranged.startswith("bytes=") and ranged.endswith("-"):
            start = int(ranged[6:-1])
            self.send_response(206)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            self.send_header("Content-Length", str(len(body) - start))
            self.end_headers()
            self.wfile.write(body[start:])
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(_size(body)))
        if resumable:
            self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if parts[-1] in self.state.cut:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        try:
            for chunk in (big_csv_chunks() if body is BIG else [body]):
                self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):  # the client stopped reading (a size limit)
            self.close_connection = True


class _Big(bytes):
    """Stands for the large generated CSV (streamed, never built in memory)."""


BIG = _Big(b"")


def _size(body: bytes) -> int:
    return BIG_SIZE if body is BIG else len(body)


LOCK = Path(tempfile.gettempdir()) / f"atelier-tests-kaggle-{PORT}.lock"


@contextmanager
def serving() -> Iterator[KaggleDouble | None]:
    """A fresh double on port 7777 for the time of the block; ``None`` when a process outside the tests holds it.

    The port is fixed (the client in TEST mode calls nothing else), so parallel test processes take turns:
    each holds a lock file while its double serves, and closes the port before letting go.
    """
    with open(LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # let go when the file closes, after the port is closed below
        state = KaggleDouble()
        try:
            server = ThreadingHTTPServer(("127.0.0.1", PORT), type("Handler", (_Handler,), {"state": state}))
        except OSError:
            yield None
            return
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True, name="kaggle-double")
        thread.start()
        try:
            yield state
        finally:
            server.shutdown()
            server.server_close()
            thread.join()


@pytest.fixture
def kaggle(tmp_path, monkeypatch) -> Iterator[KaggleDouble]:
    """A fresh double, with kagglesdk pointed at it and a dummy token in the environment."""
    with serving() as state:
        if state is None:
            pytest.skip(f"port {PORT} is taken, and the Kaggle client in TEST mode only calls localhost:{PORT}")
        for name in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_CONFIG_DIR"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("KAGGLE_API_ENVIRONMENT", "TEST")
        monkeypatch.setenv("KAGGLE_API_TOKEN", TOKEN)
        monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "kagglehub-cache"))
        monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "kaggle-config"))
        monkeypatch.setenv("HOME", str(tmp_path / "user-home"))
        yield state
