"""Scale-out on a two-worker Dask LocalCluster against the single-process paths, on the same data.

    python -m benchmarks.run dask [--score-rows 10000000] [--eda-rows 20000000] [--train-rows 10000000]
                                  [--part-rows 1000000] [--repeat 1] [--quick]

(1) Batch scoring ``--score-rows`` × 20 with a stored LightGBM pipeline: ``score_file`` over a folder of
    Parquet parts on the cluster (one task per ~``CHUNK_ROWS`` piece, the model scattered once) against
    the single-process chunked scorer ``predict_file`` on the same rows in one file (in a fresh process).
    Peak memory per worker is each worker process's own high-water mark (``VmHWM``), workers started fresh.
(2) EDA overview of ``--eda-rows`` × 20 stored in parts, workers limited to 3 GB each: the merged
    overview (``overview_by_partition``) against ``describe_dataset`` on a quarter of the rows in one
    process, scaled linearly to the same rows.
(3) LightGBM on ``--train-rows`` × 20: ``train_many_partitioned`` (``DaskLGBMClassifier`` on the parts)
    against ``load_frame`` + ``train_many`` in one process; test AUC of both and the time ratio.

Targets (issue 16): (1) ≤ 1.1× the single-process time, ≤ 1.5 GB per worker; (2) ≤ 1.5× the scaled time.
The data is generated part by part (``benchmarks.bench_jobs.make_frame``), so the parent never holds it
whole; disk use is about 160 MB per million rows for the three data sets together.

On a real multi-machine cluster (on paper; this machine has one host and two cores):

* Shared storage: workers read the version's parts and write output parts by path, so
  ``ATELIER_HOME`` (its artifact folder and ``staging/``) must be one shared filesystem (NFS, EFS)
  mounted at the same path everywhere.  With an S3 artifact store the parts must be readable from
  the workers too (today they read the client's verified local copies): the step to add is a
  worker-side fetch of ``s3://`` parts.
* Network: a 1M-row × 20 part is ~100 MB of Parquet (~160 MB in memory).  At 10 Gbit/s (~1.1 GB/s)
  reading it costs ~0.1 s against ~1-2 s of scoring per core, so scoring and the overview stay
  compute-bound; at 1 Gbit/s it is ~1 s per part, about even: keep parts at 0.5-1M rows (100-200 MB)
  and one worker thread per core with ~3x a part's memory per thread.  The model (~1 MB) and the
  overview's per-part results (kilobytes; the 100k-row quartile sample ~16 MB in all) are small.
* LightGBM data-parallel exchanges histograms each split: ~20 features × 255 bins × 16 B ≈ 80 KB per
  split, ~31 splits per tree: ~2.5 MB per tree per worker, ~500 MB for 200 trees (~5 s at 1 Gbit/s,
  ~0.5 s at 10 Gbit/s) plus ~6,000 round trips (~1 s at 0.2 ms).  Its worker-to-worker ports are
  picked free on each worker (``machines=``); firewalls must let workers reach each other on the
  ephemeral port range.  XGBoost uses its own tracker on the scheduler host (same rule).
* Partition balance: scoring and training cut inputs into pieces of whole row groups of at most
  ``CHUNK_ROWS``/``PIECE_ROWS`` rows, the CSV import into byte ranges, so no task holds much more
  than one part; LightGBM trains on the workers holding data, so persist spreads parts across them.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import types
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from benchmarks.bench_jobs import make_frame
from benchmarks.common import markdown_table, mb, median, run_timed

SINGLE_SCORE = (  # run_timed's setup, timed part and after
    """
from pathlib import Path
from core.platform.config import Settings
from core.platform.workspace import Workspace
from core.serve.batch import predict_file
from core.serve.loaded import load_model
ws = Workspace.open(Settings(home=HOME))
model = load_model(ws, MODEL)
""",
    "run = predict_file(ws, model, Path(INPUT))",
    '__result["rows"] = run.n_rows',
)

SINGLE_EDA = (
    "import pandas as pd\nfrom core.eda.overview import describe_dataset",
    "describe_dataset(pd.concat([pd.read_parquet(p) for p in FILES], ignore_index=True))",
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--score-rows", type=int, default=10_000_000)
    parser.add_argument("--eda-rows", type=int, default=20_000_000)
    parser.add_argument("--train-rows", type=int, default=10_000_000)
    parser.add_argument("--part-rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs per candidate; the median is reported")
    parser.add_argument("--only", choices=["score", "eda", "train"], action="append")
    parser.add_argument("--quick", action="store_true", help="200k / 400k / 200k rows in parts of 100k, one run")
    return parser


def _write_parts(folder: Path, rows: int, part_rows: int, seed: int, *, target: bool) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i, start in enumerate(range(0, rows, part_rows)):
        frame = make_frame(min(part_rows, rows - start), seed=seed * 10_000 + i)
        if not target:
            frame = frame.drop(columns=["y"])
        path = folder / f"part-{i:05d}.parquet"
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, row_group_size=100_000)
        files.append(path)
    return files


def _joined(files: list[Path], path: Path) -> Path:
    """The parts as one Parquet file, streamed part by part (the single-process candidates' input)."""
    with pq.ParquetWriter(path, pq.read_schema(files[0])) as writer:
        for f in files:
            writer.write_table(pq.read_table(f), row_group_size=100_000)
    return path


@contextmanager
def _cluster(memory_limit: str | None = None):
    from distributed import Client, LocalCluster

    saved = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")  # spawned workers must not re-run this script
    try:
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                               memory_limit=memory_limit or "auto")
    finally:
        sys.modules["__main__"] = saved
    with cluster, Client(cluster.scheduler_address, set_as_default=False) as client:
        yield client


def _worker_peaks(client) -> list[int]:
    def peak() -> int:
        import re

        with open("/proc/self/status") as status:
            return int(re.search(r"VmHWM:\s+(\d+)", status.read()).group(1)) * 1024

    return sorted(client.run(peak).values())


def bench_score(args, tmp: Path) -> list[dict]:
    from core.data.datasets import save_version
    from core.ml.config import SplitConfig, TrainConfig
    from core.models.training import train_version
    from core.platform.compute import DaskExecutor
    from core.platform.config import Settings
    from core.platform.workspace import Workspace
    from core.serve.batch_dask import score_file
    from core.serve.loaded import load_model

    home = tmp / "home"
    ws = Workspace.open(Settings(home=home))
    version = save_version(ws, "bench", make_frame(50_000), provenance={"source": "benchmark"}, roles={"y": "target"})
    [row] = train_version(ws, version, TrainConfig(target="y", explain=False, split=SplitConfig(kind="random")),
                          ["lightgbm"])
    files = _write_parts(tmp / "score-parts", args.score_rows, args.part_rows, 1, target=False)
    single_input = _joined(files, tmp / "score.parquet")
    header = f"HOME={str(home)!r}; MODEL={row['model']!r}; INPUT={str(single_input)!r}\n"
    setup, timed, after = SINGLE_SCORE
    run_timed(header + setup, timed, after)  # builds the model's compiled trees once, as a first real run would
    single = [run_timed(header + setup, timed, after) for _ in range(args.repeat)]
    single_input.unlink()
    model = load_model(ws, row["model"])
    spread, peaks = [], []
    for _ in range(args.repeat):
        with _cluster() as client:
            executor = DaskExecutor(client)
            score_file(ws, model, files[0], executor=executor)  # warm: the workers import and load the model
            started = time.perf_counter()
            run = score_file(ws, model, tmp / "score-parts", executor=executor)
            spread.append(time.perf_counter() - started)
            peaks.append(max(_worker_peaks(client)))
    ws.db.dispose()
    s, d = median([r["seconds"] for r in single]), median(spread)
    return [
        {"benchmark": f"(1) batch scoring {args.score_rows:,} × 20, LightGBM",
         "candidate": "predict_file, one process", "seconds": f"{s:.1f}", "ratio": "1.00×",
         "memory": mb(median([r["peak_bytes"] for r in single])) + " (process)"},
        {"benchmark": "", "candidate": f"score_file on 2 workers ({run.summary['partitions']} partitions)",
         "seconds": f"{d:.1f}", "ratio": f"{d / s:.2f}× (target ≤ 1.1×)",
         "memory": mb(median(peaks)) + " per worker (target ≤ 1.5 GB)"},
    ]


def bench_eda(args, tmp: Path) -> list[dict]:
    from core.eda.overview_parts import overview_by_partition
    from core.platform.compute import DaskExecutor

    files = _write_parts(tmp / "eda-parts", args.eda_rows, args.part_rows, 2, target=True)
    quarter = files[: max(1, len(files) // 4)]
    quarter_rows = sum(pq.ParquetFile(f).metadata.num_rows for f in quarter)
    single = [run_timed(f"FILES={[str(f) for f in quarter]!r}\n" + SINGLE_EDA[0], SINGLE_EDA[1])
              for _ in range(args.repeat)]
    spread, peaks = [], []
    for _ in range(args.repeat):
        with _cluster("3GB") as client:
            overview_by_partition(files[:1], DaskExecutor(client))  # warm: the workers import their modules
            started = time.perf_counter()
            merged = overview_by_partition(files, DaskExecutor(client))
            spread.append(time.perf_counter() - started)
            peaks.append(max(_worker_peaks(client)))
    scale = args.eda_rows / quarter_rows
    s, d = median([r["seconds"] for r in single]), median(spread)
    return [
        {"benchmark": f"(2) EDA overview {args.eda_rows:,} × 20", "candidate":
            f"describe_dataset on {quarter_rows:,} rows, one process, ×{scale:.0f} (linear)",
         "seconds": f"{s * scale:.1f} ({s:.1f} measured)", "ratio": "1.00×",
         "memory": mb(median([r["peak_bytes"] for r in single])) + f" (process, {quarter_rows:,} rows)"},
        {"benchmark": "", "candidate": f"overview_by_partition on 2 workers of 3 GB ({merged.pieces} pieces)",
         "seconds": f"{d:.1f}", "ratio": f"{d / (s * scale):.2f}× (target ≤ 1.5×)",
         "memory": mb(median(peaks)) + " per worker"},
    ]


def bench_train(args, tmp: Path) -> list[dict]:
    import pandas as pd

    from core.ml.config import TrainConfig
    from core.ml.train import train_many
    from core.ml.train_dask import train_many_partitioned
    from core.platform.compute import DaskExecutor

    files = _write_parts(tmp / "train-parts", args.train_rows, args.part_rows, 3, target=True)
    config = TrainConfig(target="y", explain=False)
    started = time.perf_counter()
    frame = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    [single] = train_many(frame, config, ["lightgbm"])
    single_seconds = time.perf_counter() - started
    del frame
    with _cluster() as client:
        client.run(lambda: __import__("core.ml.train_dask") and __import__("lightgbm"))  # warm: imports
        started = time.perf_counter()
        [spread] = train_many_partitioned(files, DaskExecutor(client), config, ["lightgbm"])
        spread_seconds = time.perf_counter() - started
        peak = max(_worker_peaks(client))
    assert spread.ok, spread.error
    delta = spread.metrics["roc_auc"] - single.metrics["roc_auc"]
    return [
        {"benchmark": f"(3) LightGBM {args.train_rows:,} × 20", "candidate": "read + train_many, one process",
         "seconds": f"{single_seconds:.1f} (fit {single.timings['train_seconds']:.1f})", "ratio": "1.00×",
         "memory": f"AUC {single.metrics['roc_auc']:.4f} on {single.split['n_test']:,} test rows"},
        {"benchmark": "", "candidate": "train_many_partitioned, DaskLGBMClassifier on 2 workers",
         # fit: reading the parts into worker memory and the Dask fit; survey: the sampling pass before it
         "seconds": f"{spread_seconds:.1f} (fit {spread.timings['train_seconds']:.1f}, survey "
                    f"{spread_seconds - spread.timings['total_seconds']:.1f})",
         "ratio": f"{spread_seconds / single_seconds:.2f}×",
         "memory": f"AUC {spread.metrics['roc_auc']:.4f} (Δ {delta:+.4f}) on {spread.split['n_evaluated']:,} "
                   f"test rows; {mb(peak)} per worker"},
    ]


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.quick:
        args.score_rows, args.eda_rows, args.train_rows, args.part_rows, args.repeat = (
            200_000, 400_000, 200_000, 100_000, 1)
    chosen = args.only or ["score", "eda", "train"]
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        for name, bench in (("score", bench_score), ("eda", bench_eda), ("train", bench_train)):
            if name in chosen:
                rows += bench(args, Path(tmp))
                print(markdown_table(rows[-2:]), flush=True)
    print(f"\nTwo-worker LocalCluster (1 thread each), parts of {args.part_rows:,} rows, median of {args.repeat}\n")
    print(markdown_table(rows))


if __name__ == "__main__":
    main()
