"""EDA overview + correlations vs a ydata-profiling minimal report on the same frame.

    python benchmarks/bench_eda.py [--rows 1000000] [--repeat 3] [--ydata-repeat 1] [--quick] [--skip-ydata]

The frame: 50 columns (30 float, 6 integer-valued floats, 10 categorical strings from 3 to
10,000 distinct values, 4 datetimes), 5% of every column missing, seed 0; built in each child
process (not timed), as the EDA page gets it from ``load_frame`` (strings as Python objects).

Each candidate runs in a fresh process and reports its time (median of ``--repeat`` runs inside
that process) and the peak memory it allocates on top of the frame: one more, untimed run under
``tracemalloc`` (numpy and pandas buffers are traced), divided by the frame's deep size.  The
process's peak RSS (frame generation included) is listed too.  ydata-profiling minimal mode takes
50-85 s on 1,000,000 x 50 on two busy cores (measured), so it runs ``--ydata-repeat`` times (default 1)
and is not traced.  ``--quick`` uses 200,000 rows and one run of everything.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` and `core` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import pandas as pd

from benchmarks.common import markdown_table, mb, run_measured

CATEGORY_SIZES = (3, 5, 8, 12, 20, 50, 100, 400, 1000, 10_000)


def make_frame(rows: int, seed: int = 0) -> pd.DataFrame:
    """1M x 50 by default: 30 float, 6 integer-valued, 10 categorical, 4 datetime; 5% missing everywhere."""
    rng = np.random.default_rng(seed)
    cols: dict[str, object] = {}
    for i in range(30):
        values = rng.normal(100 * i, 10 + i, rows) if i % 3 else rng.lognormal(0, 1, rows)
        cols[f"num_{i}"] = values
    for i in range(6):
        cols[f"int_{i}"] = rng.integers(0, 10 ** (i + 1), rows).astype(np.float64)
    for i, k in enumerate(CATEGORY_SIZES):
        labels = np.array([f"c{i}_{j}" for j in range(k)], dtype=object)
        cols[f"cat_{i}"] = labels[np.minimum(rng.zipf(1.3, rows) - 1, k - 1)]
    base = np.datetime64("2020-01-01T00:00:00", "ns")
    for i in range(4):
        cols[f"when_{i}"] = base + rng.integers(0, 4 * 365 * 86400, rows).astype("timedelta64[s]")
    df = pd.DataFrame(cols)
    for name in df.columns:
        holes = rng.random(rows) < 0.05
        df.loc[holes, name] = None if df[name].dtype == object else np.nan
    return df


CHILD = """
import gc, statistics, time, tracemalloc
from benchmarks.bench_eda import make_frame
df = make_frame(ROWS)
frame_bytes = int(df.memory_usage(deep=True).sum())
gc.collect()
times = []
for _ in range(REPEAT):
    t = time.perf_counter()
    WORK
    times.append(time.perf_counter() - t)
peak = None
if TRACE:  # one more run under tracemalloc (it slows Python code, so it is not timed)
    gc.collect()
    tracemalloc.start()
    WORK
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
__result.update(seconds=statistics.median(times), runs=REPEAT, frame_bytes=frame_bytes, traced_peak=peak)
"""

WORK = {
    "overview": "from core.eda import describe_dataset; describe_dataset(df)",
    "correlations (pearson)": "from core.eda import compute_correlations; compute_correlations(df, 'pearson')",
    "overview + correlations": (
        "from core.eda import describe_dataset, compute_correlations; "
        "describe_dataset(df); compute_correlations(df, 'pearson')"
    ),
    "correlations (associations)": (
        "from core.eda import compute_correlations; compute_correlations(df, 'associations')"
    ),
    "ydata-profiling minimal": (
        "from ydata_profiling import ProfileReport; "
        "ProfileReport(df, minimal=True, progress_bar=False, title='bench').to_html()"
    ),
}


def measure(name: str, rows: int, repeat: int, trace: bool) -> dict:
    code = (CHILD.replace("ROWS", str(rows)).replace("REPEAT", str(repeat)).replace("TRACE", str(trace))
            .replace("WORK", WORK[name]))
    return run_measured(code)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ydata-repeat", type=int, default=1)
    parser.add_argument("--quick", action="store_true", help="200,000 rows, one run of everything")
    parser.add_argument("--skip-ydata", action="store_true", help="leave the (slow) ydata-profiling baseline out")
    args = parser.parse_args(argv)
    rows, repeat, ydata_repeat = args.rows, args.repeat, args.ydata_repeat
    if args.quick:
        rows, repeat, ydata_repeat = min(rows, 200_000), 1, 1
    results = {}
    for name in WORK:
        if name.startswith("ydata") and args.skip_ydata:
            continue
        runs = ydata_repeat if name.startswith("ydata") else repeat
        print(f"measuring {name} on {rows:,} rows x 50 columns ({runs} run(s)) ...", file=sys.stderr, flush=True)
        results[name] = measure(name, rows, runs, trace=not name.startswith("ydata"))
    baseline = results.get("ydata-profiling minimal")
    table = []
    for name, r in results.items():
        peak = r["traced_peak"]
        row = {
            "candidate": name,
            "runs": r["runs"],
            "seconds (median)": f"{r['seconds']:.2f}",
            "x ydata minimal": f"{r['seconds'] / baseline['seconds']:.3f}" if baseline else "n/a",
            "frame": mb(r["frame_bytes"]),
            "peak allocated (tracemalloc)": mb(peak) if peak is not None else "not measured",
            "peak / frame": f"{peak / r['frame_bytes']:.2f}" if peak is not None else "n/a",
            "process peak RSS": mb(r["peak_bytes"]),
        }
        table.append(row)
    print(f"\nrows: {rows:,}, columns: 50, machine: {_cpu_count()} CPU cores\n")
    print(markdown_table(table))
    return 0


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    raise SystemExit(main())
