"""Importing a large CSV on the cluster: byte ranges parsed in parallel, stored as a partitioned version.

The file is cut at line ends into ranges of about :data:`RANGE_BYTES`; each range is one task of a
cluster executor (:mod:`core.platform.compute`): the worker parses it with pyarrow (one thread,
the options :func:`~core.data.sources.files.read_table` would use) and writes it as one Parquet
part into a staging folder under ``ATELIER_HOME`` (shared with the workers, as the cluster's jobs
already require).  Column types are inferred per range and then unified (whole numbers and
decimals become decimals, a column of text anywhere becomes text); ranges whose types differ are
parsed again with the unified types, so every part has the same schema and no value was read
with a wrong type.  The schema, roles and quality report are computed from a uniform row sample of
about :data:`SAMPLE_ROWS` rows (said in the version's provenance).  The parts and their manifest
are stored only when every range is in, and the version recorded last: a failed range, a cancel
or a lost worker leaves no version and no stored part.

Cutting at line ends needs rows without line breaks inside quoted values; a file that has them
fails with a message pointing at the single-process import (which handles them).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from core.data import datasets
from core.data.datasets import VersionInfo
from core.data.partitioned import store_parts
from core.data.quality import quality_report_json
from core.data.schema import infer_schema_json, suggest_roles, validate_roles
from core.data.sources.csvfile import NULL_VALUES
from core.data.sources.files import _finish, _resolve
from core.platform.compute import Executor, TaskFailed
from core.platform.errors import AtelierError, InvalidInputError
from core.platform.progress import ProgressFn
from core.platform.workspace import Workspace

__all__ = ["CLUSTER_FROM_BYTES", "RANGE_BYTES", "SAMPLE_ROWS", "import_csv_partitioned", "wants_partitioned_import"]

RANGE_BYTES = 128 * 2**20  # one task's share of the file: ~1-2 M rows of a 20-column numeric table
CLUSTER_FROM_BYTES = 512 * 2**20  # with a cluster set, CSVs this big import by range
SAMPLE_ROWS = 200_000


def wants_partitioned_import(path: Path, executor: Executor, choice: bool | None) -> bool:
    """``choice`` (the ``partitioned`` import option) if given, else: a cluster and a big CSV or TSV."""
    if choice is False or not executor.distributed:
        if choice:
            raise InvalidInputError("A partitioned import needs a Dask cluster, and none is set.",
                                    hint="Set ATELIER_DASK_SCHEDULER, or import without the partitioned option.")
        return False
    csv = Path(path).suffix.lower() in (".csv", ".tsv", ".txt")
    return bool(choice) and csv or csv and Path(path).stat().st_size >= CLUSTER_FROM_BYTES


@dataclass(frozen=True)
class _Range:
    index: int
    start: int
    end: int


@dataclass(frozen=True)
class _Shared:
    path: str
    names: list[str]
    delimiter: str
    encoding: str
    keep: float  # share of rows sampled for schema and quality
    out_dir: str
    detection: Any
    rename: bool


def _ranges(path: Path, body_start: int, size: int, range_bytes: int) -> list[_Range]:
    cuts = [body_start]
    with open(path, "rb") as f:
        while cuts[-1] + range_bytes < size:
            f.seek(cuts[-1] + range_bytes)
            f.readline()  # to the end of the line the cut fell in
            if f.tell() >= size:
                break
            cuts.append(f.tell())
    cuts.append(size)
    return [_Range(i, a, b) for i, (a, b) in enumerate(zip(cuts, cuts[1:], strict=False)) if b > a]


def _parse(spec: _Range, shared: _Shared, types: pa.Schema | None) -> pa.Table:
    with open(shared.path, "rb") as f:
        f.seek(spec.start)
        data = f.read(spec.end - spec.start)
    read = pacsv.ReadOptions(column_names=shared.names, encoding=shared.encoding, use_threads=False)
    parse = pacsv.ParseOptions(delimiter=shared.delimiter, newlines_in_values=False)
    convert = pacsv.ConvertOptions(null_values=NULL_VALUES, strings_can_be_null=True,
                                   column_types=types if types is not None else None)
    try:
        table = pacsv.read_csv(pa.BufferReader(data), read_options=read, parse_options=parse, convert_options=convert)
    except pa.ArrowInvalid as exc:
        raise InvalidInputError(
            f"Bytes {spec.start:,}–{spec.end:,} of {Path(shared.path).name} could not be read: {exc}",
            hint="A quoted value with a line break inside cannot be split across workers: import the file "
                 "without the cluster (unset ATELIER_DASK_SCHEDULER, or set the option partitioned=false).",
        ) from exc
    if table.num_rows == 0:  # a range of blank lines: nothing in it, and nothing wrong with it
        return table.rename_columns(_finish_names(table, shared))
    return _finish(table, shared.detection, shared.rename, [])


def _finish_names(table: pa.Table, shared: _Shared) -> list[str]:
    probe = pa.table({n: pa.array([None]) for n in table.column_names})
    return _finish(probe, shared.detection, shared.rename, []).column_names


def _write(spec: _Range, shared: _Shared, table: pa.Table) -> str:
    out = str(Path(shared.out_dir) / f"part-{spec.index:05d}.parquet")
    pq.write_table(table, out, compression=datasets._PARQUET_COMPRESSION, row_group_size=datasets._ROW_GROUP_ROWS,
                   use_dictionary=datasets._dictionary_columns(table))
    return out


def _first_pass(spec: _Range, shared: _Shared) -> dict[str, Any]:
    """One task: parse a range with inferred types, write its part, return its schema, rows and a row sample."""
    table = _parse(spec, shared, None)
    keep = np.random.default_rng([spec.index, 7]).random(table.num_rows) < shared.keep
    return {"out": _write(spec, shared, table), "rows": table.num_rows, "schema": table.schema,
            "sample": table.filter(pa.array(keep))}


def _second_pass(item: tuple[_Range, pa.Schema], shared: _Shared) -> dict[str, Any]:
    """One task: parse a range again with the unified types (its own inference differed) and rewrite its part."""
    spec, unified = item
    table = _parse(spec, shared, unified)
    keep = np.random.default_rng([spec.index, 7]).random(table.num_rows) < shared.keep
    return {"out": _write(spec, shared, table), "rows": table.num_rows, "schema": table.schema,
            "sample": table.filter(pa.array(keep))}


def _unified_type(types: list[pa.DataType]) -> pa.DataType:
    seen = [t for t in dict.fromkeys(types) if not pa.types.is_null(t)]
    if not seen:
        return pa.null()
    if len(seen) == 1:
        return seen[0]
    if all(pa.types.is_integer(t) or pa.types.is_floating(t) for t in seen):
        return pa.float64() if any(pa.types.is_floating(t) for t in seen) else pa.int64()
    if all(pa.types.is_timestamp(t) for t in seen):
        return pa.timestamp("ns")
    return pa.string()


def _unify(schemas: list[pa.Schema]) -> pa.Schema:
    names = schemas[0].names
    return pa.schema([pa.field(n, _unified_type([s.field(n).type for s in schemas])) for n in names])


def import_csv_partitioned(
    ws: Workspace,
    path: Path,
    name: str,
    executor: Executor,
    *,
    options: Mapping[str, Any] | None = None,
    if_exists: str = "error",
    original_name: str | None = None,
    progress: ProgressFn | None = None,
    check_cancelled=None,
    range_bytes: int = RANGE_BYTES,
) -> VersionInfo:
    """Import the CSV at ``path`` as a partitioned version of ``name``, its ranges parsed on ``executor``."""
    report = progress or (lambda _f, _m: None)
    path = Path(path)
    name = datasets.validate_name(name)
    datasets._check_name_free(ws, name, if_exists)
    det, _explicit, rename = _resolve(path, dict(options or {}), None, False)
    if det.format not in ("csv", "tsv"):
        raise InvalidInputError(f"{det.filename} is {det.format.upper()}, not CSV: only CSV files import by range.",
                                hint="Import it without the partitioned option.")
    encoding = "utf8" if det.encoding in (None, "utf-8", "utf-8-sig") else det.encoding
    with open(path, "rb") as f:
        head = f.readline()
        body_start = f.tell() if det.has_header else 0
        f.seek(body_start)
        probe = f.read(1 << 20)
    if det.encoding == "utf-8-sig" and head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    header = pacsv.read_csv(pa.BufferReader(head), read_options=pacsv.ReadOptions(encoding=encoding),
                            parse_options=pacsv.ParseOptions(delimiter=det.delimiter or ",")).column_names \
        if det.has_header else [f"column_{i + 1}" for i in range(len(head.split((det.delimiter or ",").encode())))]
    size = path.stat().st_size
    ranges = _ranges(path, body_start, size, range_bytes)
    if not ranges:
        raise InvalidInputError(f"{det.filename} holds no rows.", hint="Upload a file with data.")
    bytes_per_row = len(probe) / max(1, probe.count(b"\n"))  # from the first MiB of rows
    keep = min(1.0, SAMPLE_ROWS / max(1.0, (size - body_start) / bytes_per_row))
    ws.settings.staging_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ws.settings.staging_dir) as tmp:
        shared = _Shared(str(path), list(header), det.delimiter or ",", encoding, keep, tmp, det, rename)
        report(0.02, f"Reading {det.filename} in {len(ranges)} ranges on the cluster")
        done = lambda k, n: report(0.02 + 0.8 * k / n, f"Read {k} of {n} ranges")  # noqa: E731
        results = _run(executor, _first_pass, ranges, shared, done, check_cancelled)
        unified = _unify([r["schema"] for r in results])
        again = [i for i, r in enumerate(results) if not r["schema"].equals(unified)]
        if again:
            report(0.83, f"Reading {len(again)} ranges again with the types of the whole file")
            redone = _run(executor, _second_pass, [(ranges[i], unified) for i in again], shared, None,
                          check_cancelled)
            for i, r in zip(again, redone, strict=True):
                results[i] = r
        report(0.9, "Storing the parts")
        rows = [r["rows"] for r in results]
        sample = pa.concat_tables([r["sample"].cast(unified) for r in results])
        if check_cancelled is not None:
            check_cancelled()
        ref = store_parts(ws, [Path(r["out"]) for r in results], rows)
    table_schema = infer_schema_json(sample, pandas_dtypes=True)
    roles = validate_roles(suggest_roles(table_schema), sample.column_names)
    quality = quality_report_json(sample, table_schema)
    provenance = {"filename": original_name or path.name, "format": det.format, "encoding": det.encoding,
                  "delimiter": det.delimiter, "parts": len(results), "read_on": "dask cluster",
                  "profiled_rows": sample.num_rows}
    return datasets._insert_version(ws, name, ref, int(sum(rows)), len(unified), table_schema, roles, quality,
                                    provenance, f"Imported from {original_name or path.name} in {len(results)} parts",
                                    None, if_exists)


def _run(executor: Executor, fn, items, shared, done, check) -> list[Any]:
    try:
        return executor.map(fn, items, shared=shared, on_done=done, check=check)
    except TaskFailed as failed:
        if isinstance(failed.error, AtelierError):
            raise failed.error from failed
        raise InvalidInputError(f"Range {failed.index + 1} of {len(items)} could not be read: {failed.error}",
                                hint="Nothing was stored. Check the file, or import it without the cluster.") \
            from failed.error

