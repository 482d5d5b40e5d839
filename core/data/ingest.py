"""Turning a file or a bundled sample into a dataset version.

Uploads are first staged on local disk (so the page can hand a 200 MB file to
a job and return at once); :func:`import_file_job` then reads, checks and
freezes it in a separate process with progress, and removes the staged copy.
"""

from __future__ import annotations

import re
import shutil
import uuid
from pathlib import Path
from typing import Any, BinaryIO

from core.data.datasets import VersionInfo, _check_name_free, identical_latest, save_version, validate_name
from core.data.sources import samples
from core.data.sources.registry import read_source
from core.platform import access, jobs
from core.platform.config import Settings
from core.platform.errors import InvalidInputError
from core.platform.progress import ProgressFn
from core.platform.workspace import Workspace


def _human(size: int) -> str:
    return f"{size / 1024 / 1024:,.1f} MB"


def check_size(settings: Settings, size: int, filename: str) -> None:
    if size > settings.max_upload_bytes:
        raise InvalidInputError(
            f"{filename} is {_human(size)}; the limit is {settings.max_upload_mb:,} MB.",
            hint="Raise ATELIER_MAX_UPLOAD_MB (and server.maxUploadSize in .streamlit/config.toml), "
            "or load the data from SQL or S3 instead.",
        )


def stage_upload(settings: Settings, filename: str, source: bytes | BinaryIO | Path) -> Path:
    """Copy an upload into the staging folder (size-checked) and return its path."""
    safe = re.sub(r"[^\w.\-]+", "_", Path(filename).name) or "upload"
    folder = settings.staging_dir / uuid.uuid4().hex
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / safe
    try:
        if isinstance(source, bytes):
            check_size(settings, len(source), filename)
            target.write_bytes(source)
        elif isinstance(source, Path):
            check_size(settings, source.stat().st_size, filename)
            shutil.copyfile(source, target)
        else:
            with open(target, "wb") as out:
                shutil.copyfileobj(source, out, length=8 * 1024 * 1024)
            check_size(settings, target.stat().st_size, filename)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return target


def discard_staged(path: Path, settings: Settings) -> None:
    """Remove a staged upload's folder (only ever inside the staging area)."""
    folder = Path(path).parent
    if settings.staging_dir.resolve() in folder.resolve().parents:
        shutil.rmtree(folder, ignore_errors=True)


def import_file(
    ws: Workspace,
    path: Path,
    name: str,
    *,
    options: dict[str, Any] | None = None,
    if_exists: str = "error",
    original_name: str | None = None,
    progress: ProgressFn | None = None,
) -> VersionInfo:
    """Read ``path`` (any supported format) and save it as a version of ``name``."""
    path = Path(path)
    name = validate_name(name)
    report = progress or (lambda _f, _m: None)
    if not path.is_file():
        raise InvalidInputError(f"There is no file at {path}.")
    check_size(ws.settings, path.stat().st_size, original_name or path.name)
    if if_exists == "error":
        _check_name_free(ws, name, if_exists)  # fail before spending minutes reading
    options = dict(options or {})
    partitioned = options.pop("partitioned", None)
    from core.data.partitioned_csv import import_csv_partitioned, wants_partitioned_import
    from core.platform.compute import executor_for

    executor = executor_for(ws.settings) if partitioned is not False else None
    if executor is not None and wants_partitioned_import(path, executor, partitioned):  # big CSV, cluster set
        return import_csv_partitioned(ws, path, name, executor, options=options, if_exists=if_exists,
                                      original_name=original_name, progress=report)
    source = read_source(path, options, max_bytes=ws.settings.max_upload_bytes,
                         progress=lambda f, m: report(0.7 * f, m))
    provenance = source.provenance | {"filename": original_name or path.name}
    return save_version(
        ws, name, source.table, provenance=provenance, if_exists=if_exists,
        note=f"Imported from {original_name or path.name}",
        progress=lambda f, m: report(0.7 + 0.3 * f, m),
    )


IMPORT_JOB = "import_file"


def submit_import(ws: Workspace, staged: Path, name: str, *, options: dict[str, Any] | None = None,
                  original_name: str | None = None, new_version: bool = False) -> str:
    """Import a staged upload as a background job; returns the job id.

    ``new_version``: when ``name`` exists, add the file as its next version instead of refusing.
    """
    params = {"path": str(staged), "name": name, "options": dict(options or {}),
              "original_name": original_name or Path(staged).name,
              "if_exists": "new_version" if new_version else "error"}
    access.require(ws, "import")  # fail now, in the page; the job's save checks again
    return jobs.submit(ws, IMPORT_JOB, params, title=f"Import {original_name or Path(staged).name} as {name!r}")


def import_file_job(
    ctx, path: str, name: str, options: dict[str, Any] | None = None, if_exists: str = "error",
    original_name: str | None = None, discard: bool = True,
) -> dict[str, Any]:
    """Job body: import a staged upload, then remove the staged copy."""
    try:
        version = import_file(
            ctx.ws, Path(path), name, options=options, if_exists=if_exists, original_name=original_name,
            progress=lambda f, m: (ctx.check_cancelled(), ctx.progress(f, m)),
        )
    finally:
        if discard:
            discard_staged(Path(path), ctx.ws.settings)
    ctx.log(f"Saved {version.label}: {version.n_rows:,} rows × {version.n_columns} columns")
    return {"version_id": version.id, "label": version.label}


def existing_sample(ws: Workspace, key: str, name: str | None = None) -> VersionInfo | None:
    """The latest version of the sample's dataset when it already holds this sample unchanged."""
    info = samples.get_sample(key)
    source = read_source(f"sample:{key}")
    return identical_latest(ws, name or info.key, source.table, source.roles or None)


def import_sample(ws: Workspace, key: str, name: str | None = None, if_exists: str = "new_version") -> VersionInfo:
    """Load a bundled sample into the catalogue with its suggested roles.

    Loading it again into a dataset whose latest version is this very sample (same data, same roles)
    makes no identical second version: that latest version is returned (see :func:`existing_sample`).
    """
    info = samples.get_sample(key)
    source = read_source(f"sample:{key}")
    if if_exists == "new_version" and (same := identical_latest(ws, name or info.key, source.table,
                                                               source.roles or None)):
        return same
    return save_version(
        ws, name or info.key, source.table, provenance=source.provenance, roles=source.roles,
        note=f"Bundled sample: {info.title}", if_exists=if_exists,
    )
