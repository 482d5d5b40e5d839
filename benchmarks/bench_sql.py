"""A PostgreSQL table into the catalogue vs ``pd.read_sql`` + ``to_parquet``.

    python -m benchmarks.run sql [--rows 1000000] [--repeat 3] [--quick]

A ``rows`` × 20 table (10 doubles, 3 integers one of them with nulls, 1 NUMERIC(12, 2), 4 texts,
2 timestamps with a zone) is created in a scratch database on the PostgreSQL server
(``ATELIER_BENCH_PG_URL``, default ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``).
Candidates, each in a fresh process (wall time, CPU time, peak RSS), alternating, median of
``--repeat``:

* baseline: ``pd.read_sql("SELECT * FROM t", engine)`` then ``DataFrame.to_parquet``;
* Atelier, the default reader (ADBC Arrow batches when ``adbc-driver-postgresql`` is installed):
  read-only transaction, row count, batches spooled to disk, then the version saved (schema,
  quality, Parquet, catalogue);
* Atelier with ``reader=rows`` (SQLAlchemy server-side cursor), for reference.

Targets (issue 12): time ≤ 0.35× and peak memory ≤ 0.5× the baseline.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

from benchmarks.common import markdown_table, mb, median, parse_sized, run_timed, size_parser

ADMIN_URL = os.environ.get("ATELIER_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")

CREATE = """
CREATE TABLE bench AS SELECT
  g AS id, (g::bigint * 7919) % 100000 AS grp, CASE WHEN g % 10 = 0 THEN NULL ELSE g % 1000 END AS qty,
  random() AS f0, random() AS f1, random() AS f2, random() AS f3, random() AS f4,
  random() * 100 AS f5, random() * 100 AS f6, random() * 100 AS f7, random() * 100 AS f8, random() * 100 AS f9,
  round((random() * 10000)::numeric, 2)::numeric(12, 2) AS amount,
  'customer ' || (g % 5000) AS customer, (ARRAY['north', 'south', 'east', 'west'])[1 + g % 4] AS region,
  md5(g::text) AS token, CASE WHEN g % 3 = 0 THEN 'yes' ELSE 'no' END AS flag,
  TIMESTAMPTZ '2024-01-01 00:00+00' + g * INTERVAL '1 minute' AS created,
  TIMESTAMPTZ '2024-06-01 00:00+00' + g * INTERVAL '37 seconds' AS updated
FROM generate_series(1, :rows) g
"""

BASELINE = (
    """
import os, pandas as pd
from sqlalchemy import create_engine, text
""",
    """
engine = create_engine(URL)
df = pd.read_sql(text("SELECT * FROM bench"), engine)
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
v = import_remote(ws, "sql:" + URL, "bench", options={"table": "bench", "reader": READER})
""",
    """
__result["rows"] = v.n_rows
__result["parquet_bytes"] = v.size_bytes
__result["reader"] = v.provenance["reader"]
""",
)


def _scratch_database(rows: int) -> tuple[str, str]:
    from sqlalchemy import create_engine, text

    name = f"atelier_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(text(CREATE), {"rows": rows})
        c.execute(text("ANALYZE bench"))
    engine.dispose()
    return name, url


def _drop(name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    args = parse_sized(size_parser(1_000_000, 100_000))
    name, url = _scratch_database(args.rows)
    runs: dict[str, list[dict]] = {"base": [], "auto": [], "rows": []}
    load_before = os.getloadavg()[0]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(args.repeat):
                setup, timed, after = BASELINE
                out = str(Path(tmp) / "b.parquet")
                runs["base"].append(run_timed(f"URL={url!r}; OUT={out!r}\n" + setup, timed, after))
                for reader in ("auto", "rows"):
                    home = str(Path(tmp) / f"home-{reader}-{i}")
                    setup, timed, after = ATELIER
                    runs[reader].append(run_timed(f"URL={url!r}; HOME={home!r}; READER={reader!r}\n" + setup,
                                                  timed, after))
    finally:
        _drop(name)
    load_after = os.getloadavg()[0]
    assert {r["rows"] for rs in runs.values() for r in rs} == {args.rows}, "a candidate lost rows"

    def row(label: str, key: str) -> dict:
        rs = runs[key]
        secs, peak = median([r["seconds"] for r in rs]), median([r["peak_bytes"] for r in rs])
        b_secs, b_peak = median([r["seconds"] for r in runs["base"]]), median([r["peak_bytes"] for r in runs["base"]])
        return {"candidate": label, "seconds": f"{secs:.2f}", "CPU seconds": f"{median([r['cpu'] for r in rs]):.2f}",
                "peak memory": mb(peak), "time vs baseline": f"{secs / b_secs:.2f}×",
                "memory vs baseline": f"{peak / b_peak:.2f}×", "Parquet": mb(median([r["parquet_bytes"] for r in rs]))}

    auto_reader = runs["auto"][0]["reader"]
    print(f"\nPostgreSQL table of {args.rows:,} rows × 20 columns into Parquet, median of {args.repeat} "
          f"({os.cpu_count()} CPUs, load average {load_before:.1f} before, {load_after:.1f} after)\n")
    print(markdown_table([
        row("pd.read_sql + to_parquet (baseline)", "base"),
        row(f"Atelier import, default reader ({auto_reader}), into the catalogue", "auto"),
        row("Atelier import, reader=rows (SQLAlchemy), into the catalogue", "rows"),
    ]))
    print("\nTargets: time ≤ 0.35×, peak memory ≤ 0.5× (issue 12).")


if __name__ == "__main__":
    main()
