"""Joining two catalogue versions vs ``pd.merge`` on frames already in memory.

    python -m benchmarks.bench_join [--rows 1000000] [--repeat 3] [--quick]

A ``rows`` × 10 table joins a ``rows / 10`` × 5 table on one integer key (every right key unique,
so the result has as many rows as matched left rows).  Atelier's time covers reading both
versions, planning (key counts, the many-to-many check), joining in left order and saving the new
version (schema, quality, Parquet, catalogue); the baseline is ``pd.merge`` alone on frames
already loaded.  Each candidate runs in a fresh process; median of ``--repeat``.  Target ≤ 1.5×.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from benchmarks.common import markdown_table, mb, median, parse_sized, run_measured, size_parser

SETUP = """
import numpy as np, pandas as pd
rng = np.random.default_rng(0)
n, m = ROWS, max(1, ROWS // 10)
left = pd.DataFrame({"key": rng.integers(0, m * 2, n)} | {f"x{i}": rng.normal(size=n) for i in range(8)}
                    | {"cat": np.array(["a", "b", "c"])[rng.integers(0, 3, n)]})
right = pd.DataFrame({"key": rng.permutation(m * 2)[:m]} | {f"r{i}": rng.normal(size=m) for i in range(3)}
                     | {"label": np.array(["p", "q"])[rng.integers(0, 2, m)]})
"""

BASELINE = SETUP + """
import time
t, c = time.perf_counter(), time.process_time()
out = left.merge(right, on="key", how="inner")
__result["seconds"] = time.perf_counter() - t
__result["cpu"] = time.process_time() - c
__result["rows"] = len(out)
"""

ATELIER = SETUP + """
import time
from core.platform.config import Settings
from core.platform.workspace import Workspace
from core.data import datasets
from core.data.transform import join_versions
ws = Workspace.open(Settings(home=HOME))
a = datasets.save_version(ws, "left", left, provenance={"source": "bench"})
b = datasets.save_version(ws, "right", right, provenance={"source": "bench"})
del left, right
t, c = time.perf_counter(), time.process_time()
v = join_versions(ws, a, b, ["key"], "joined")
__result["seconds"] = time.perf_counter() - t
__result["cpu"] = time.process_time() - c
__result["rows"] = v.n_rows
"""


def main() -> None:
    args = parse_sized(size_parser(1_000_000, 100_000))
    base, ours = [], []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            base.append(run_measured(f"ROWS={args.rows}\n" + BASELINE))
            ours.append(run_measured(f"ROWS={args.rows}; HOME={str(Path(tmp) / f'home{i}')!r}\n" + ATELIER))
    assert {r["rows"] for r in base} == {r["rows"] for r in ours}, "the candidates disagree on the row count"
    b_s, o_s = median([r["seconds"] for r in base]), median([r["seconds"] for r in ours])
    print(f"\nJoin of {args.rows:,} × 10 with {max(1, args.rows // 10):,} × 5 on one key → {ours[0]['rows']:,} rows, "
          f"median of {args.repeat} ({os.cpu_count()} CPUs, load average {load_before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after)\n")
    print(markdown_table([
        {"candidate": "pd.merge on loaded frames (baseline)", "seconds": f"{b_s:.2f}",
         "CPU seconds": f"{median([r['cpu'] for r in base]):.2f}",
         "peak memory": mb(median([r["peak_bytes"] for r in base])), "time vs baseline": "1.00×"},
        {"candidate": "Atelier join (read, plan, join, schema, quality, Parquet, catalogue)",
         "seconds": f"{o_s:.2f}", "CPU seconds": f"{median([r['cpu'] for r in ours]):.2f}",
         "peak memory": mb(median([r["peak_bytes"] for r in ours])), "time vs baseline": f"{o_s / b_s:.2f}×"},
    ]))
    print("\nTarget: time ≤ 1.5× (issue 12).")


if __name__ == "__main__":
    main()
