"""Importing a large CSV into the catalogue vs pandas.read_csv + to_parquet.

    python -m benchmarks.bench_import [--rows 2000000] [--repeat 3] [--steps]

Each candidate runs in a fresh process (wall time, CPU time of all its threads
and peak RSS measured there), median of ``--repeat`` runs, the two candidates
alternating so both see the same load.  The machine is shared: the load average
is printed, and CPU seconds say what the work costs when the wall clock is
disturbed.  ``--steps`` adds Atelier's time per step (from its progress
messages).  Also compares the bytes the Data page sends for the preview (first
100 rows, as Arrow IPC like st.dataframe) with the whole table.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv

from benchmarks.common import markdown_table, mb, median, parse_sized, run_measured, size_parser


def make_csv(path: Path, rows: int, seed: int = 0) -> None:
    """20 columns: 10 float, 3 int, 5 categorical, 2 datetime; written in blocks."""
    rng = np.random.default_rng(seed)
    block = 250_000
    cities = np.array(["Lisbon", "Porto", "Braga", "Faro", "Coimbra", "Évora", "Aveiro", "Viseu"])
    with pcsv.CSVWriter(path, _schema()) as writer:
        for start in range(0, rows, block):
            n = min(block, rows - start)
            cols = {f"num_{i}": rng.normal(100, 25, n).round(4) for i in range(10)}
            cols |= {f"int_{i}": rng.integers(0, 10_000, n) for i in range(3)}
            cols |= {f"cat_{i}": cities[rng.integers(0, len(cities), n)] for i in range(4)}
            cols["segment"] = np.array(["A", "B", "C"])[rng.integers(0, 3, n)]
            base = np.datetime64("2020-01-01T00:00:00")
            cols["created"] = base + rng.integers(0, 4 * 365 * 86400, n).astype("timedelta64[s]")
            cols["updated"] = base + rng.integers(0, 4 * 365 * 86400, n).astype("timedelta64[s]")
            writer.write_table(pa.table(cols, schema=_schema()))


def _schema() -> pa.Schema:
    fields = [pa.field(f"num_{i}", pa.float64()) for i in range(10)]
    fields += [pa.field(f"int_{i}", pa.int64()) for i in range(3)]
    fields += [pa.field(f"cat_{i}", pa.string()) for i in range(4)] + [pa.field("segment", pa.string())]
    fields += [pa.field("created", pa.timestamp("s")), pa.field("updated", pa.timestamp("s"))]
    return pa.schema(fields)


BASELINE = """
import os, time, pandas as pd
t, c = time.perf_counter(), time.process_time()
df = pd.read_csv(CSV)
df.to_parquet(OUT)
__result["seconds"] = time.perf_counter() - t
__result["cpu"] = time.process_time() - c
__result["parquet_bytes"] = os.path.getsize(OUT)
"""

ATELIER = """
import time
from pathlib import Path
from core.platform.config import Settings
from core.platform.workspace import Workspace
from core.data.ingest import import_file
ws = Workspace.open(Settings(home=HOME))
marks = []
def progress(fraction, message):
    step = message.split(" ")[0] if message.startswith("Read") else message
    if not marks or marks[-1][0] != step:
        marks.append((step, time.perf_counter()))
t, c = time.perf_counter(), time.process_time()
v = import_file(ws, Path(CSV), "bench", progress=progress)
end = time.perf_counter()
__result["seconds"] = end - t
__result["cpu"] = time.process_time() - c
__result["rows"] = v.n_rows
__result["parquet_bytes"] = v.size_bytes
__result["steps"] = [(step, round(b - a, 3)) for (step, a), (_s, b) in zip(marks, marks[1:] + [("end", end)])]
"""


def preview_bytes(csv: Path) -> tuple[int, int]:
    table = pcsv.read_csv(csv)
    def ipc(t: pa.Table) -> int:
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, t.schema) as w:
            w.write_table(t)
        return sink.getvalue().size
    return ipc(table.slice(0, 100)), ipc(table)


def main() -> None:
    parser = size_parser(2_000_000, 200_000)
    parser.add_argument("--steps", action="store_true", help="print Atelier's time per step for every run")
    args = parse_sized(parser)
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "big.csv"
        make_csv(csv, args.rows)
        size = csv.stat().st_size
        base, ours = [], []
        load_before = os.getloadavg()[0]
        for i in range(args.repeat):
            base.append(run_measured(f"CSV={str(csv)!r}; OUT={str(Path(tmp) / 'b.parquet')!r}\n" + BASELINE))
            ours.append(run_measured(f"CSV={str(csv)!r}; HOME={str(Path(tmp) / f'home{i}')!r}\n" + ATELIER))
        load_after = os.getloadavg()[0]
        small, whole = preview_bytes(csv)

    def summary(runs: list[dict]) -> tuple[float, float, float, float]:
        return tuple(median([r[k] for r in runs]) for k in ("seconds", "cpu", "peak_bytes", "parquet_bytes"))

    b_s, b_c, b_m, b_p = summary(base)
    o_s, o_c, o_m, o_p = summary(ours)
    print(f"\nImport of a {args.rows:,}-row × 20-column CSV ({mb(size)}), median of {args.repeat} "
          f"({os.cpu_count()} CPUs, load average {load_before:.1f} before, {load_after:.1f} after)\n")
    print(markdown_table([
        {"candidate": "pandas.read_csv + to_parquet (baseline)", "seconds": f"{b_s:.2f}", "CPU seconds": f"{b_c:.2f}",
         "peak memory": mb(b_m), "memory / CSV size": f"{b_m / size:.2f}×", "Parquet": mb(b_p),
         "time vs baseline": "1.00×"},
        {"candidate": "Atelier import (read, schema, quality, Parquet, catalogue)", "seconds": f"{o_s:.2f}",
         "CPU seconds": f"{o_c:.2f}", "peak memory": mb(o_m), "memory / CSV size": f"{o_m / size:.2f}×",
         "Parquet": mb(o_p), "time vs baseline": f"{o_s / b_s:.2f}×"},
    ]))
    if args.steps:
        print("\nAtelier, seconds per step (steps overlap: Parquet is written while columns are described):")
        for i, (b, r) in enumerate(zip(base, ours, strict=True), start=1):
            steps = ", ".join(f"{name} {secs:.2f}" for name, secs in r["steps"])
            print(f"  run {i}: baseline {b['seconds']:.2f} s, Atelier {r['seconds']:.2f} s = {steps}")
    print(f"\nPreview sent to the browser: {small:,} bytes vs the whole table {whole:,} bytes "
          f"({whole / small:,.0f}× fewer). Targets: time ≤ 0.40×, memory ≤ 2.5× the CSV, preview ≥ 20× fewer.")


if __name__ == "__main__":
    main()
