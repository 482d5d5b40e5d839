"""The dataset catalogue: names, immutable versions, roles, clone and delete.

A version is a Parquet file in the artifact store (keyed by its sha256, so
versions that only change roles share one file) plus its schema, roles,
quality report and provenance in the metadata store.  Nothing here edits a
version: every change makes a new one.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError as DBIntegrityError

from core.data.quality import quality_report_json
from core.data.schema import infer_schema_json, suggest_roles, validate_roles
from core.data.sources.files import suggest_column_names
from core.platform import access, parts
from core.platform.errors import ConflictError, InvalidInputError, NotFoundError
from core.platform.metadata.models import Dataset, DatasetVersion
from core.platform.progress import ProgressFn
from core.platform.storage import keys
from core.platform.workspace import Workspace

NAME_MAX = 100
_NAME_OK = re.compile(r"^[\w][\w .()+-]*$")


@dataclass(frozen=True)
class VersionInfo:
    """One immutable dataset version, as plain data."""

    id: int
    dataset_id: int
    name: str
    version: int
    artifact_key: str
    sha256: str
    size_bytes: int
    n_rows: int
    n_columns: int
    schema: list[dict[str, Any]]
    roles: dict[str, str]
    quality: dict[str, Any]
    provenance: dict[str, Any]
    note: str
    parent_id: int | None
    created_at: datetime

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"

    @property
    def columns(self) -> list[str]:
        return [c["name"] for c in self.schema]

    @property
    def target(self) -> str | None:
        return next((c for c, r in self.roles.items() if r == "target"), None)

    def columns_with_role(self, role: str) -> list[str]:
        return [c for c in self.columns if self.roles.get(c, "feature") == role]


@dataclass(frozen=True)
class DatasetSummary:
    id: int
    name: str
    versions: int
    latest_version: int
    n_rows: int
    n_columns: int
    created_at: datetime
    updated_at: datetime


def _version_info(row: DatasetVersion, name: str) -> VersionInfo:
    return VersionInfo(
        row.id, row.dataset_id, name, row.version, row.artifact_key, row.sha256, row.size_bytes, row.n_rows,
        row.n_columns, list(row.schema), dict(row.roles), dict(row.quality), dict(row.provenance), row.note,
        row.parent_id, row.created_at,
    )


# -- names and references --------------------------------------------------------
def validate_name(name: str) -> str:
    """Return the cleaned dataset name or raise with what a valid one looks like."""
    cleaned = (name or "").strip()
    if not cleaned:
        raise InvalidInputError(
            "The dataset name is empty.", hint="Type a short name such as 'titanic' or 'sales-2024'."
        )
    if len(cleaned) > NAME_MAX:
        raise InvalidInputError(
            f"The dataset name is {len(cleaned)} characters long; the limit is {NAME_MAX}.",
            hint="Choose a shorter name.",
        )
    if not _NAME_OK.match(cleaned):
        raise InvalidInputError(
            f"The dataset name {cleaned!r} contains characters that are not allowed.",
            hint="Use letters, digits, spaces and . _ - ( ) +, starting with a letter or digit "
            "('@' is reserved: it marks a version).",
        )
    return cleaned


def parse_ref(ref: str) -> tuple[str, int | None]:
    """``'titanic@3'`` → ``('titanic', 3)``; ``'titanic'`` → ``('titanic', None)``."""
    name, sep, version = ref.rpartition("@") if "@" in ref else (ref, "", "")
    if not sep:
        return ref.strip(), None
    if not version.strip().isdigit():
        raise InvalidInputError(f"{ref!r} does not name a version: write NAME@NUMBER, for example titanic@2.")
    return name.strip(), int(version)


# -- reading -----------------------------------------------------------------------
def list_datasets(ws: Workspace, search: str = "") -> list[DatasetSummary]:
    """Every dataset with its latest version's size, newest activity first."""
    latest = (
        select(DatasetVersion.dataset_id, func.max(DatasetVersion.version).label("v"), func.count().label("n"))
        .group_by(DatasetVersion.dataset_id)
        .subquery()
    )
    query = (
        select(Dataset, DatasetVersion, latest.c.n)
        .join(latest, latest.c.dataset_id == Dataset.id)
        .join(DatasetVersion, (DatasetVersion.dataset_id == Dataset.id) & (DatasetVersion.version == latest.c.v))
        .order_by(DatasetVersion.created_at.desc())
    )
    query = query.where(access.in_project(Dataset.project_id, ws))
    if search.strip():
        query = query.where(Dataset.name.ilike(f"%{search.strip()}%"))
    with ws.db.session() as s:
        return [
            DatasetSummary(d.id, d.name, n, v.version, v.n_rows, v.n_columns, d.created_at, v.created_at)
            for d, v, n in s.execute(query)
        ]


def list_versions(ws: Workspace, name: str) -> list[VersionInfo]:
    with ws.db.session() as s:
        dataset = _dataset(s, name, ws)
        return [_version_info(v, dataset.name) for v in dataset.versions]


def get_version(ws: Workspace, ref: str, version: int | None = None) -> VersionInfo:
    """A version by ``NAME``, ``NAME@VERSION`` or id; the latest when none is given."""
    name, parsed = parse_ref(ref)
    version = version if version is not None else parsed
    with ws.db.session() as s:
        dataset = _dataset(s, name, ws)
        if not dataset.versions:
            raise NotFoundError(f"Dataset {name!r} has no versions.")
        if version is None:
            return _version_info(dataset.versions[-1], dataset.name)
        for row in dataset.versions:
            if row.version == version:
                return _version_info(row, dataset.name)
        known = ", ".join(str(v.version) for v in dataset.versions)
        raise NotFoundError(f"Dataset {name!r} has no version {version}; it has versions {known}.")


def get_version_by_id(ws: Workspace, version_id: int) -> VersionInfo:
    with ws.db.session() as s:
        row = s.get(DatasetVersion, version_id)
        if row is None or not _visible(ws, row.dataset):  # another project's: not found, no leak
            raise NotFoundError(f"There is no dataset version with id {version_id}; it may have been deleted.")
        return _version_info(row, row.dataset.name)


def _visible(ws: Workspace, dataset: Dataset) -> bool:
    project = access.current_project(ws)
    return dataset.project_id == project.id or (dataset.project_id is None and project.is_default)


def _dataset(s, name: str, ws: Workspace) -> Dataset:
    dataset = s.scalar(select(Dataset).where(Dataset.name == name, access.in_project(Dataset.project_id, ws)))
    if dataset is None:
        raise NotFoundError(
            f"There is no dataset named {name!r}.", hint="List the datasets with `python -m core datasets list`."
        )
    return dataset


def parquet_path(ws: Workspace, version: VersionInfo) -> Path:
    """A local, checksum-verified Parquet file of the version (a partitioned one joined once, cached)."""
    if parts.is_partitioned(version.artifact_key):
        return _joined_parts(ws, version)
    return ws.local_path(version.artifact_key)


def parquet_files(ws: Workspace, version: VersionInfo) -> list[Path]:
    """The version's local, verified Parquet files in row order: one file, or its parts."""
    return parts.local_files(ws, version.artifact_key)


def _joined_parts(ws: Workspace, version: VersionInfo) -> Path:
    target = ws.settings.home / "cache" / f"{version.sha256}.parquet"
    if target.is_file():
        return target
    files = parquet_files(ws, version)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        out = Path(tmp) / "joined.parquet"
        with pq.ParquetWriter(out, pq.read_schema(files[0]), compression=_PARQUET_COMPRESSION) as writer:
            for f in files:
                for batch in pq.ParquetFile(f).iter_batches(batch_size=_ROW_GROUP_ROWS):
                    writer.write_batch(batch)
        out.replace(target)
    return target


def load_table(ws: Workspace, version: VersionInfo, columns: Iterable[str] | None = None) -> pa.Table:
    files = parquet_files(ws, version)
    return pq.read_table(files if len(files) > 1 else files[0],
                         columns=list(columns) if columns is not None else None)


def load_frame(ws: Workspace, version: VersionInfo, columns: Iterable[str] | None = None) -> pd.DataFrame:
    return load_table(ws, version, columns).to_pandas()


# Rows behind quick checks on a version (feature warnings, estimates): enough for stable answers,
# few enough to take a second.
QUICK_SAMPLE_ROWS = 20_000


def sample_rows(frame: pd.DataFrame, rows: int = QUICK_SAMPLE_ROWS, seed: int = 0) -> pd.DataFrame:
    """A seeded random sample of at most ``rows`` rows (the frame itself when it is no bigger)."""
    return frame.sample(rows, random_state=seed) if len(frame) > rows else frame


def preview(ws: Workspace, version: VersionInfo, rows: int = 50) -> pd.DataFrame:
    """The first rows only: reads one batch, never the whole file."""
    batches: list[pa.RecordBatch] = []
    for path in parquet_files(ws, version):  # a partitioned version: parts until ``rows`` are in
        reader = pq.ParquetFile(path)
        batch = next(reader.iter_batches(batch_size=rows - sum(len(b) for b in batches)), None)
        if batch is not None:
            batches.append(batch)
        if sum(len(b) for b in batches) >= rows:
            break
    if not batches:
        return reader.schema_arrow.empty_table().to_pandas()
    return pa.Table.from_batches(batches).to_pandas()


# -- writing ---------------------------------------------------------------------------
def save_version(
    ws: Workspace,
    name: str,
    data: pd.DataFrame | pa.Table,
    *,
    provenance: Mapping[str, Any],
    roles: Mapping[str, str] | None = None,
    note: str = "",
    if_exists: str = "error",
    progress: ProgressFn | None = None,
) -> VersionInfo:
    """Freeze ``data`` as a new version of ``name``.

    ``if_exists='error'`` refuses a name that is taken; ``'new_version'``
    adds a version to it.  Nothing is stored unless every step succeeds.
    """
    name = validate_name(name)
    access.require(ws, "import")  # every import, refresh and transform lands here
    if if_exists not in {"error", "new_version"}:
        raise InvalidInputError(f"if_exists must be 'error' or 'new_version', got {if_exists!r}.")
    table = data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)
    table = table.replace_schema_metadata(None)
    _check_columns(table.column_names)
    _check_name_free(ws, name, if_exists)
    report = progress or (lambda _f, _m: None)
    # The Parquet file is written in a thread while the columns are described: both read the
    # same immutable Arrow table, and pyarrow and numpy release the GIL for the heavy parts.
    with _store_table(ws, table) as stored:
        report(0.05, "Describing columns")
        # pandas dtype names, as the stored schemas have always had (the table is never converted).
        schema = infer_schema_json(table, pandas_dtypes=True)
        roles = validate_roles(dict(roles) if roles else suggest_roles(schema), table.column_names)
        report(0.3, "Checking data quality")
        quality = quality_report_json(table, schema)
        report(0.6, "Writing Parquet")
        ref = stored()
    report(0.9, "Recording the version")
    saved = _insert_version(
        ws, name, ref, table.num_rows, table.num_columns, schema, roles, quality, dict(provenance), note, None,
        if_exists,
    )
    access.audit(ws, "import", saved.label)
    return saved


# Parquet settings, measured on 2M rows × 20 columns (10 random doubles): LZ4 writes in 0.66 s
# for 166 MB, zstd in 0.87 s for 125 MB (pandas' default snappy: 174 MB).  LZ4 keeps the write,
# the longest step of an import, short and also reads back fastest.  Dictionary pages only for
# columns whose values repeat: on random doubles a dictionary overflows, falls back, and makes
# the write twice as slow and the file bigger.
_PARQUET_COMPRESSION = "lz4"
_ROW_GROUP_ROWS = 128 * 1024
_DICTIONARY_SAMPLE = 4096


@contextmanager
def _store_table(ws: Workspace, table: pa.Table) -> Iterator[Callable[[], Any]]:
    """Start writing ``table`` as Parquet in a background thread; yield a function that waits for
    the file and stores it in the artifact store (returning its ``ArtifactRef``).

    The function hashes the file while the writer is still writing it (the writer only appends),
    so the checksum costs no time after the last byte.  Leaving the block, even by an exception,
    waits for the writer and removes the temporary file, so nothing is stored unless asked for.
    """
    ws.settings.staging_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ws.settings.staging_dir) as tmp, ThreadPoolExecutor(1) as pool:
        path = Path(tmp) / "data.parquet"
        sink = pa.OSFile(str(path), "wb")  # exists before the writer starts, so it can be read at once

        def write() -> None:
            with sink:
                pq.write_table(table, sink, compression=_PARQUET_COMPRESSION, row_group_size=_ROW_GROUP_ROWS,
                               use_dictionary=_dictionary_columns(table))

        writing = pool.submit(write)

        def finish():
            digest = hashlib.sha256()
            with open(path, "rb") as written:
                while True:
                    done = writing.done()  # checked before reading: once done, the reads below see every byte
                    chunk = written.read(1 << 20)
                    if chunk:
                        digest.update(chunk)
                    elif done:
                        break
                    else:
                        time.sleep(0.002)  # caught up with the writer
            writing.result()  # the writer's error, if it failed
            key = keys.in_project(access.project_id(ws), keys.dataset_file(digest.hexdigest()))
            if ws.has_artifact(key):
                return ws.artifact(key)  # the same bytes are stored already
            return ws.put_file(key, path, kind="dataset")

        yield finish


def content_sha256(ws: Workspace, table: pa.Table) -> str:
    """The sha256 that ``table`` would be stored under (the same Parquet settings as a saved version)."""
    table = table.replace_schema_metadata(None)
    ws.settings.staging_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ws.settings.staging_dir) as tmp:
        path = Path(tmp) / "data.parquet"
        pq.write_table(table, str(path), compression=_PARQUET_COMPRESSION, row_group_size=_ROW_GROUP_ROWS,
                       use_dictionary=_dictionary_columns(table))
        digest = hashlib.sha256()
        with open(path, "rb") as written:
            for chunk in iter(lambda: written.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest()


def identical_latest(ws: Workspace, name: str, table: pa.Table, roles: Mapping[str, str] | None) -> VersionInfo | None:
    """The latest version of ``name`` when it holds exactly ``table`` with ``roles`` (else ``None``)."""
    try:
        name = validate_name(name)
        versions = list_versions(ws, name)
    except (InvalidInputError, NotFoundError):
        return None
    if not versions:
        return None
    latest = max(versions, key=lambda v: v.version)
    if latest.columns != list(table.column_names) or latest.n_rows != table.num_rows:
        return None
    if roles is not None and validate_roles(dict(roles), table.column_names) != latest.roles:
        return None
    return latest if content_sha256(ws, table) == latest.sha256 else None


def _dictionary_columns(table: pa.Table) -> list[str]:
    """Columns worth dictionary pages: categoricals, and flat columns whose evenly spaced sample
    has at most half as many distinct values as values."""
    chosen = []
    n = table.num_rows
    picks = pa.array(np.linspace(0, n - 1, min(n, _DICTIONARY_SAMPLE)).astype(np.int64)) if n else None
    for f, values in zip(table.schema, table.columns, strict=True):
        t = f.type
        if pa.types.is_dictionary(t):
            chosen.append(f.name)
        elif picks is None or pa.types.is_nested(t) or pa.types.is_boolean(t) or pa.types.is_null(t):
            continue
        else:
            sample = values.take(picks)
            try:
                distinct = pc.count_distinct(sample, mode="all").as_py()
            except pa.ArrowNotImplementedError:
                continue
            if distinct <= len(sample) / 2:
                chosen.append(f.name)
    return chosen


def _check_columns(columns: list[str]) -> None:
    empty = [i + 1 for i, c in enumerate(columns) if not str(c).strip()]
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    if empty or dupes:
        parts = []
        if empty:
            parts.append(f"column(s) {', '.join(map(str, empty))} have no name")
        if dupes:
            parts.append(f"these names appear more than once: {', '.join(map(repr, dupes))}")
        raise InvalidInputError(
            f"The table's column names cannot be used: {'; '.join(parts)}.",
            hint=f"Rename them, for example to: {', '.join(suggest_column_names(columns))}.",
        )
    if not columns:
        raise InvalidInputError("The table has no columns.")


def _check_name_free(ws: Workspace, name: str, if_exists: str) -> None:
    if if_exists != "error":
        return
    with ws.db.session() as s:
        dataset = s.scalar(select(Dataset).where(Dataset.name == name, access.in_project(Dataset.project_id, ws)))
        if dataset is not None:
            raise ConflictError(
                f"A dataset named {name!r} already exists ({len(dataset.versions)} version(s)).",
                hint="Choose another name, or add this data as a new version of it.",
            )


def _insert_version(ws, name, ref, n_rows, n_cols, schema, roles, quality, provenance, note, parent_id, if_exists):
    try:
        with ws.db.session() as s:
            dataset = s.scalar(select(Dataset).where(Dataset.name == name, access.in_project(Dataset.project_id, ws)))
            if dataset is None:
                dataset = Dataset(name=name, project_id=access.project_id(ws))
                s.add(dataset)
                s.flush()
            elif if_exists == "error":
                raise ConflictError(f"A dataset named {name!r} already exists.")
            number = (s.scalar(select(func.max(DatasetVersion.version)).where(DatasetVersion.dataset_id == dataset.id))
                      or 0) + 1
            row = DatasetVersion(
                dataset_id=dataset.id, version=number, artifact_key=ref.key, sha256=ref.sha256,
                size_bytes=ref.size_bytes, n_rows=n_rows, n_columns=n_cols, schema=schema, roles=roles,
                quality=quality, provenance=provenance, note=note, parent_id=parent_id,
            )
            s.add(row)
            s.flush()
            return _version_info(row, dataset.name)
    except DBIntegrityError as exc:  # two writers raced for the same name or number
        raise ConflictError(
            f"Dataset {name!r} was changed by someone else at the same moment.", hint="Try again."
        ) from exc


def set_roles(ws: Workspace, version: VersionInfo, roles: Mapping[str, str], note: str = "") -> VersionInfo:
    """A new version with other column roles; the Parquet file is shared."""
    checked = validate_roles(dict(roles), version.columns)
    if checked == version.roles:
        raise InvalidInputError("The roles are unchanged, so no new version was made.")
    ref = ws.artifact(version.artifact_key)
    return _insert_version(
        ws, version.name, ref, version.n_rows, version.n_columns, version.schema, checked, version.quality,
        {**version.provenance}, note or "Changed column roles", version.id, "new_version",
    )


def derive_version(
    ws: Workspace,
    version: VersionInfo,
    *,
    drop_columns: Iterable[str] = (),
    drop_rows: Iterable[int] = (),
    note: str = "",
) -> VersionInfo:
    """A new version without some columns and/or rows (row positions, 0-based)."""
    drop_columns, drop_rows = list(drop_columns), sorted(set(int(r) for r in drop_rows))
    unknown = [c for c in drop_columns if c not in version.columns]
    if unknown:
        raise InvalidInputError(f"These columns are not in {version.label}: {', '.join(map(repr, unknown))}.")
    if not drop_columns and not drop_rows:
        raise InvalidInputError("Nothing to remove: choose columns or rows to drop.")
    if len(drop_columns) == version.n_columns:
        raise InvalidInputError("Removing every column would leave an empty dataset.")
    bad_rows = [r for r in drop_rows if r < 0 or r >= version.n_rows]
    if bad_rows:
        raise InvalidInputError(f"Row positions {bad_rows[:5]} are outside 0…{version.n_rows - 1}.")
    table = load_table(ws, version, [c for c in version.columns if c not in drop_columns])
    if drop_rows:
        import numpy as np

        keep = np.ones(table.num_rows, dtype=bool)
        keep[drop_rows] = False
        table = table.filter(pa.array(keep))
    roles = {c: r for c, r in version.roles.items() if c not in drop_columns}
    summary = note or "; ".join(
        filter(None, [drop_columns and f"removed columns {', '.join(drop_columns)}",
                      drop_rows and f"removed {len(drop_rows)} row(s)"])
    )
    provenance = {**version.provenance, "derived_from": version.label}
    new = save_version(ws, version.name, table, provenance=provenance, roles=roles, note=summary,
                       if_exists="new_version")
    with ws.db.session() as s:
        s.get(DatasetVersion, new.id).parent_id = version.id
    return get_version_by_id(ws, new.id)


def clone_dataset(ws: Workspace, name: str, new_name: str) -> VersionInfo:
    """A new dataset whose first version is ``name``'s latest (metadata copied, file shared)."""
    source = get_version(ws, name)
    new_name = validate_name(new_name)
    _check_name_free(ws, new_name, "error")
    ref = ws.artifact(source.artifact_key)
    provenance = {**source.provenance, "cloned_from": source.label}
    return _insert_version(
        ws, new_name, ref, source.n_rows, source.n_columns, source.schema, source.roles, source.quality,
        provenance, f"Clone of {source.label}", None, "error",
    )


def delete_dataset(ws: Workspace, name: str) -> int:
    """Delete a dataset and its versions; files still used by a clone stay.  Returns versions removed.

    With a Parquet file go the files derived from it alone (its profiling
    report lives under ``reports/<sha256>/``).
    """
    access.require(ws, "delete_dataset")
    with ws.db.session() as s:
        dataset = _dataset(s, name, ws)
        files = {v.artifact_key: v.sha256 for v in dataset.versions}
        count = len(dataset.versions)
        s.delete(dataset)
    with ws.db.session() as s:
        used = set(s.scalars(select(DatasetVersion.artifact_key).where(DatasetVersion.artifact_key.in_(files))))
    for key in files.keys() - used:
        for derived in ws.artifact_keys(keys.reports_prefix(files[key], keys.scope_of(key))):
            ws.delete_artifact(derived)
        parts.delete(ws, key)  # a single file, or a manifest and its parts
    access.audit(ws, "delete_dataset", name)
    return count
