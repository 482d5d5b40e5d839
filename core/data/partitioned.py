"""Saving a dataset version as many Parquet parts (for data read and scored by partition).

The version's schema, roles and quality are those :func:`core.data.datasets.save_version` would
record for the same table; only the storage differs: parts of ``part_rows`` rows each
(content-addressed under ``datasets/parts/``) behind one manifest (``core.platform.parts``).
Every reader in :mod:`core.data.datasets` accepts either layout.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core.data import datasets
from core.data.datasets import VersionInfo
from core.data.quality import quality_report_json
from core.data.schema import infer_schema_json, suggest_roles, validate_roles
from core.platform import access, parts
from core.platform.errors import InvalidInputError
from core.platform.storage import keys
from core.platform.workspace import Workspace

__all__ = ["PART_ROWS", "save_partitioned_version", "store_parts"]

PART_ROWS = 1_000_000


def _part_key(_i: int, sha256: str) -> str:
    return f"datasets/parts/{sha256}.parquet"


def save_partitioned_version(
    ws: Workspace,
    name: str,
    data: pd.DataFrame | pa.Table,
    *,
    provenance: Mapping[str, Any],
    part_rows: int = PART_ROWS,
    roles: Mapping[str, str] | None = None,
    note: str = "",
    if_exists: str = "error",
) -> VersionInfo:
    """Freeze ``data`` as a new version of ``name`` stored in parts of at most ``part_rows`` rows."""
    name = datasets.validate_name(name)
    if if_exists not in {"error", "new_version"}:
        raise InvalidInputError(f"if_exists must be 'error' or 'new_version', got {if_exists!r}.")
    if part_rows < 1:
        raise InvalidInputError(f"A part needs at least one row; got part_rows={part_rows}.")
    table = data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)
    table = table.replace_schema_metadata(None)
    datasets._check_columns(table.column_names)
    datasets._check_name_free(ws, name, if_exists)
    schema = infer_schema_json(table, pandas_dtypes=True)
    roles = validate_roles(dict(roles) if roles else suggest_roles(schema), table.column_names)
    quality = quality_report_json(table, schema)
    dictionary = datasets._dictionary_columns(table)
    ws.settings.staging_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ws.settings.staging_dir) as tmp:
        files, rows = [], []
        for i, start in enumerate(range(0, max(table.num_rows, 1), part_rows)):
            piece = table.slice(start, part_rows)
            path = Path(tmp) / f"part-{i:05d}.parquet"
            pq.write_table(piece, path, compression=datasets._PARQUET_COMPRESSION,
                           row_group_size=datasets._ROW_GROUP_ROWS, use_dictionary=dictionary)
            files.append(path)
            rows.append(piece.num_rows)
        ref = store_parts(ws, files, rows)
    return datasets._insert_version(ws, name, ref, table.num_rows, table.num_columns, schema, roles, quality,
                                    dict(provenance), note, None, if_exists)


def store_parts(ws: Workspace, files: list[Path], rows: list[int]):
    """Store Parquet ``files`` (in row order) as one content-addressed partitioned artifact; its ref."""
    from core.platform.storage import sha256_file

    digest = parts.parts_digest([sha256_file(f) for f in files])
    project_id = access.project_id(ws)
    key = keys.in_project(project_id, f"datasets/{digest}{parts.MANIFEST_SUFFIX}")
    if ws.has_artifact(key):
        return ws.artifact(key)
    return parts.put_parts(ws, key, files, rows, "dataset",
                           part_key=lambda i, sha: keys.in_project(project_id, _part_key(i, sha)))
