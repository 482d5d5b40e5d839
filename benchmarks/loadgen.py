"""Load generators for the serving benchmark: ``wrk`` (C, when installed) or asyncio + httpx.

Both drive ``clients`` keep-alive connections that POST the same body in a loop for ``seconds``
and return one dict: ``clients``, ``requests/s`` (answers with status 2xx), ``p50 ms``, ``p99 ms``,
``failed`` and ``client``.  wrk is preferred: on a 2-core machine the Python client's own CPU
(parsing every response, the event loop) is taken from the server under test and inflates its
latencies; wrk's event loop in C costs a few percent of a core.  A run compares servers with the
same client only (``pick_client`` decides once per benchmark run).
"""

from __future__ import annotations

import asyncio
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

__all__ = ["WRK_SCRIPT", "load_run", "pick_client"]

# wrk's Lua hooks: the POST body from a file, and the summary as one JSON line (latencies in µs).
WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = assert(io.open(os.getenv("ATELIER_WRK_BODY"), "rb"))
wrk.body = f:read("*a")
f:close()
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('\\n{"requests": %d, "duration_us": %d, "p50_us": %.1f, "p99_us": %.1f, ' ..
    '"status_errors": %d, "socket_errors": %d}\\n', summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def pick_client(wanted: str = "auto") -> str:
    """``"wrk"`` when asked for or found on the PATH (``"auto"``), else ``"httpx"``."""
    if wanted == "httpx":
        return "httpx"
    if shutil.which("wrk") is None:
        if wanted == "wrk":
            raise SystemExit("--client wrk: wrk is not installed (apt-get install wrk)")
        return "httpx"
    return "wrk"


def load_run(client: str, url: str, body: bytes, clients: int, seconds: float) -> dict:
    """One load run of ``clients`` connections for ``seconds`` with the chosen client."""
    run = _wrk if client == "wrk" else _httpx
    return {**run(url, body, clients, seconds), "client": client}


def _wrk(url: str, body: bytes, clients: int, seconds: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        body_file, script = Path(tmp) / "body.json", Path(tmp) / "post.lua"
        body_file.write_bytes(body)
        script.write_text(WRK_SCRIPT)
        env = {"ATELIER_WRK_BODY": str(body_file), "PATH": "/usr/bin:/bin:/usr/local/bin"}

        def wrk(duration: float) -> dict:
            # One thread: it keeps up with thousands of requests a second and leaves the cores to the server.
            done = subprocess.run(["wrk", "-t1", f"-c{clients}", f"-d{max(1, round(duration))}s", "--timeout", "60s",
                                   "-s", str(script), url], capture_output=True, text=True, env=env,
                                  timeout=duration + 120)
            if done.returncode != 0:
                raise RuntimeError(f"wrk failed: {(done.stderr or done.stdout).strip()[-500:]}")
            return json.loads(done.stdout.strip().splitlines()[-1])

        wrk(1)  # warm the connections and the model, as the httpx client does
        out = wrk(seconds)
    ok = out["requests"] - out["status_errors"]
    return {"clients": clients, "requests/s": ok / (out["duration_us"] / 1e6), "p50 ms": out["p50_us"] / 1000,
            "p99 ms": out["p99_us"] / 1000, "failed": out["status_errors"] + out["socket_errors"]}


def _httpx(url: str, body: bytes, clients: int, seconds: float) -> dict:
    return asyncio.run(_httpx_load(url, body, clients, seconds))


async def _httpx_load(url: str, body: bytes, clients: int, seconds: float) -> dict:
    import httpx

    latencies: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        headers = {"Content-Type": "application/json"}
        for _ in range(clients):  # warm the connections and the model
            await client.post(url, content=body, headers=headers)
        deadline = time.perf_counter() + seconds

        async def one_client() -> None:
            nonlocal failures
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await client.post(url, content=body, headers=headers)
                if response.status_code == 200:
                    latencies.append((time.perf_counter() - started) * 1000)
                else:
                    failures += 1

        started = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    return {"clients": clients, "requests/s": len(latencies) / elapsed, "p50 ms": cuts[49], "p99 ms": cuts[98],
            "failed": failures}
