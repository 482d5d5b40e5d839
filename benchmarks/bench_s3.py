"""A CSV object on an S3 endpoint into the catalogue vs boto3 download + ``pd.read_csv`` + ``to_parquet``.

    python -m benchmarks.run s3 [--mb 300] [--repeat 3] [--quick]

The object (the 20-column CSV of :mod:`benchmarks.bench_import`, about ``--mb`` megabytes) is put
on moto's S3 server, run over real HTTP on loopback in this process.  Candidates, each in a fresh
process (wall time, CPU time, peak RSS), alternating, median of ``--repeat``:

* baseline: ``boto3`` ``download_file`` to a local file, ``pd.read_csv``, ``DataFrame.to_parquet``;
* Atelier: ``import_remote("s3://bucket/key")``: the object streamed to staging with byte progress,
  parsed block by block into the version's Parquet file (:mod:`core.data.streamed`), its schema and
  quality described from that file a column at a time, recorded in the catalogue.

Targets (issue 12): time ≤ 0.5× the baseline, peak memory ≤ 1.5× the object's size.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from benchmarks.bench_import import make_csv
from benchmarks.common import markdown_table, mb, median, run_timed, size_parser

BYTES_PER_ROW = 171  # of make_csv's rows, measured; only used to aim at --mb

# What a user would otherwise write: download the object, read it with pandas, write Parquet.
BASELINE = (
    "import os, boto3, pandas as pd",
    """
client = boto3.client("s3", endpoint_url=ENDPOINT, region_name="us-east-1")
client.download_file(BUCKET, KEY, LOCAL)
df = pd.read_csv(LOCAL)
df.to_parquet(OUT)
""",
    """
__result["rows"] = len(df)
__result["parquet_bytes"] = os.path.getsize(OUT)
""",
)

ATELIER = (
    """
from core.platform.config import Settings
from core.platform.workspace import Workspace
from core.data.remote import import_remote
ws = Workspace.open(Settings(home=HOME))
""",
    """
v = import_remote(ws, f"s3://{BUCKET}/{KEY}", "bench", options={"endpoint_url": ENDPOINT, "region": "us-east-1"})
""",
    """
__result["rows"] = v.n_rows
__result["parquet_bytes"] = v.size_bytes
""",
)


def main() -> None:
    parser = size_parser(0, 0)
    parser.add_argument("--mb", type=float, default=300.0, help="size of the CSV object in MB (--quick: 30)")
    args = parser.parse_args()
    if args.quick:
        args.mb, args.repeat = min(args.mb, 30.0), 1
    rows = int(args.mb * 2**20 / BYTES_PER_ROW)

    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    endpoint, bucket, key = f"http://{host}:{port}", "bench", "exports/big.csv"
    base, ours = [], []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            csv = Path(tmp) / "big.csv"
            make_csv(csv, rows)
            size = csv.stat().st_size
            client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
            client.create_bucket(Bucket=bucket)
            client.upload_file(str(csv), bucket, key)
            csv.unlink()
            env = {"AWS_ACCESS_KEY_ID": os.environ["AWS_ACCESS_KEY_ID"],
                   "AWS_SECRET_ACCESS_KEY": os.environ["AWS_SECRET_ACCESS_KEY"]}
            common = f"ENDPOINT={endpoint!r}; BUCKET={bucket!r}; KEY={key!r}\n"
            load_before = os.getloadavg()[0]
            for i in range(args.repeat):
                local, out = str(Path(tmp) / "dl.csv"), str(Path(tmp) / "b.parquet")
                setup, timed, after = BASELINE
                base.append(run_timed(common + f"LOCAL={local!r}; OUT={out!r}\n" + setup, timed, after,
                                      env=os.environ | env))
                Path(local).unlink(missing_ok=True)
                home = str(Path(tmp) / f"home{i}")
                setup, timed, after = ATELIER
                ours.append(run_timed(common + f"HOME={home!r}\n" + setup, timed, after, env=os.environ | env))
            load_after = os.getloadavg()[0]
    finally:
        server.stop()
    assert {r["rows"] for r in base} == {r["rows"] for r in ours} == {rows}, "the candidates disagree on the rows"
    b_s = median([r["seconds"] for r in base])

    def row(label: str, runs: list[dict]) -> dict:
        secs, peak = median([r["seconds"] for r in runs]), median([r["peak_bytes"] for r in runs])
        return {"candidate": label, "seconds": f"{secs:.2f}", "CPU seconds": f"{median([r['cpu'] for r in runs]):.2f}",
                "peak memory": mb(peak), "memory / object": f"{peak / size:.2f}×",
                "time vs baseline": f"{secs / b_s:.2f}×", "Parquet": mb(median([r["parquet_bytes"] for r in runs]))}

    print(f"\nA {mb(size)} CSV object ({rows:,} rows × 20 columns) on moto's S3 server into Parquet, median of "
          f"{args.repeat} ({os.cpu_count()} CPUs, load average {load_before:.1f} before, {load_after:.1f} after)\n")
    print(markdown_table([row("boto3 download + pd.read_csv + to_parquet (baseline)", base),
                          row("Atelier import from S3 into the catalogue", ours)]))
    print("\nTargets: time ≤ 0.5×, peak memory ≤ 1.5× the object (issue 12).")


if __name__ == "__main__":
    main()
