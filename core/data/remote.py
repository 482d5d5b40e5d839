"""Importing from where data lives (SQL databases; S3 next), as a call or a background job, and
refreshing a version from the same source.

A remote import is a source URL (``sql:<SQLAlchemy URL>``) plus reader options; both are stored,
secrets stripped, in the version's provenance under ``"refresh"``, so :func:`refresh_version`
re-pulls the same source as the next version.  Job parameters are stored too, so a URL that
carries a password inline is refused for a job: the password must be referenced by name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from core.data.datasets import VersionInfo, _check_name_free, get_version, save_version, validate_name
from core.data.partitioned import PART_ROWS
from core.data.sources.csvstream import StreamBroken
from core.data.sources.registry import SourceStream, open_source
from core.data.sources.sql import DEFAULT_ROW_CAP, DEFAULT_STATEMENT_TIMEOUT_S, public_url
from core.data.streamed import cluster_is_set, save_version_from_batches
from core.platform import access, jobs
from core.platform.errors import InvalidInputError
from core.platform.progress import ProgressFn
from core.platform.workspace import Workspace

REMOTE_IMPORT_JOB = "core.data.remote:import_remote_job"
_NOT_STORED = {"staging_dir", "secrets_home"}


def sql_source(url: str, *, table: str | None = None, schema: str | None = None, query: str | None = None,
               password_secret: str | None = None, row_cap: int = DEFAULT_ROW_CAP,
               statement_timeout_s: float = DEFAULT_STATEMENT_TIMEOUT_S) -> tuple[str, dict[str, Any]]:
    """The source URL and options of a SQL import (what :func:`import_remote` and jobs take)."""
    options = {"table": table, "schema": schema, "query": query, "password_secret": password_secret,
               "row_cap": int(row_cap), "statement_timeout_s": float(statement_timeout_s)}
    return f"sql:{url}", {k: v for k, v in options.items() if v not in (None, "")}


def s3_source(url: str, *, endpoint_url: str | None = None, region: str | None = None,
              member: str | None = None) -> tuple[str, dict[str, Any]]:
    """The source URL and options of an S3 import (``s3://bucket/key``; ``s3://bucket/prefix/``: Parquet parts)."""
    options = {"endpoint_url": endpoint_url, "region": region, "member": member}
    return url.strip(), {k: v for k, v in options.items() if v}


def submit_s3_import(ws: Workspace, url: str, name: str, *, endpoint_url: str | None = None,
                     region: str | None = None, member: str | None = None, new_version: bool = False) -> str:
    """Import an S3 object (or a prefix of Parquet parts) as a background job; returns the job id."""
    source, options = s3_source(url, endpoint_url=endpoint_url, region=region, member=member)
    return submit_remote_import(ws, source, name, options=options, new_version=new_version)


def kaggle_source(handle: str, *, file: str | None = None, member: str | None = None) -> tuple[str, dict[str, Any]]:
    """The source URL and options of a Kaggle import (``owner/slug[/versions/N]`` or ``competitions/NAME``)."""
    from core.data.sources.kaggle_refs import parse_ref

    ref = parse_ref(handle)  # refuses a bad handle before a job is queued
    options = {"file": file, "member": member}
    return f"kaggle:{ref}", {k: v for k, v in options.items() if v}


def submit_kaggle_import(ws: Workspace, handle: str, name: str, *, file: str | None = None,
                         member: str | None = None, new_version: bool = False) -> str:
    """Import one file of a Kaggle dataset or competition as a background job; returns the job id."""
    source, options = kaggle_source(handle, file=file, member=member)
    return submit_remote_import(ws, source, name, options=options, new_version=new_version)


def kaggle_names(files: Sequence[str], names: Sequence[str]) -> list[str]:
    """One dataset name per Kaggle file: the names given one per file, or one name as the prefix of
    every file's stem (``sales`` with ``train.csv``, ``test.csv``: ``sales-train``, ``sales-test``)."""
    files, names = list(files), [n.strip() for n in names]
    if len(files) <= 1 or len(names) == len(files):
        chosen = names
    elif len(names) == 1:
        chosen = [f"{names[0]}-{Path(f).name.split('.')[0]}" for f in files]
    else:
        raise InvalidInputError(f"{len(files)} files were given with {len(names)} names.",
                                hint="Give one name per file, in the same order, or one name to prefix them all.")
    chosen = [validate_name(n) for n in chosen]
    if len({n.lower() for n in chosen}) != len(chosen):
        raise InvalidInputError(f"Two files would get the same dataset name ({', '.join(chosen)}).",
                                hint="Give each file its own name.")
    return chosen


def _kaggle_plan(ws: Workspace, handle: str, files: Sequence[str], names: Sequence[str],
                 new_version: bool) -> list[tuple[str, str]]:
    if len(set(files)) != len(files):
        raise InvalidInputError("The same Kaggle file is named twice.", hint="Name each file once.")
    chosen = kaggle_names(files, names)
    if not new_version:
        for name in chosen:  # all or none: refuse before anything is fetched
            _check_name_free(ws, name, "error")
    kaggle_source(handle)  # a bad handle is refused before any import starts
    return list(zip(files, chosen, strict=True))


def submit_kaggle_imports(ws: Workspace, handle: str, files: Sequence[str], names: Sequence[str], *,
                          new_version: bool = False) -> list[str]:
    """Import several files of one Kaggle dataset or competition, each as its own dataset, as one
    background job per file; returns the job ids.  Every name is checked before any job starts."""
    return [submit_kaggle_import(ws, handle, name, file=file, new_version=new_version)
            for file, name in _kaggle_plan(ws, handle, files, names, new_version)]


def import_kaggle_files(ws: Workspace, handle: str, files: Sequence[str], names: Sequence[str], *,
                        new_version: bool = False, progress: ProgressFn | None = None,
                        on_saved: Callable[[VersionInfo], None] | None = None) -> list[VersionInfo]:
    """:func:`submit_kaggle_imports` in this process, one file after the other (the command line's form).

    ``on_saved`` hears of each version as it is saved.  A failure stops there and raises; the files
    imported before it stay imported, each a whole version.
    """
    saved = []
    for file, name in _kaggle_plan(ws, handle, files, names, new_version):
        url, options = kaggle_source(handle, file=file)
        saved.append(import_remote(ws, url, name, options=options, if_exists="new_version" if new_version else "error",
                                   progress=progress))
        if on_saved is not None:
            on_saved(saved[-1])
    return saved


def _stored_url(url: str) -> str:
    scheme, _, rest = url.partition(":")
    return f"{scheme}:{public_url(rest)}" if scheme == "sql" else url


def import_remote(ws: Workspace, url: str, name: str, *, options: dict[str, Any] | None = None,
                  if_exists: str = "error", progress: ProgressFn | None = None, note: str = "") -> VersionInfo:
    """Read the source ``url`` (``sql:…``) and save it as a version of ``name``; nothing is saved on failure."""
    name = validate_name(name)
    report = progress or (lambda _f, _m: None)
    if if_exists == "error":
        _check_name_free(ws, name, if_exists)  # before minutes of fetching
    opts = dict(options or {}) | {"staging_dir": str(ws.settings.staging_dir), "secrets_home": str(ws.settings.home)}
    refresh = {"url": _stored_url(url), "options": {k: v for k, v in opts.items() if k not in _NOT_STORED}}
    saving = lambda f, m: report(0.75 + 0.25 * f, m)  # noqa: E731
    # A source that streams (a CSV object) is saved batch by batch: the whole table is never held.
    with open_source(url, opts, progress=lambda f, m: report(0.75 * f, m),
                     max_bytes=ws.settings.max_upload_bytes) as source:
        if isinstance(source, SourceStream):
            provenance, what = _provenance(source.provenance, refresh, url)
            try:
                return save_version_from_batches(
                    ws, name, source.schema, source.batches, provenance=provenance, roles=source.roles or None,
                    if_exists=if_exists, note=note or what, progress=saving)
            except StreamBroken:  # a later block broke the first block's types: read it whole after all
                source = source.whole()
        provenance, what = _provenance(source.provenance, refresh, url)
        table = source.table
        if table.num_rows > PART_ROWS and cluster_is_set(ws):
            # A database table or a bucket's Parquet, read whole (spooled on disk, mapped, not in memory), is
            # stored in parts when a cluster is set, so the cluster reads and trains on it by part.
            return save_version_from_batches(
                ws, name, table.schema, table.to_batches(), provenance=provenance, roles=source.roles or None,
                if_exists=if_exists, note=note or what, progress=saving)
        return save_version(ws, name, table, provenance=provenance, roles=source.roles or None,
                            if_exists=if_exists, note=note or what, progress=saving)


def _provenance(prov: dict[str, Any], refresh: dict[str, Any], url: str) -> tuple[dict[str, Any], str]:
    """The version's provenance (the source's, plus how to refresh it) and its default note."""
    what = prov.get("table") or prov.get("key") or prov.get("prefix") or prov.get("file") or "a query"
    where = prov.get("url") or (f"s3://{prov['bucket']}" if "bucket" in prov else url)
    return prov | {"refresh": refresh}, f"Imported {what} from {where}"


def refresh_version(ws: Workspace, ref: str, progress: ProgressFn | None = None) -> VersionInfo:
    """Pull the source of ``ref`` (``NAME`` or ``NAME@VERSION``) again, as the next version of its dataset."""
    version = get_version(ws, ref)
    source = version.provenance.get("refresh")
    if not source:
        raise InvalidInputError(
            f"{version.label} was not imported from a database, a bucket or Kaggle, so it cannot be refreshed.",
            hint="Refresh works for versions imported from SQL, S3 or Kaggle; import a new file as a new version "
            "instead.",
        )
    return import_remote(ws, source["url"], version.name, options=source.get("options"), if_exists="new_version",
                         progress=progress, note=f"Refreshed from the source of {version.label}")


def _check_job_url(url: str) -> None:
    from sqlalchemy.engine import make_url

    scheme, _, rest = url.partition(":")
    try:
        inline = scheme == "sql" and make_url(rest.strip()).password is not None
    except Exception:  # not a URL: the reader says so when the job runs
        inline = False
    if inline:
        raise InvalidInputError(
            "The database URL carries a password; a background job's parameters are stored, so it cannot take it.",
            hint="Remove the password from the URL and name the environment variable or secret that holds it.",
        )


def submit_remote_import(ws: Workspace, url: str, name: str, *, options: dict[str, Any] | None = None,
                         new_version: bool = False) -> str:
    """Import ``url`` (``sql:…``) as a background job; returns the job id."""
    _check_job_url(url)
    name = validate_name(name)
    if not new_version:
        _check_name_free(ws, name, "error")
    params = {"url": url, "name": name, "options": dict(options or {}),
              "if_exists": "new_version" if new_version else "error"}
    access.require(ws, "import")  # fail now, in the page; the job's save checks again
    return jobs.submit(ws, REMOTE_IMPORT_JOB, params, title=f"Import {_stored_url(url)[:80]} as {name!r}")


def submit_sql_import(ws: Workspace, url: str, name: str, *, table: str | None = None, schema: str | None = None,
                      query: str | None = None, password_secret: str | None = None, row_cap: int = DEFAULT_ROW_CAP,
                      statement_timeout_s: float = DEFAULT_STATEMENT_TIMEOUT_S, new_version: bool = False) -> str:
    """Import a SQL table or SELECT query as a background job; returns the job id."""
    source, options = sql_source(url, table=table, schema=schema, query=query, password_secret=password_secret,
                                 row_cap=row_cap, statement_timeout_s=statement_timeout_s)
    return submit_remote_import(ws, source, name, options=options, new_version=new_version)


def submit_refresh(ws: Workspace, ref: str) -> str:
    """Refresh ``ref`` from its source as a background job; returns the job id."""
    version = get_version(ws, ref)
    source = version.provenance.get("refresh")
    if not source:
        refresh_version(ws, ref)  # raises the message
    return submit_remote_import(ws, source["url"], version.name, options=source.get("options"), new_version=True)


def import_remote_job(ctx, url: str, name: str, options: dict[str, Any] | None = None,
                      if_exists: str = "error") -> dict[str, Any]:
    """Job body: read the source with a row-count progress (cancel checked after each batch) and save it."""
    version = import_remote(ctx.ws, url, name, options=options, if_exists=if_exists,
                            progress=lambda f, m: (ctx.check_cancelled(), ctx.progress(f, m)))
    ctx.log(f"Saved {version.label}: {version.n_rows:,} rows × {version.n_columns} columns")
    return {"version_id": version.id, "label": version.label}
