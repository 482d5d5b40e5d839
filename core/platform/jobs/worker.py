"""A warm worker for local jobs: one process that has already imported the heavy libraries and
forks a child per job.

A job started as a fresh interpreter spends about a second and a half importing pandas,
scikit-learn, LightGBM and skops before its first line of work; a fork of a process that holds
them starts in milliseconds.  Each server process (the Streamlit app, a test run) owns at most
one worker.  The worker is that process's child, listens on a socket in a private temporary
folder, and exits when its owner does (it watches a pipe the owner holds open), so no worker
outlives the app; jobs it forked keep running, as spawned ones always did.

To the job system a forked job looks exactly like a spawned one: its own session (so a forced
cancel kills its process group), its own log file, its row in the metadata store.  When no
worker answers, :func:`core.platform.jobs.submit` starts a fresh interpreter as before.

The worker never starts a thread of its own and never opens a database connection before it
forks, so a child inherits no lock held by another thread and no connection it shares.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import logging
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from core.platform.jobs.runner import run_job
from core.platform.logging_setup import configure_logging

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[3]
# Imported once by the worker so that every job forked from it finds them loaded.  Optional
# libraries that are missing are skipped; ydata-profiling stays out (heavy, used by one job kind).
# shap (with the matplotlib and numba it imports) is here because every training job that explains a
# scikit-learn forest needs it: imported in the job, it cost more than the three fits of a small run.
PRELOAD = ("pandas", "pyarrow.parquet", "pyarrow.dataset", "sklearn.ensemble", "sklearn.linear_model", "lightgbm",
           "xgboost", "skops.io", "optuna", "core.models.training", "core.serve.batch", "core.data.ingest",
           "core.models.training_stats", "shap")
REPLY_TIMEOUT = 10.0


class _Owned:
    """This process's worker, if it started one."""

    lock = threading.Lock()
    process: subprocess.Popen | None = None
    folder: str | None = None

    @classmethod
    def address(cls) -> str | None:
        if cls.process is None or cls.process.poll() is not None or cls.folder is None:
            return None
        return os.path.join(cls.folder, "socket")


def start(log_folder: Path) -> None:
    """Start this process's worker unless it runs already; returns at once (cheap enough for every page run).

    A new worker needs a second or two to import its libraries; jobs submitted meanwhile are spawned.
    """
    with _Owned.lock:
        if _Owned.address() is None:
            if _Owned.folder:  # a worker that died without cleaning up after itself
                shutil.rmtree(_Owned.folder, ignore_errors=True)
            _spawn(Path(log_folder))


def ready(wait: float) -> bool:
    """Whether the worker answers, asking until it does or ``wait`` seconds have passed."""
    deadline = time.monotonic() + wait
    while _request({"ping": True}) is None:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """This process's environment plus ``extra``, with the project importable: what a job runs under."""
    env = {**os.environ, **extra}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    return env


def _spawn(log_folder: Path) -> None:
    folder = tempfile.mkdtemp(prefix="atelier-worker-")  # mode 0700: only this user can connect
    log_folder.mkdir(parents=True, exist_ok=True)
    env = child_env({})
    with open(log_folder / "worker.log", "ab") as out:
        _Owned.process = subprocess.Popen(
            [sys.executable, "-m", "core.platform.jobs.worker", os.path.join(folder, "socket")],
            cwd=PROJECT_ROOT, env=env, stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C meant for the server must not reach running jobs
        )
    _Owned.folder = folder


def stop() -> None:
    """Stop this process's worker (jobs it forked go on); for tests and clean shut-downs."""
    with _Owned.lock:
        process, folder = _Owned.process, _Owned.folder
        _Owned.process = _Owned.folder = None
    if process is not None:
        with contextlib.suppress(OSError):
            process.stdin.close()  # the worker reads end-of-file and exits
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)
        if process.poll() is None:
            process.kill()
            process.wait()
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


def pid() -> int | None:
    """The worker's process id while it runs."""
    return _Owned.process.pid if _Owned.address() else None


def hand_over(job_id: str, env: dict[str, str], log_path: Path) -> bool:
    """Ask the worker to fork ``job_id``; ``False`` when there is no worker to ask."""
    reply = _request({"job_id": job_id, "env": env, "log": str(log_path)})
    return bool(reply and reply.get("pid"))


def _request(message: dict[str, Any]) -> dict[str, Any] | None:
    address = _Owned.address()
    if address is None:
        return None
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            conn.settimeout(REPLY_TIMEOUT)
            conn.connect(address)
            conn.sendall(json.dumps(message).encode() + b"\n")
            with conn.makefile("rb") as reader:
                line = reader.readline()
        return json.loads(line) if line else None
    except (OSError, ValueError):  # not listening yet, gone, or too slow: the caller spawns instead
        return None


# -- inside the worker process ----------------------------------------------------------------
def serve(address: str) -> None:
    """Preload, then fork one child per request until the owner closes our standard input."""
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            print(f"worker: not preloading {name}: {exc}", flush=True)
    gc.collect()
    gc.freeze()  # the preloaded objects are never collected: a child's collections leave their pages shared
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps finished jobs
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)
    listener.listen(16)
    print(f"worker {os.getpid()}: ready on {address}", flush=True)
    with selectors.DefaultSelector() as selector:
        selector.register(listener, selectors.EVENT_READ)
        selector.register(sys.stdin.fileno(), selectors.EVENT_READ)
        while True:
            for key, _ in selector.select():
                if key.fileobj is listener:
                    conn, _ = listener.accept()
                    _answer(conn, listener)
                elif not os.read(sys.stdin.fileno(), 4096):
                    listener.close()
                    shutil.rmtree(os.path.dirname(address), ignore_errors=True)  # the private folder
                    return  # the owner is gone


def _answer(conn: socket.socket, listener: socket.socket) -> None:
    with conn:
        try:
            conn.settimeout(REPLY_TIMEOUT)
            with conn.makefile("rb") as reader:
                request = json.loads(reader.readline())
            if request.get("ping"):
                reply: dict[str, Any] = {"pong": os.getpid()}
            else:
                sys.stdout.flush()
                child = os.fork()
                if child == 0:
                    _run_child(request, listener, conn)  # never returns
                reply = {"pid": child}
            conn.sendall(json.dumps(reply).encode() + b"\n")
        except (OSError, ValueError) as exc:  # a broken request must not stop the worker
            print(f"worker: bad request: {exc}", flush=True)


def _run_child(request: dict[str, Any], listener: socket.socket, conn: socket.socket) -> None:
    code = 1
    try:
        listener.close()
        conn.close()
        os.setsid()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the job may wait for processes of its own
        out = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.environ.clear()
        os.environ.update(request["env"])
        configure_logging()
        run_job(request["job_id"])
        code = 0
    except BaseException:
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: python -m core.platform.jobs.worker SOCKET_PATH", file=sys.stderr)
        raise SystemExit(2)
    serve(sys.argv[1])
