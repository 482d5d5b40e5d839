"""Reading a CSV or TSV file into a ``pyarrow.Table`` with pyarrow's CSV readers.

A large file is parsed on every core with progress block by block (a 350 MB
file in about a second on two cores); a small one and a preview go through the
streaming reader, which numbers lines for error messages.  Undecodable bytes,
ragged rows and empty files end in an ``InvalidInputError`` that says what was
found and what to do.
"""

from __future__ import annotations

import io
import queue
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from core.data.sources.sniff import Detection
from core.platform.errors import InvalidInputError
from core.platform.progress import ProgressFn

__all__ = ["NULL_VALUES", "read_csv"]

# pandas' default missing-value markers: what people expect "missing" to look like in a CSV.
NULL_VALUES = [
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA",
    "NULL", "NaN", "None", "n/a", "nan", "null",
]
_BLOCK_BYTES = 4 * 1024 * 1024
# Files past two blocks are parsed on every core; smaller ones are read in one go anyway.
_PARALLEL_FROM_BYTES = 2 * _BLOCK_BYTES
_PREVIEW_BYTES = 256 * 1024
_ROW_ERROR = re.compile(r"Expected (\d+) columns, got (\d+)")


def read_csv(
    path: Path, det: Detection, explicit: set[str], warnings: list[str], report: ProgressFn, max_rows: int | None = None
) -> pa.Table:
    """Read ``path`` as ``det`` describes it (the first ``max_rows`` rows for a preview).

    ``explicit`` names the options the user chose (an encoding chosen is never second-guessed);
    a file that is UTF-8 only at its start is read again as cp1252, with a line in ``warnings``.
    """
    try:
        table = _csv_attempt(path, det, report, max_rows)
    except UnicodeDecodeError as exc:
        raise _encoding_error(det, exc) from exc
    binary = [f.name for f in table.schema if pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type)]
    if binary:
        # pyarrow keeps undecodable bytes as binary: the file is not all in the detected encoding.
        if "encoding" in explicit or det.encoding not in ("utf-8", "utf-8-sig"):
            raise InvalidInputError(
                f"{det.filename} is not valid {det.encoding} text: column(s) {', '.join(map(repr, binary))} hold "
                "bytes that do not decode.",
                hint="Choose the file's real encoding (often cp1252 or latin-1 for files saved by Excel on Windows).",
            )
        warnings.append(
            f"The start of {det.filename} is UTF-8 but later bytes are not: it was read as cp1252. "
            "Check accented letters; choose another encoding if they look wrong."
        )
        det.encoding = "cp1252"
        return read_csv(path, det, explicit | {"encoding"}, warnings, report, max_rows)
    return table


def _csv_attempt(
    path: Path, det: Detection, report: ProgressFn, max_rows: int | None, *, threads: bool = True,
    infer_whole: bool = False,
) -> pa.Table:
    """One way of reading the CSV; the ``except`` clause picks the next one when it fails.

    - preview (``max_rows``): the streaming reader on one thread, stopping after the first blocks;
    - small file, or ``threads=False``: the streaming reader on one thread, which numbers the
      lines for error messages;
    - large file: the column types of the first block, then the whole file parsed on every core
      with those types (giving the types up front keeps memory at the table's size: inferring
      them makes pyarrow hold every parsed block until the end, twice the memory);
    - ``infer_whole``: types inferred over the whole file, after a later block broke the first
      block's types (e.g. 'n/a' deep in a numeric column).
    """
    bad_rows: list[Any] = []

    def on_bad_row(row: Any) -> str:
        if max_rows is not None and row.number is not None and row.number > max_rows + 1:
            return "skip"  # past what the preview shows: read_table will name it
        bad_rows.append(row)
        return "error"

    encoding = "utf8" if det.encoding in (None, "utf-8", "utf-8-sig") else det.encoding
    parallel = threads and max_rows is None and (infer_whole or det.size_bytes > _PARALLEL_FROM_BYTES)

    def read_options(use_threads: bool) -> pacsv.ReadOptions:
        return pacsv.ReadOptions(
            encoding=encoding, use_threads=use_threads, autogenerate_column_names=not det.has_header,
            block_size=_BLOCK_BYTES if max_rows is None else _PREVIEW_BYTES,
        )

    parse = pacsv.ParseOptions(delimiter=det.delimiter or ",", newlines_in_values=True, invalid_row_handler=on_bad_row)
    convert = pacsv.ConvertOptions(null_values=NULL_VALUES, strings_can_be_null=True)
    try:
        if max_rows is not None or not (parallel or infer_whole):
            return _read_csv_stream(path, det, report, read_options(False), parse, convert, max_rows)
        if not infer_whole:
            with pa.OSFile(str(path)) as source:  # the streaming reader infers the types of the first block
                convert.column_types = pacsv.open_csv(source, read_options=read_options(False), parse_options=parse,
                                                      convert_options=convert).schema
        return _read_csv_whole(path, det, report, read_options(parallel), parse, convert)
    except pa.ArrowInvalid as exc:
        text = str(exc)
        if bad_rows or _ROW_ERROR.search(text):
            if parallel:
                # Parsing on several threads cannot number lines: read again on one to name the bad one.
                return _csv_attempt(path, det, lambda _f, _m: None, max_rows, threads=False, infer_whole=infer_whole)
            raise _ragged_error(det, bad_rows[0] if bad_rows else None, text) from exc
        if "conversion error" in text and max_rows is None and not infer_whole:
            report(0.5, "Re-reading with types inferred from the whole file")
            return _csv_attempt(path, det, report, None, threads=threads, infer_whole=True)
        if "Empty CSV file" in text:
            raise InvalidInputError(f"{det.filename} holds no rows.", hint="Upload a file with data.") from exc
        raise InvalidInputError(
            f"{det.filename} could not be read as {det.format.upper()}: {text}",
            hint=f"Check the delimiter (now {det.delimiter!r}) and the encoding (now {det.encoding}).",
        ) from exc


def _read_csv_stream(
    path: Path, det: Detection, report: ProgressFn, read: pacsv.ReadOptions, parse: pacsv.ParseOptions,
    convert: pacsv.ConvertOptions, max_rows: int | None,
) -> pa.Table:
    batches: list[pa.RecordBatch] = []
    rows = 0
    with pa.OSFile(str(path)) as source:
        reader = pacsv.open_csv(source, read_options=read, parse_options=parse, convert_options=convert)
        for batch in reader:
            batches.append(batch)
            rows += batch.num_rows
            if max_rows is not None and rows >= max_rows:
                break
            # One batch per block: pyarrow reads ahead, so the file position says nothing about progress.
            done = min(len(batches) * _BLOCK_BYTES / max(det.size_bytes, 1), 1.0)
            report(0.95 * done, f"Read {rows:,} rows ({done:.0%})")
        return pa.Table.from_batches(batches, schema=reader.schema)


def _read_csv_whole(
    path: Path, det: Detection, report: ProgressFn, read: pacsv.ReadOptions, parse: pacsv.ParseOptions,
    convert: pacsv.ConvertOptions,
) -> pa.Table:
    """``pyarrow.csv.read_csv`` (which parses blocks in parallel, unlike the serial streaming reader)
    with progress as it reads the file.

    It runs in a worker thread; each block it reads is reported here, on the caller's thread, so
    a progress callback that raises (a cancelled job) stops the read.
    """
    events: queue.SimpleQueue[int | None] = queue.SimpleQueue()
    with _CountingFile(path, events) as source, ThreadPoolExecutor(1) as pool:

        def work() -> pa.Table:
            try:
                return pacsv.read_csv(source, read_options=read, parse_options=parse, convert_options=convert)
            finally:
                events.put(None)

        reading = pool.submit(work)
        try:
            while (offset := events.get()) is not None:
                done = min(offset / max(det.size_bytes, 1), 1.0)
                report(0.95 * done, f"Read {offset / 2**20:,.0f} of {det.size_bytes / 2**20:,.0f} MB ({done:.0%})")
        except BaseException:
            source.stopped = True  # the reader fails at its next block; leaving the pool waits for it
            raise
        return reading.result()


class _CountingFile(io.RawIOBase):
    """A read-only file that posts how far it has been read, and refuses to go on once stopped.

    pyarrow calls ``read_buffer``: the blocks come from pyarrow's own file and memory pool (a
    Python-level ``read`` would allocate every block with malloc, which keeps a few hundred MB
    of freed blocks resident).
    """

    def __init__(self, path: Path, events: queue.SimpleQueue[int | None]) -> None:
        super().__init__()
        self.native = pa.OSFile(str(path))
        self.events, self.offset, self.stopped = events, 0, False

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.offset

    def read_buffer(self, nbytes: int = -1) -> pa.Buffer:
        if self.stopped:
            raise OSError("Reading was stopped.")
        buffer = self.native.read_buffer(nbytes if nbytes is not None and nbytes >= 0 else None)
        self.offset += buffer.size
        self.events.put(self.offset)
        return buffer

    def read(self, size: int = -1) -> bytes:
        return self.read_buffer(size).to_pybytes()

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.native.close()
        super().close()


def _ragged_error(det: Detection, row: Any, text: str) -> InvalidInputError:
    if row is not None:
        expected, found, number, content = row.expected_columns, row.actual_columns, row.number, row.text
    else:
        match = _ROW_ERROR.search(text)
        expected, found, number, content = int(match.group(1)), int(match.group(2)), None, ""
    where = f"Line {number}" if number is not None else "A line"
    shown = f": {content[:80]!r}" if content else ""
    delimiter = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(det.delimiter or ",", det.delimiter)
    return InvalidInputError(
        f"{where} of {det.filename} has {found} field(s) where the header has {expected}{shown}.",
        hint=f"Fields are split on the {delimiter}: quote values that contain it, fix that line, "
        "or choose another delimiter.",
    )


def _encoding_error(det: Detection, exc: UnicodeDecodeError) -> InvalidInputError:
    return InvalidInputError(
        f"{det.filename} is not valid {det.encoding} text (byte {exc.object[exc.start:exc.start + 1]!r} "
        f"at position {exc.start:,} does not decode).",
        hint="Choose the file's real encoding: cp1252 or latin-1 for most files saved by Excel on Windows.",
    )
