"""Batch and one-row prediction with a stored LightGBM pipeline.

    python -m benchmarks.bench_predict [--rows 1000000] [--repeat 3] [--quick]

(1) Batch: a Parquet file of ``--rows`` rows × 20 columns scored end to end by Atelier
    (read, validate, predict, write, record the run) against the baseline
    ``pipeline.predict(pd.read_parquet(path))`` + ``to_parquet``; each candidate in a fresh
    process (time and its own peak RSS measured there), median of ``--repeat``.  Atelier scores a big
    LightGBM batch through the model's trees compiled to C, built once per model version and
    cached: its first run (which builds them) is shown on its own row, as is a run with
    LightGBM's own predictor (what a machine without treelite, tl2cgen or gcc gets).
(2) One row: ``core.serve.one_row.predict_one`` (validation included) p50 / p95 over 200 calls,
    with and without the SHAP explanation the form shows.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.bench_jobs import make_frame
from benchmarks.common import markdown_table, mb, median, parse_sized, run_measured, size_parser
from core.data.datasets import save_version
from core.ml.config import SplitConfig, TrainConfig
from core.models.training import train_version
from core.platform.config import Settings
from core.platform.workspace import Workspace
from core.serve.loaded import load_model
from core.serve.one_row import predict_one

BASELINE = """
import time, pandas as pd
from core.platform.config import Settings
from core.platform.workspace import Workspace
from core.serve.loaded import load_model
ws = Workspace.open(Settings(home=HOME))
pipeline = load_model(ws, MODEL).pipeline
t = time.perf_counter()
frame = pd.read_parquet(INPUT)
out = pd.DataFrame({"prediction": pipeline.predict(frame)})
out.to_parquet(OUTPUT)
__result["seconds"] = time.perf_counter() - t
"""

ATELIER = """
import time
from pathlib import Path
from core.platform.config import Settings
from core.platform.workspace import Workspace
from core.serve import compiled_trees
from core.serve.batch import predict_file
from core.serve.loaded import load_model
if not COMPILE:
    compiled_trees.available = lambda: False
ws = Workspace.open(Settings(home=HOME))
model = load_model(ws, MODEL)
t = time.perf_counter()
run = predict_file(ws, model, Path(INPUT))
__result["seconds"] = time.perf_counter() - t
__result["rows"] = run.n_rows
__result["compiled"] = bool(compiled_trees._LOADED)
"""

# The same run with each step's own time: wrapped where predict_file calls it.  A chunked step
# (reading) is timed inside each ``next``; nested steps are not subtracted from their callers.
STAGED = ATELIER.replace("t = time.perf_counter()\nrun = predict_file", """
import collections, pyarrow.parquet as pq
from core.data.sources import input_chunks
from core.serve import batch, prediction_runs, scoring
spent = collections.defaultdict(float)
def timed(owner, name, stage):
    real = getattr(owner, name)
    def wrapper(*args, **kwargs):
        s = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            spent[stage] += time.perf_counter() - s
    setattr(owner, name, wrapper)
real_chunks = input_chunks.InputFile.chunks
def chunks(self, *args, **kwargs):
    it = real_chunks(self, *args, **kwargs)
    while True:
        s = time.perf_counter()
        try:
            item = next(it)
        except StopIteration:
            spent["read the input (chunks)"] += time.perf_counter() - s
            return
        spent["read the input (chunks)"] += time.perf_counter() - s
        yield item
input_chunks.InputFile.chunks = chunks
timed(batch, "_trees", "compiled trees (load or build)")
timed(batch, "validate_and_coerce", "validate and convert")
timed(scoring.Scorer, "score", "predict (model input + trees)")
timed(batch, "output_table", "output columns")
timed(pq.ParquetWriter, "write_table", "write Parquet")
timed(batch._DriftSample, "add", "drift sample")
timed(batch._DriftSample, "report", "drift report")
timed(batch._Tally, "add", "summary tally")
timed(type(ws), "put_file", "store the output")
timed(prediction_runs, "record", "record the run")
t = time.perf_counter()
run = predict_file""").replace('__result["rows"] = run.n_rows',
                              '__result["rows"] = run.n_rows\n__result["stages"] = dict(spent)')


def main() -> None:
    parser = size_parser(1_000_000, 100_000)
    args = parse_sized(parser)
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        ws = Workspace.open(Settings(home=home))
        version = save_version(ws, "bench", make_frame(50_000), provenance={"source": "benchmark"},
                               roles={"y": "target"})
        [row] = train_version(ws, version, TrainConfig(target="y", explain=False, split=SplitConfig(kind="random")),
                              ["lightgbm"])
        model_ref = row["model"]
        source = Path(tmp) / "batch.parquet"
        make_frame(args.rows, seed=1).drop(columns=["y"]).to_parquet(source)
        output = Path(tmp) / "o.parquet"
        header = f"HOME={str(home)!r}; MODEL={model_ref!r}; INPUT={str(source)!r}; OUTPUT={str(output)!r}\n"
        base = [run_measured(header + BASELINE) for _ in range(args.repeat)]
        first = run_measured(header + "COMPILE = True\n" + ATELIER)  # builds the trees (big batches)
        ours = [run_measured(header + "COMPILE = True\n" + ATELIER) for _ in range(args.repeat)]
        plain = [run_measured(header + "COMPILE = False\n" + ATELIER) for _ in range(args.repeat)]
        staged = run_measured(header + "COMPILE = True\n" + STAGED)

        model = load_model(ws, model_ref)
        row_values = make_frame(1, seed=2).drop(columns=["y"]).iloc[0].to_dict()
        timings = {}
        for explain in (False, True):
            predict_one(model, row_values, explain=explain)  # warm caches
            samples = []
            for _ in range(200):
                started = time.perf_counter()
                predict_one(model, row_values, explain=explain)
                samples.append((time.perf_counter() - started) * 1000)
            timings[explain] = (statistics.median(samples), statistics.quantiles(samples, n=20)[18])
    b_s, b_m = median([r["seconds"] for r in base]), median([r["peak_bytes"] for r in base])

    def row(name: str, runs: list[dict]) -> dict:
        seconds, peak = median([r["seconds"] for r in runs]), median([r["peak_bytes"] for r in runs])
        return {"candidate": name, "seconds": f"{seconds:.2f}", "peak memory": mb(peak),
                "time vs baseline": f"{seconds / b_s:.2f}×", "memory vs baseline": f"{peak / b_m:.2f}×"}

    trees = "compiled trees" if all(r["compiled"] for r in ours) else \
        "LightGBM's predictor: too few rows to compile, or no compiler"
    print(f"\n(1) Batch scoring {args.rows:,} rows × 20 columns with a stored LightGBM pipeline, "
          f"median of {args.repeat}\n")
    print(markdown_table([
        {"candidate": "pipeline.predict(pd.read_parquet) + to_parquet (baseline)", "seconds": f"{b_s:.2f}",
         "peak memory": mb(b_m), "time vs baseline": "1.00×", "memory vs baseline": "1.00×"},
        row(f"Atelier predict_file (read, validate, predict, write, record; {trees})", ours),
        row("Atelier predict_file, first run of the model version, 1 run" +
            (" (builds its compiled trees)" if first["compiled"] else ""), [first]),
        row("Atelier predict_file with LightGBM's own predictor (no compiled trees)", plain),
    ]))
    print("\nTargets: ≤ 0.5× the baseline's time and ≤ 0.5× its peak memory (second row).\n")
    print(f"Where a compiled-trees run's {staged['seconds']:.2f} s go (one more run, each step timed where "
          "predict_file calls it):\n")
    print(markdown_table([{"stage": name, "seconds": f"{value:.2f}", "share": f"{value / staged['seconds']:.0%}"}
                          for name, value in sorted(staged["stages"].items(), key=lambda kv: -kv[1])]))
    print()
    print("(2) One-row prediction through core.serve.one_row.predict_one (validation included), 200 calls\n")
    print(markdown_table([
        {"call": "predict_one, no explanation", "p50 ms": f"{timings[False][0]:.1f}",
         "p95 ms": f"{timings[False][1]:.1f}"},
        {"call": "predict_one with the SHAP waterfall", "p50 ms": f"{timings[True][0]:.1f}",
         "p95 ms": f"{timings[True][1]:.1f}"},
    ]))
    print("\nTarget: p50 ≤ 20 ms.")


if __name__ == "__main__":
    main()
