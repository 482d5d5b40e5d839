"""Sources by scheme: one reader contract, a table plus its provenance.

A source is named by a URL whose scheme picks the reader: ``file:///path/to/data.csv`` (or a
plain path), ``sample:titanic``.  The coming SQL, S3 and Kaggle readers join :data:`READERS`
with :func:`register_reader`; an unknown scheme fails and lists the known ones.  A reader never
puts a secret in the provenance it returns: that dict is stored with the dataset version.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pyarrow as pa

from core.data.sources import samples
from core.data.sources.files import read_table
from core.platform.errors import InvalidInputError
from core.platform.progress import ProgressFn

__all__ = ["READERS", "SourceTable", "read_source", "register_reader"]


@dataclass(frozen=True)
class SourceTable:
    """What every reader returns: the table, where it came from, and what was noticed on the way.

    ``roles`` are column roles the source itself knows (a sample's target, say); ``provenance``
    is plain JSON without secrets.
    """

    table: pa.Table
    provenance: dict[str, Any]
    roles: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


# reader(location, options, progress, max_bytes) -> SourceTable; ``location`` is the URL minus its scheme.
Reader = Callable[[str, Mapping[str, Any], ProgressFn, "int | None"], SourceTable]
READERS: dict[str, Reader] = {}
# Readers whose modules register themselves when first needed (imported by name, so this module,
# which they import, does not import them: no circle, and no SQL or S3 client loaded for a file).
PLUGINS: dict[str, str] = {"sql": "core.data.sources.sql", "s3": "core.data.sources.s3",
                        "kaggle": "core.data.sources.kaggle"}


def register_reader(scheme: str, reader: Reader) -> None:
    """Make ``scheme://…`` URLs readable by ``reader``."""
    READERS[scheme] = reader


def read_source(url: str | Path, options: Mapping[str, Any] | None = None, *, progress: ProgressFn | None = None,
                max_bytes: int | None = None) -> SourceTable:
    """Read the table that ``url`` names, through the reader of its scheme.

    Raises
    ------
    InvalidInputError
        An unknown scheme (the message lists the known ones), or whatever the reader refuses.
    """
    if isinstance(url, Path):
        scheme, location = "file", str(url)
    else:
        parts = urlsplit(url)
        if len(parts.scheme) <= 1:  # a plain path (or a Windows drive letter)
            scheme, location = "file", url
        else:
            scheme = parts.scheme
            location = unquote(parts.path) if scheme == "file" else url.split(":", 1)[1].lstrip("/")
    if scheme not in READERS and scheme in PLUGINS:
        importlib.import_module(PLUGINS[scheme])
    if scheme not in READERS:
        raise InvalidInputError(
            f"Atelier cannot read sources of the kind {scheme!r}.",
            hint=f"Known kinds: {', '.join(sorted(READERS.keys() | PLUGINS.keys()))}.",
        )
    return READERS[scheme](location, dict(options or {}), progress or (lambda _f, _m: None), max_bytes)


def _read_file(location: str, options: Mapping[str, Any], progress: ProgressFn, max_bytes: int | None) -> SourceTable:
    path = Path(location)
    result = read_table(path, options, max_bytes=max_bytes, progress=progress)
    provenance = {"source": "file", "filename": path.name, "size_bytes": path.stat().st_size,
                  "detected": result.detection.to_dict(), "warnings": list(result.warnings)}
    return SourceTable(result.table, provenance, warnings=list(result.warnings))


def _read_sample(location: str, options: Mapping[str, Any], progress: ProgressFn,
                 max_bytes: int | None) -> SourceTable:
    frame = samples.load_sample(location)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    roles = {c: "feature" for c in frame.columns} | samples.suggested_roles(location)
    return SourceTable(table, samples.sample_provenance(location), roles=roles)


register_reader("file", _read_file)
register_reader("sample", _read_sample)
