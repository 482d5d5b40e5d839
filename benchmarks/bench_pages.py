"""Page interactions with a big dataset selected: server script time and CPU per rerun, per page.

    python -m benchmarks.bench_pages [--rows 1000000] [--repeat 10] [--quick] [--baseline REF] [--pages train,eda]

Every page of the app is opened through Streamlit's AppTest (the real scripts, headless, in one
process) with a generated ``--rows`` × 20 dataset as the only, selected dataset.  For each page,
``--repeat`` times: a page switch onto it, then one widget change on it (the first text box,
toggle or non-picker select box it shows, changed back and forth); on the Train page also a
feature change (target ``y``, one default feature unticked, a different one each time, so no
cache has seen the set).  Each rerun's wall time (the
script run) and this process's CPU time over it (every thread: the script and anything it starts
in the background) are recorded; the table gives p50 / p95 per page and interaction.

Candidates, each in a fresh interpreter with a workspace of its own:

* ``today's settings``: the code of ``--baseline`` (default ``HEAD``, the last commit), exported
  with ``git archive`` into a temporary folder (the checkout is not touched);
* ``Atelier``: the working tree.

Targets: ≤ 300 ms p95 script time and ≤ 150 ms CPU per interaction.  The CPU is the whole process's;
work a page leaves running in the background (the Train page's estimates) is waited out before the
next measurement and reported apart ("background s"), so it is not charged to another page.  Scripts' bytecode is
compiled once, as in a server (AppTest alone compiles on every run).  The file watcher is not part
of an AppTest run (``.streamlit/config.toml`` turns it off in production; see the README).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from benchmarks.common import ROOT, markdown_table, parse_sized, size_parser

PAGES = ("views/data.py", "views/eda.py", "views/train.py", "views/benchmarks.py", "views/predict.py",
         "views/settings.py")

# Runs inside the candidate's own tree (cwd and sys.path[0]); prints one JSON object last.
_CHILD = textwrap.dedent('''
    import json, os, sys, time, warnings
    warnings.simplefilter("ignore")
    rows, repeat, pages = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].split(",")
    from streamlit.testing.v1 import AppTest
    from streamlit.testing.v1 import app_test, local_script_runner

    # A server keeps one bytecode cache for its scripts; AppTest compiles every script again on every
    # run (~45 ms a page): share one cache, so the numbers are the server's.
    _bytecode = app_test.ScriptCache()
    app_test.ScriptCache = local_script_runner.ScriptCache = lambda: _bytecode
    from benchmarks.bench_jobs import make_frame
    from core.data.datasets import save_version
    from core.platform.config import Settings
    from core.platform.workspace import Workspace

    ws = Workspace.open(Settings.load())
    save_version(ws, "big", make_frame(rows), provenance={"source": "benchmark"}, roles={"y": "target"})
    ws.db.dispose()

    def timed(at):
        wall, cpu = time.perf_counter(), time.process_time()
        at.run()
        return time.perf_counter() - wall, time.process_time() - cpu

    def settle(limit=180.0):
        """Wait for background work (the Train page's estimates) to end, so it is not charged to the
        next page's reruns; returns the seconds it took."""
        started = time.perf_counter()
        while time.perf_counter() - started < limit:
            cpu = time.process_time()
            time.sleep(0.5)
            if time.process_time() - cpu < 0.05:
                break
        return time.perf_counter() - started

    def is_picker(key):
        return key is None or ".dataset" in key or ".version" in key or key.startswith("project")

    def change(at, flip):
        """Change the page's first harmless widget; False when it shows none."""
        for box in at.main.text_input:
            box.set_value("b" if flip else "")
            return True
        for toggle in at.main.toggle:
            toggle.set_value(flip)
            return True
        for select in at.main.selectbox:
            if not is_picker(select.key) and len(select.options) > 1:
                select.set_value(select.options[1] if flip else select.options[0])
                return True
        return False

    def feature_changes(at, repeat):
        """The Train page with its target ``y``: untick one default feature, a different one each time
        (a set no cache has seen), waiting out the estimates the previous change started."""
        for select in at.main.selectbox:
            if (select.key or "").startswith("train.target."):
                select.set_value("y")
                at.run()
        picks = [m for m in at.main.multiselect if (m.key or "").startswith("train.features.")]
        if not picks:
            return []
        chosen = list(picks[0].value)
        timings = []
        for i in range(min(repeat, len(chosen))):
            settle()
            picks = [m for m in at.main.multiselect if (m.key or "").startswith("train.features.")]
            picks[0].set_value([c for j, c in enumerate(chosen) if j != i])
            timings.append(timed(at))
        return timings

    at = AppTest.from_file("app.py", default_timeout=600)
    at.run()
    out = {}
    for page in pages:
        at.switch_page(page)
        timed(at)  # the first visit fills the caches: not an interaction a user repeats
        settled = settle()
        switch, widget = [], []
        for i in range(repeat):
            at.switch_page("views/settings.py" if page != "views/settings.py" else "views/data.py")
            at.run()
            at.switch_page(page)
            switch.append(timed(at))
            if change(at, i % 2 == 0):
                widget.append(timed(at))
        features = feature_changes(at, repeat) if page == "views/train.py" else []
        out[page] = {"switch": switch, "widget": widget, "features": features, "background": settled + settle(),
                     "errors": [str(e.value)[:200] for e in at.exception]}
    print(json.dumps(out))
''')


def _measure(tree: Path, rows: int, repeat: int, home: Path, pages: tuple[str, ...] = PAGES) -> dict:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "ATELIER_HOME": str(home / "atelier"),
           "PYTHONPATH": str(tree), "PYTHONWARNINGS": "ignore"}
    done = subprocess.run([sys.executable, "-c", _CHILD, str(rows), str(repeat), ",".join(pages)], cwd=tree,
                          env=env, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"the page run in {tree} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _export(ref: str, into: Path) -> Path:
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", "--format=tar", ref], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def _p(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = size_parser(1_000_000, 100_000, description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="HEAD", help="git ref of today's settings (default HEAD)")
    parser.add_argument("--pages", default=",".join(p.removeprefix("views/").removesuffix(".py") for p in PAGES),
                        help="comma-separated pages to measure (default: all)")
    parser.set_defaults(repeat=10)
    args = parse_sized(parser)
    pages = tuple(f"views/{name.strip()}.py" for name in args.pages.split(","))
    unknown = [p for p in pages if p not in PAGES]
    if unknown:
        parser.error(f"unknown page(s) {', '.join(unknown)}; the pages are {', '.join(PAGES)}")
    if args.quick:
        args.repeat = 3
    with tempfile.TemporaryDirectory() as tmp:
        base_tree = _export(args.baseline, Path(tmp) / "baseline")
        (Path(tmp) / "b-home").mkdir()
        (Path(tmp) / "a-home").mkdir()
        runs = {"today's settings": _measure(base_tree, args.rows, args.repeat, Path(tmp) / "b-home", pages),
                "Atelier": _measure(ROOT, args.rows, args.repeat, Path(tmp) / "a-home", pages)}
    table = []
    for page in pages:
        for interaction in ("switch", "widget", "features"):
            if interaction == "features" and not any(run[page].get("features") for run in runs.values()):
                continue  # the Train page only: a feature set ticked off
            row = {"page": page.removeprefix("views/").removesuffix(".py"), "interaction": interaction}
            for name, run in runs.items():
                pairs = run[page].get(interaction, [])
                row[f"{name} p95 ms (CPU)"] = (f"{_p([w for w, _ in pairs], 0.95) * 1000:.0f} "
                                               f"({_p([c for _, c in pairs], 0.95) * 1000:.0f})" if pairs else "—")
                # once per page (on its switch row): what the page left running after its first visit
                row[f"{name} background s"] = (f"{run[page].get('background', 0.0):.1f}" if interaction == "switch"
                                               else "")
            table.append(row)
    print(f"\nA {args.rows:,}-row × 20 dataset selected; {args.repeat} of each interaction per page; "
          "p95 of the script run's wall time, and of this process's CPU time over it, in ms\n")
    print(markdown_table(table))
    moves = ("switch", "widget", "features")
    worst = {name: max((_p([w for w, _ in run[p][i]], 0.95) for p in pages for i in moves
                        if run[p].get(i)), default=0.0) for name, run in runs.items()}
    worst_cpu = {name: max((_p([c for _, c in run[p][i]], 0.95) for p in pages for i in moves
                            if run[p].get(i)), default=0.0) for name, run in runs.items()}
    for name in runs:
        errors = {p: run_errors for p, run_errors in ((p, runs[name][p]["errors"]) for p in pages) if run_errors}
        if errors:
            print(f"\n{name}: exceptions shown: {errors}")
    a = "Atelier"
    print(f"\nTarget ≤ 300 ms p95 script and ≤ 150 ms CPU: worst page {worst[a] * 1000:.0f} ms "
          f"{'✓' if worst[a] <= 0.3 else '✗'}, CPU {worst_cpu[a] * 1000:.0f} ms {'✓' if worst_cpu[a] <= 0.15 else '✗'}"
          f" (today's settings: {worst[next(iter(runs))] * 1000:.0f} ms, CPU "
          f"{worst_cpu[next(iter(runs))] * 1000:.0f} ms).")


if __name__ == "__main__":
    main()
