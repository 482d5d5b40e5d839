"""The HTTP prediction API (``python -m core serve``) under load, and one big request vs batch scoring.

    python -m benchmarks.bench_serve [--rows 100000] [--repeat 3] [--quick] [--duration 30] [--only big]

A LightGBM pipeline on 20 features (``benchmarks.bench_jobs.make_frame``) is promoted and served by
``python -m core serve`` in its own process on loopback.

(1) One-row requests (``dataframe_records``) from 8 and 32 concurrent clients for ``--duration``
    seconds each: throughput and p50 / p99 latency.  The load comes from ``wrk`` when it is
    installed (a C client, ``--client auto``), else from asyncio + httpx in this process
    (``benchmarks.loadgen``); both servers get the same client, and the table names it.  The
    clients share the machine's cores with the server, as any loopback client does.  Both servers are up
    together and their load runs alternate (Atelier, MLflow, Atelier, ... ``--rounds`` times per
    client count), so a machine whose load drifts (a shared one) weighs on both alike; each
    cell is the median over the rounds.
(2) ``--rows`` rows in one request (Parquet and JSON ``dataframe_split`` bodies), answered as the
    default JSON (one object per row) and as the columnar answers (``?format=columns`` JSON, and
    Parquet by ``Accept: application/vnd.apache.parquet``), against scoring the same rows in-process:
    ``core.serve.batch.predict_file`` on a Parquet file (the batch job's own path, which also writes
    and records its output) and validate + score of the frame in memory.  Median of ``--repeat``;
    the candidates take turns within each repeat, so a shared machine's drifting load weighs on the
    baseline and the requests alike.  ``--only big`` runs this part alone (no load, no MLflow).

The baseline is ``mlflow models serve --env-manager local`` of the same pipeline (saved with
``mlflow.sklearn``, ``/invocations``, the same one-row body), from mlflow 3.17.2 in a side virtual
environment this benchmark builds on first use under ``~/.cache/atelier-bench`` (never in our
requirements); when it cannot be built or started, its row says why.
"""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_jobs import make_frame
from benchmarks.common import ROOT, markdown_table, median, parse_sized, size_parser
from benchmarks.loadgen import load_run, pick_client
from core.data.datasets import save_version
from core.ml.config import SplitConfig, TrainConfig
from core.models import registry
from core.models.training import train_version
from core.platform.config import Settings
from core.platform.workspace import Workspace
from core.serve.batch import predict_file
from core.serve.loaded import load_model
from core.serve.outputs import score_frame
from core.serve.validation import validate_and_coerce

MLFLOW_VERSION = "3.17.2"  # 3.18.0 does not install here
# ATELIER_BENCH_MLFLOW_VENV: an existing venv with mlflow to use (or build) instead
MLFLOW_VENV = Path(os.environ.get("ATELIER_BENCH_MLFLOW_VENV") or
                   Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "atelier-bench"
                   / f"mlflow-{MLFLOW_VERSION}")

SAVE_FOR_MLFLOW = """
import sys
import mlflow.sklearn
from core.platform.config import Settings
from core.platform.workspace import Workspace
from core.serve.loaded import load_model
ws = Workspace.open(Settings(home=sys.argv[1]))
mlflow.sklearn.save_model(load_model(ws, sys.argv[2]).pipeline, sys.argv[3], serialization_format="cloudpickle")
"""


def _mlflow_python() -> tuple[Path | None, str]:
    """The side venv's python with mlflow (built on first use, never in our requirements), or why not."""
    python = MLFLOW_VENV / "bin" / "python"
    if not python.exists():
        try:
            subprocess.run([sys.executable, "-m", "venv", str(MLFLOW_VENV)], check=True, capture_output=True)
            subprocess.run([str(python), "-m", "pip", "install", "-q", f"mlflow=={MLFLOW_VERSION}"], check=True,
                           capture_output=True, text=True, timeout=1200)
        except (subprocess.SubprocessError, OSError) as exc:
            import shutil

            shutil.rmtree(MLFLOW_VENV, ignore_errors=True)
            return None, f"skipped: mlflow {MLFLOW_VERSION} did not install in a side venv ({type(exc).__name__})"
    # The pipeline names core.ml.steps and needs LightGBM: the side venv sees this checkout and, after
    # its own packages (mlflow's pins first), this venv's.
    site = next((MLFLOW_VENV / "lib").glob("python3*/site-packages"))
    ours = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    (site / "atelier_bench.pth").write_text("\n".join([str(ROOT), *ours]) + "\n")
    return python, ""


def _start_mlflow(python: Path, home: Path, ref: str, tmp: Path, port: int) -> subprocess.Popen:
    model_dir = tmp / "mlflow-model"
    subprocess.run([str(python), "-c", SAVE_FOR_MLFLOW, str(home), ref, str(model_dir)], check=True,
                   capture_output=True, text=True, cwd=ROOT, timeout=300)
    env = {**os.environ, "PATH": f"{python.parent}:{os.environ.get('PATH', '')}", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([str(python.parent / "mlflow"), "models", "serve", "-m", str(model_dir), "-p", str(port),
                             "-h", "127.0.0.1", "--env-manager", "local"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _wait_healthy(proc, f"http://127.0.0.1:{port}/ping", "mlflow models serve")
    return proc


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_server(home: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "ATELIER_HOME": str(home), "ATELIER_SERVE_MAX_CONCURRENT": "64",
           "ATELIER_SERVE_MAX_BODY_MB": "1024", "ATELIER_SERVE_TIMEOUT_S": "300"}
    proc = subprocess.Popen([sys.executable, "-m", "core", "serve", "--port", str(port), "--log-level", "warning"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _wait_healthy(proc, f"http://127.0.0.1:{port}/health", "python -m core serve")
    return proc


def _wait_healthy(proc: subprocess.Popen, url: str, what: str) -> None:
    import httpx

    deadline = time.monotonic() + 120
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited:\n{proc.stderr.read()[-3000:]}")
        try:
            httpx.get(url, timeout=2).raise_for_status()
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                proc.terminate()
                raise RuntimeError(f"{what} did not answer within 120 s") from None
            time.sleep(0.2)


def _median_run(runs: list[dict]) -> dict:
    """Each number the median over the rounds, written for the table."""
    return {"clients": runs[0]["clients"], "requests/s": f"{median([r['requests/s'] for r in runs]):,.0f}",
            "p50 ms": f"{median([r['p50 ms'] for r in runs]):.1f}",
            "p99 ms": f"{median([r['p99 ms'] for r in runs]):.1f}",
            "failed": sum(r["failed"] for r in runs), "rounds": len(runs), "client": runs[0]["client"]}


def main() -> None:
    parser = size_parser(100_000, 20_000)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load per client count")
    parser.add_argument("--no-mlflow", action="store_true", help="skip the mlflow models serve baseline")
    parser.add_argument("--rounds", type=int, default=1, help="alternating load runs per server and client count")
    parser.add_argument("--client", choices=("auto", "wrk", "httpx"), default="auto",
                        help="load generator for both servers: wrk when installed (auto), else httpx")
    parser.add_argument("--only", choices=("all", "load", "big"), default="all",
                        help="load: part (1) alone; big: part (2) alone")
    args = parse_sized(parser)
    duration = min(args.duration, 3.0) if args.quick else args.duration
    rounds = max(1, args.rounds)
    client = pick_client(args.client)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        ws = Workspace.open(Settings(home=home))
        version = save_version(ws, "bench", make_frame(20_000), provenance={"source": "benchmark"},
                               roles={"y": "target"})
        [row] = train_version(ws, version, TrainConfig(target="y", explain=False, split=SplitConfig(kind="random")),
                              ["lightgbm"])
        name, number = registry.parse_ref(row["model"])[:2]
        registry.promote(ws, name, number)
        big = make_frame(args.rows, seed=1).drop(columns=["y"])
        one = json.dumps({"dataframe_records": big.head(1).to_dict("records")}).encode()
        parquet = io.BytesIO()
        big.to_parquet(parquet)
        split = json.dumps({"dataframe_split": big.to_dict("split") | {"index": None}}).encode()
        source = Path(tmp) / "batch.parquet"
        source.write_bytes(parquet.getvalue())
        model = load_model(ws, f"{name}:{number}")

        predict_file(ws, model, source)  # a batch builds the compiled trees that big requests then use too
        port = _free_port()
        url = f"http://127.0.0.1:{port}/v1/models/{name}/predict"
        proc = _start_server(home, port)
        try:  # the Atelier server stops whatever fails below
            mlflow, mlflow_url = None, ""
            python, skipped = (None, "skipped: --no-mlflow") if args.no_mlflow or args.only == "big" \
                else _mlflow_python()
            if python is not None:
                mlflow_port = _free_port()
                try:
                    mlflow = _start_mlflow(python, home, f"{name}:{number}", Path(tmp), mlflow_port)
                    mlflow_url = f"http://127.0.0.1:{mlflow_port}/invocations"
                except (RuntimeError, subprocess.SubprocessError) as exc:
                    skipped = f"skipped: mlflow models serve did not start ({str(exc).strip().splitlines()[-1][:120]})"
            try:
                runs: dict[tuple[str, int], list[dict]] = {}
                for clients in (8, 32) if args.only != "big" else ():
                    for _round in range(rounds):  # alternate: a drifting machine load weighs on both alike
                        runs.setdefault(("atelier", clients), []).append(load_run(client, url, one, clients, duration))
                        if mlflow is not None:
                            runs.setdefault(("mlflow", clients), []).append(
                                load_run(client, mlflow_url, one, clients, duration))
            finally:
                if mlflow is not None:
                    mlflow.terminate()
                    mlflow.wait(30)
            load = [_median_run(runs[("atelier", c)]) for c in (8, 32)] if runs else []
            mlflow_load = [_median_run(runs[("mlflow", c)]) for c in (8, 32)] if mlflow is not None else []
            big_rows = _big_request(args, ws, model, big, source, url, parquet.getvalue(), split) \
                if args.only != "load" else []
        finally:
            proc.terminate()
            proc.wait(30)
        ws.db.dispose()

    if args.only != "big":
        _print_load(duration, rounds, client, load, mlflow_load, skipped)
    if big_rows:
        print(f"(2) {args.rows:,} rows in one request vs in-process batch scoring, median of {args.repeat}\n")
        base = median(big_rows[0][1])
        print(markdown_table([{"candidate": label, "seconds": f"{median(t):.2f}",
                               "vs batch": f"{median(t) / base:.2f}×"} for label, t in big_rows]))
        print("\nTarget: one request ≤ 1.2× the in-process batch scoring time.")


PARQUET_TYPE = "application/vnd.apache.parquet"


def _big_request(args, ws: Workspace, model, big, source: Path, url: str, parquet: bytes,
                 split: bytes) -> list[tuple[str, list[float]]]:
    """Part (2): each candidate's seconds, the batch baseline first."""
    import httpx
    import pyarrow.parquet as pq

    def timed_post(body: bytes, content_type: str, query: str = "", accept: str | None = None) -> float:
        # Timed until the whole answer has arrived; the client's own parsing of it comes after
        # (the stdlib's json.loads of 100k answers is the client's cost, ~0.5 s here, not the server's).
        headers = {"Content-Type": content_type, **({"Accept": accept} if accept else {})}
        started = time.perf_counter()
        response = httpx.post(url + query, content=body, headers=headers, timeout=300)
        response.raise_for_status()
        seconds = time.perf_counter() - started
        if accept == PARQUET_TYPE:
            assert pq.read_table(io.BytesIO(response.content)).num_rows == args.rows
        elif query:
            assert len(response.json()["predictions"]["prediction"]) == args.rows
        else:
            assert len(response.json()["predictions"]) == args.rows
        return seconds

    def in_memory() -> float:
        started = time.perf_counter()
        report, X = validate_and_coerce(model.reference, big)
        assert report.ok
        score_frame(model, X)
        return time.perf_counter() - started

    def batch() -> float:
        started = time.perf_counter()
        predict_file(ws, model, source)
        return time.perf_counter() - started

    candidates = {
        "core.serve.batch.predict_file on a Parquet file (baseline: the batch job's path)": batch,
        "in-process validate_and_coerce + score_frame of the frame in memory": in_memory,
        "HTTP POST, Parquet body, JSON answer (until received)": lambda: timed_post(parquet, PARQUET_TYPE),
        "HTTP POST, JSON dataframe_split body, JSON answer": lambda: timed_post(split, "application/json"),
        "HTTP POST, Parquet body, ?format=columns JSON answer": lambda: timed_post(parquet, PARQUET_TYPE,
                                                                                  "?format=columns"),
        "HTTP POST, Parquet body, Parquet answer (Accept)": lambda: timed_post(parquet, PARQUET_TYPE,
                                                                               accept=PARQUET_TYPE),
        "HTTP POST, JSON dataframe_split body, ?format=columns JSON answer":
            lambda: timed_post(split, "application/json", "?format=columns"),
        "HTTP POST, JSON dataframe_split body, Parquet answer (Accept)":
            lambda: timed_post(split, "application/json", accept=PARQUET_TYPE),
    }
    for run in candidates.values():  # warm (the batch path may build compiled trees)
        run()
    times: dict[str, list[float]] = {label: [] for label in candidates}
    for _ in range(args.repeat):  # in turns: a load that drifts weighs on every candidate alike
        for label, run in candidates.items():
            times[label].append(run())
    return list(times.items())


def _print_load(duration: float, rounds: int, client: str, load: list[dict], mlflow_load: list[dict],
                skipped: str) -> None:
    print(f"\n(1) One-row requests to python -m core serve on loopback, {duration:g} s per run, median of {rounds} "
          f"alternating run(s), LightGBM on 20 features, load from {client}\n")
    baseline = [{"candidate": f"mlflow {MLFLOW_VERSION} models serve (baseline)", **r} for r in mlflow_load] or \
        [{"candidate": "mlflow models serve (baseline)", "clients": "8, 32", "requests/s": "-", "p50 ms": "-",
          "p99 ms": "-", "failed": skipped, "rounds": 0, "client": client}]
    print(markdown_table([{"candidate": "Atelier API", **r} for r in load] + baseline))
    if mlflow_load:
        ratio = float(load[1]["requests/s"].replace(",", "")) / float(mlflow_load[1]["requests/s"].replace(",", ""))
        print(f"\nAtelier / MLflow throughput at 32 clients: {ratio:.2f}×")
    print("\nTargets: p99 ≤ 25 ms at 8 clients; ≥ 3× MLflow's throughput at 32 clients.\n")


if __name__ == "__main__":
    main()
