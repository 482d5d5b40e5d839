"""Joining two catalogue versions vs pandas reading the same Parquet files, merging and writing.

    python -m benchmarks.bench_join [--rows 1000000] [--repeat 3] [--quick]

A ``rows`` × 10 table joins a ``rows / 10`` × 5 table on one integer key (every right key unique,
so the result has as many rows as matched left rows).  Both tables are saved as catalogue versions
first, outside the clock.  Atelier's time covers reading both versions, planning (key counts, the
many-to-many check), joining in left order and saving the new version (schema, quality, Parquet,
catalogue); the baseline's covers what a user would otherwise do with the same data:
``pd.read_parquet`` of the same two version files, ``pd.merge`` and ``to_parquet``.  ``pd.merge``
alone (frames already loaded) is shown too.  Each candidate runs in a fresh process; median of
``--repeat``.  Target ≤ 1.5× (issue 12).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from benchmarks.common import markdown_table, mb, median, parse_sized, run_timed, size_parser

SETUP = """
import numpy as np, pandas as pd
from core.platform.config import Settings
from core.platform.workspace import Workspace
from core.data import datasets
rng = np.random.default_rng(0)
n, m = ROWS, max(1, ROWS // 10)
left = pd.DataFrame({"key": rng.integers(0, m * 2, n)} | {f"x{i}": rng.normal(size=n) for i in range(8)}
                    | {"cat": np.array(["a", "b", "c"])[rng.integers(0, 3, n)]})
right = pd.DataFrame({"key": rng.permutation(m * 2)[:m]} | {f"r{i}": rng.normal(size=m) for i in range(3)}
                     | {"label": np.array(["p", "q"])[rng.integers(0, 2, m)]})
ws = Workspace.open(Settings(home=HOME))
a = datasets.save_version(ws, "left", left, provenance={"source": "bench"})
b = datasets.save_version(ws, "right", right, provenance={"source": "bench"})
del left, right
"""

BASELINE = (SETUP + """
import time
files = [datasets.parquet_path(ws, v) for v in (a, b)]
""", """
left, right = pd.read_parquet(files[0]), pd.read_parquet(files[1])
merge_started = time.perf_counter()
out = left.merge(right, on="key", how="inner")
merge_seconds = time.perf_counter() - merge_started
out.to_parquet(OUT)
""", """
__result["merge_seconds"] = merge_seconds
__result["rows"] = len(out)
""")

ATELIER = (SETUP + """
from core.data.transform import join_versions
""", """
v = join_versions(ws, a, b, ["key"], "joined")
""", """
__result["rows"] = v.n_rows
""")


def main() -> None:
    args = parse_sized(size_parser(1_000_000, 100_000))
    base, ours = [], []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.repeat):
            head = f"ROWS={args.rows}; OUT={str(Path(tmp) / 'out.parquet')!r}; HOME={str(Path(tmp) / f'base{i}')!r}\n"
            base.append(run_timed(head + BASELINE[0], *BASELINE[1:]))
            head = f"ROWS={args.rows}; HOME={str(Path(tmp) / f'home{i}')!r}\n"
            ours.append(run_timed(head + ATELIER[0], *ATELIER[1:]))
    assert {r["rows"] for r in base} == {r["rows"] for r in ours}, "the candidates disagree on the row count"
    b_s, o_s = median([r["seconds"] for r in base]), median([r["seconds"] for r in ours])
    print(f"\nJoin of {args.rows:,} × 10 with {max(1, args.rows // 10):,} × 5 on one key → {ours[0]['rows']:,} rows, "
          f"median of {args.repeat} ({os.cpu_count()} CPUs, load average {load_before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after)\n")
    m_s = median([r["merge_seconds"] for r in base])
    print(markdown_table([
        {"candidate": "pd.merge alone, frames already loaded (for reference)", "seconds": f"{m_s:.2f}",
         "CPU seconds": "", "peak memory": "", "time vs baseline": f"{m_s / b_s:.2f}×"},
        {"candidate": "pd.read_parquet of both versions + pd.merge + to_parquet (baseline)", "seconds": f"{b_s:.2f}",
         "CPU seconds": f"{median([r['cpu'] for r in base]):.2f}",
         "peak memory": mb(median([r["peak_bytes"] for r in base])), "time vs baseline": "1.00×"},
        {"candidate": "Atelier join (read, plan, join, schema, quality, Parquet, catalogue)",
         "seconds": f"{o_s:.2f}", "CPU seconds": f"{median([r['cpu'] for r in ours]):.2f}",
         "peak memory": mb(median([r["peak_bytes"] for r in ours])), "time vs baseline": f"{o_s / b_s:.2f}×"},
    ]))
    print("\nTarget: time ≤ 1.5× (issue 12).")


if __name__ == "__main__":
    main()
