"""Idle with a page open: the server's CPU while a browser shows a page and nobody touches it.

    python -m benchmarks.bench_idle [--seconds 30] [--repeat 3] [--quick]

A real ``streamlit run app.py`` (the repository's ``.streamlit/config.toml``, as ``scripts/run.sh``
starts it) with the titanic sample in its workspace, and Debian's Chromium driven by Playwright.  For
each page: open it, let it settle, then measure the CPU time of the server and every process it
started (the warm job worker included) over ``--seconds`` of idling; the table gives the share of
one core, median of ``--repeat`` measurements.

Baseline, in the same run: the same server with Streamlit's default file watcher
(``--server.fileWatcherType auto``), which the production config turns off.  Target: ≤ 2 % of a core.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

from benchmarks.common import ROOT, markdown_table, median

PAGES = ("data", "eda", "train", "benchmarks", "predict", "settings")
SETTLE_S = 3.0  # the page's own work (estimates, caches) ends before idling is measured: at least this,
SETTLE_MAX_S = 60.0  # then until two seconds in a row use under QUIET_CPU_S each, or this long at most
QUIET_CPU_S = 0.02
CHROMIUM = "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(home: Path, watcher: str | None) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")} | {"ATELIER_HOME": str(home)}
    args = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
            "--server.address", "127.0.0.1"]
    if watcher:
        args += ["--server.fileWatcherType", watcher]
    server = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                return server, url
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise RuntimeError("streamlit did not start within 120 s")


def _tree_cpu(pid: int) -> float:
    """CPU seconds used so far by ``pid`` and every process under it."""
    total = 0.0
    root = psutil.Process(pid)
    for proc in [root, *root.children(recursive=True)]:
        try:
            times = proc.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


def _settle(pid: int) -> None:
    """Wait until the work a page started is done (the warm worker's imports, the Train page's estimates):
    two quiet seconds in a row, at most ``SETTLE_MAX_S``. A page that keeps polling never gets quiet, and
    its polling is then what is measured."""
    time.sleep(SETTLE_S)
    deadline, quiet = time.monotonic() + SETTLE_MAX_S, 0
    while quiet < 2 and time.monotonic() < deadline:
        cpu = _tree_cpu(pid)
        time.sleep(1.0)
        quiet = quiet + 1 if _tree_cpu(pid) - cpu < QUIET_CPU_S else 0


def _idle_shares(url: str, pid: int, seconds: float, repeat: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    shares: dict[str, list[float]] = {page: [] for page in PAGES}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        tab = browser.new_page(viewport={"width": 1280, "height": 720})
        for page in PAGES:
            tab.goto(f"{url}/{page}", wait_until="networkidle")
            _settle(pid)
            for _ in range(repeat):
                cpu, wall = _tree_cpu(pid), time.monotonic()
                time.sleep(seconds)
                shares[page].append((_tree_cpu(pid) - cpu) / (time.monotonic() - wall))
        browser.close()
    return shares


def _measure(watcher: str | None, seconds: float, repeat: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "atelier"
        seed = ("from core.data.ingest import import_sample\nfrom core.platform.config import Settings\n"
                "from core.platform.workspace import Workspace\n"
                "import_sample(Workspace.open(Settings.load()), 'titanic')\n")
        subprocess.run([sys.executable, "-c", seed], cwd=ROOT, check=True, capture_output=True,
                       env={**os.environ, "ATELIER_HOME": str(home)})
        server, url = _start(home, watcher)
        try:
            return _idle_shares(url, server.pid, seconds, repeat)
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="idle seconds per measurement")
    parser.add_argument("--repeat", type=int, default=3, help="measurements per page; the median is reported")
    parser.add_argument("--quick", action="store_true", help="10 s, one measurement per page")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.repeat = 10.0, 1
    runs = {"Streamlit's file watcher (auto)": _measure("auto", args.seconds, args.repeat),
            "Atelier (config.toml)": _measure(None, args.seconds, args.repeat)}
    table = [{"page": page} | {f"{name} % of a core": f"{median(run[page]) * 100:.2f}" for name, run in runs.items()}
             for page in PAGES]
    print(f"\nServer + its processes, CPU while idle with one page open ({args.seconds:.0f} s × {args.repeat}, "
          "median)\n")
    print(markdown_table(table))
    worst = max(median(v) for v in runs["Atelier (config.toml)"].values()) * 100
    print(f"\nTarget ≤ 2 % of a core: worst page {worst:.2f} % {'✓' if worst <= 2 else '✗'}")


if __name__ == "__main__":
    main()
