"""A CSV or TSV file as a stream of Arrow record batches, for imports too big to hold.

:func:`core.data.sources.files.read_table` builds the whole table; an import of a few hundred MB
would then hold that table and its Parquet at once.  Here pyarrow's streaming reader parses the
file block by block with the column types of the first block, and each batch gets the finishing
touches ``read_table`` gives a table (checked column names, timestamps on nanoseconds).

A later block that does not fit the first block's types (text deep in a numeric column, bytes
that are not UTF-8, a ragged row, a date out of the nanosecond range) ends the stream with
:class:`StreamBroken`: the caller then reads the file whole, the way that handles each of those
(types from the whole file, cp1252, a message naming the bad line).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from core.data.sources.csvfile import _BLOCK_BYTES, NULL_VALUES
from core.data.sources.files import _finish, _resolve
from core.data.sources.sniff import Detection
from core.platform.progress import ProgressFn

__all__ = ["CsvStream", "StreamBroken", "open_csv_stream"]

# Measured on 100 MB of the benchmark's CSV: 1 MB blocks keep ~35 MB in flight and parse in 0.85 s
# on one thread; pyarrow's threaded streaming reader took twice as long and read the whole file ahead.
_STREAM_BLOCK_BYTES = 1 << 20


class StreamBroken(Exception):
    """A block after the first did not fit the first block's column types; read the file whole."""


@dataclass
class CsvStream:
    """The finished schema, how the file was read, and its batches (to be consumed once)."""

    schema: pa.Schema
    detection: Detection
    batches: Iterator[pa.RecordBatch]
    warnings: list[str] = field(default_factory=list)


def open_csv_stream(path: Path, options: Mapping[str, Any] | None = None, *,
                    progress: ProgressFn | None = None) -> CsvStream | None:
    """``path`` as a stream of batches, or ``None`` when it is not a CSV/TSV or its first block
    already needs the whole-file reader (no rows, undecodable bytes, a bad row): ``read_table``
    then reads it and says what is wrong.  Bad column names raise as ``read_table`` raises them."""
    report = progress or (lambda _f, _m: None)
    det, _explicit, rename = _resolve(Path(path), dict(options or {}), None, False)
    if det.format not in ("csv", "tsv"):
        return None
    encoding = "utf8" if det.encoding in (None, "utf-8", "utf-8-sig") else det.encoding

    def read(block_bytes: int) -> pacsv.ReadOptions:
        return pacsv.ReadOptions(encoding=encoding, use_threads=False, block_size=block_bytes,
                                 autogenerate_column_names=not det.has_header)

    parse = pacsv.ParseOptions(delimiter=det.delimiter or ",", newlines_in_values=True)
    convert = pacsv.ConvertOptions(null_values=NULL_VALUES, strings_can_be_null=True)
    source = None
    try:
        # The types of the first 4 MB block, as read_table's large-file path takes them; then the
        # file in small blocks with those types: pyarrow reads some twenty blocks ahead whatever
        # the consumer does, so the block size bounds the memory (4 MB blocks: ~100 MB ahead).
        # The probe reads from the file's first two blocks only: opened on the file, it too
        # would read ~100 MB ahead.
        with pa.OSFile(str(path)) as head:
            start = pa.BufferReader(head.read_buffer(2 * _BLOCK_BYTES))
        convert.column_types = pacsv.open_csv(start, read_options=read(_BLOCK_BYTES), parse_options=parse,
                                              convert_options=convert).schema
        del start
        source = pa.OSFile(str(path))
        reader = pacsv.open_csv(source, read_options=read(_STREAM_BLOCK_BYTES), parse_options=parse,
                                convert_options=convert)
        first = pa.Table.from_batches([reader.read_next_batch()])
    except (pa.ArrowInvalid, StopIteration, UnicodeDecodeError):
        if source is not None:
            source.close()
        return None
    if any(pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type) for f in first.schema):
        source.close()  # not all in the detected encoding: the whole-file reader decides what to do
        return None
    warnings = list(det.notes)
    try:
        first = _finish(first, det, rename, warnings)
    except BaseException:
        source.close()
        raise
    return CsvStream(first.schema, det, _batches(reader, source, first, det, report), warnings)


def _batches(reader: pacsv.CSVStreamingReader, source: pa.NativeFile, first: pa.Table, det: Detection,
             report: ProgressFn) -> Iterator[pa.RecordBatch]:
    schema, names = first.schema, first.column_names
    rows, blocks = first.num_rows, 1
    try:
        yield from first.to_batches()
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            # Cast, not checked: timestamps go to nanoseconds as the first block's did, and a
            # value that does not fit raises like a block that does not parse.
            table = pa.Table.from_batches([batch]).rename_columns(names).cast(schema)
            rows, blocks = rows + table.num_rows, blocks + 1
            yield from table.to_batches()
            # One batch per block: pyarrow reads ahead, so the file position says nothing about progress.
            done = min(blocks * _STREAM_BLOCK_BYTES / max(det.size_bytes, 1), 1.0)
            report(0.95 * done, f"Read {rows:,} rows ({done:.0%})")
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError) as exc:
        raise StreamBroken(str(exc)) from exc
    finally:
        source.close()
