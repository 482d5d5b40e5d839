"""Sources by scheme: one reader contract, a table plus its provenance.

A source is named by a URL whose scheme picks the reader: ``file:///path/to/data.csv`` (or a
plain path), ``sample:titanic``.  The coming SQL, S3 and Kaggle readers join :data:`READERS`
with :func:`register_reader`; an unknown scheme fails and lists the known ones.  A reader never
puts a secret in the provenance it returns: that dict is stored with the dataset version.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pyarrow as pa

from core.data.sources import samples
from core.data.sources.files import read_table
from core.platform.errors import InvalidInputError
from core.platform.progress import ProgressFn

__all__ = ["READERS", "STREAMERS", "SourceStream", "SourceTable", "open_source", "read_source", "register_reader",
           "register_streamer"]


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


@dataclass
class SourceStream:
    """A source read as Arrow record batches, so that saving it never holds the whole table.

    ``batches`` (each of ``schema``) may raise ``StreamBroken``
    (:mod:`core.data.sources.csvstream`): a later block did not fit the first block's types.
    ``whole()`` then reads the same staged data the ordinary way, as a :class:`SourceTable`.
    """

    schema: pa.Schema
    batches: Iterator[pa.RecordBatch]
    provenance: dict[str, Any]
    whole: Callable[[], SourceTable]
    roles: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


# reader(location, options, progress, max_bytes) -> SourceTable; ``location`` is the URL minus its scheme.
Reader = Callable[[str, Mapping[str, Any], ProgressFn, "int | None"], SourceTable]
READERS: dict[str, Reader] = {}
# streamer(...same...) -> a context that yields a SourceStream, or a SourceTable when the data does
# not stream (an Excel object, say); leaving it removes whatever was staged for the stream.
Streamer = Callable[[str, Mapping[str, Any], ProgressFn, "int | None"],
                    AbstractContextManager["SourceStream | SourceTable"]]
STREAMERS: dict[str, Streamer] = {}
# Readers whose modules register themselves when first needed (imported by name, so this module,
# which they import, does not import them: no circle, and no SQL or S3 client loaded for a file).
PLUGINS: dict[str, str] = {"sql": "core.data.sources.sql", "s3": "core.data.sources.s3",
                        "kaggle": "core.data.sources.kaggle"}


def register_reader(scheme: str, reader: Reader) -> None:
    """Make ``scheme://…`` URLs readable by ``reader``."""
    READERS[scheme] = reader


def register_streamer(scheme: str, streamer: Streamer) -> None:
    """Let :func:`open_source` read ``scheme://…`` URLs as a stream of batches through ``streamer``."""
    STREAMERS[scheme] = streamer


def open_source(url: str | Path, options: Mapping[str, Any] | None = None, *, progress: ProgressFn | None = None,
                max_bytes: int | None = None) -> AbstractContextManager[SourceStream | SourceTable]:
    """A context yielding what ``url`` names: a :class:`SourceStream` where its scheme's streamer
    can stream it, else the :class:`SourceTable` of :func:`read_source`.  Raises as that does."""
    scheme, location = _split(url)
    report = progress or (lambda _f, _m: None)
    if scheme in STREAMERS:
        return STREAMERS[scheme](location, dict(options or {}), report, max_bytes)
    return nullcontext(read_source(url, options, progress=progress, max_bytes=max_bytes))


def read_source(url: str | Path, options: Mapping[str, Any] | None = None, *, progress: ProgressFn | None = None,
                max_bytes: int | None = None) -> SourceTable:
    """Read the table that ``url`` names, through the reader of its scheme.

    Raises
    ------
    InvalidInputError
        An unknown scheme (the message lists the known ones), or whatever the reader refuses.
    """
    scheme, location = _split(url)
    return READERS[scheme](location, dict(options or {}), progress or (lambda _f, _m: None), max_bytes)


def _split(url: str | Path) -> tuple[str, str]:
    """The scheme (its reader loaded, or a message listing the known ones) and the location."""
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
    return scheme, location


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
