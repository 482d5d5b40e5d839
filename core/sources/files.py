"""Reading an uploaded file into a ``pyarrow.Table``.

CSV/TSV go through pyarrow's CSV readers: a large file is parsed on every core
with progress block by block (a 350 MB file in about a second on two cores),
a small one and a preview through the streaming reader.  Parquet goes through
``pyarrow.parquet``, JSON Lines through ``pyarrow.json``; Excel through
openpyxl (via pandas) and JSON documents through the standard ``json`` module
(:mod:`core.sources.jsontable`).  How the file is written comes from
:func:`core.sources.sniff.sniff` and can be overridden.  Every way a file can
be unusable ends in an ``InvalidInputError`` that says what was found and
what to do.
"""

from __future__ import annotations

import io
import queue
import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from core.errors import InvalidInputError
from core.sources import jsontable
from core.sources.sniff import SUPPORTED_EXTENSIONS, Detection, sniff

__all__ = [
    "NULL_VALUES",
    "SUPPORTED_EXTENSIONS",
    "ColumnNameError",
    "Detection",
    "ReadResult",
    "read_preview",
    "read_table",
    "sniff",
    "suggest_column_names",
]

Progress = Callable[[float, str], None]
# pandas' default missing-value markers: what people expect "missing" to look like in a CSV.
NULL_VALUES = [
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA",
    "NULL", "NaN", "None", "n/a", "nan", "null",
]
_BLOCK_BYTES = 4 * 1024 * 1024
# Files past two blocks are parsed on every core; smaller ones are read in one go anyway.
_PARALLEL_FROM_BYTES = 2 * _BLOCK_BYTES
_PREVIEW_BYTES = 256 * 1024
_PANDAS_INDEX = re.compile(r"^__index_level_\d+__$")
_ROW_ERROR = re.compile(r"Expected (\d+) columns, got (\d+)")


@dataclass
class ReadResult:
    """A file read into memory: the table, how it was read, and what was noticed on the way."""

    table: pa.Table
    detection: Detection
    warnings: list[str] = field(default_factory=list)


class ColumnNameError(InvalidInputError):
    """Duplicate or empty column names; ``suggested_names`` holds a usable renaming."""

    def __init__(self, message: str, hint: str, suggested_names: list[str]) -> None:
        super().__init__(message, hint)
        self.suggested_names = suggested_names


def suggest_column_names(names: Sequence[Any]) -> list[str]:
    """Names made usable: empty ones become ``column_<position>``, repeats get ``_2``, ``_3``...

    Examples
    --------
    >>> suggest_column_names(["a", "a", "", "b"])
    ['a', 'a_2', 'column_3', 'b']
    """
    texts = ["" if n is None else str(n).strip() for n in names]
    taken = set(texts)
    seen: set[str] = set()
    out: list[str] = []
    for position, text in enumerate(texts, start=1):
        candidate = text or f"column_{position}"
        if candidate in seen or (not text and candidate in taken):
            stem, k = candidate, 2
            while f"{stem}_{k}" in taken or f"{stem}_{k}" in seen:
                k += 1
            candidate = f"{stem}_{k}"
        seen.add(candidate)
        out.append(candidate)
    return out


def read_table(
    path: str | Path,
    options: Detection | Mapping[str, Any] | None = None,
    *,
    sheet: str | None = None,
    max_bytes: int | None = None,
    progress: Progress | None = None,
    rename_columns: bool = False,
) -> ReadResult:
    """Read a whole file.

    Parameters
    ----------
    path : the file; its extension picks the format unless ``options`` says otherwise.
    options : a :class:`Detection` to use as is, or overrides of what :func:`sniff` detects
        (``format``, ``encoding``, ``delimiter``, ``has_header``, ``sheet``, and
        ``rename_columns``).
    sheet : the Excel worksheet to read (default: the first).
    max_bytes : refuse files larger than this.
    progress : called as ``progress(fraction, message)`` while reading.
    rename_columns : replace duplicate or empty column names by :func:`suggest_column_names`'s
        instead of refusing them.

    Returns
    -------
    ReadResult

    Raises
    ------
    InvalidInputError
        For any file that cannot be read as a table (``ColumnNameError`` for bad column names).
    """
    path = Path(path)
    detection, explicit, rename = _resolve(path, options, sheet, rename_columns)
    report = progress or (lambda _f, _m: None)
    _check_size(detection, max_bytes)
    warnings = list(detection.notes)
    report(0.0, f"Reading {detection.filename}")
    if detection.format in ("csv", "tsv"):
        table = _read_csv(path, detection, explicit, warnings, report)
    elif detection.format == "parquet":
        table = _read_parquet(path, detection, warnings, report)
    elif detection.format == "excel":
        table = jsontable.frame_to_table(_read_excel(path, detection), warnings)
    elif detection.format == "jsonl":
        table = jsontable.read_json_lines(path, detection, warnings)
    else:
        table = jsontable.read_json(path, detection, warnings)
    table = _finish(table, detection, rename, warnings)
    report(1.0, f"Read {table.num_rows:,} rows × {table.num_columns} columns")
    return ReadResult(table, detection, warnings)


def read_preview(path: str | Path, options: Detection | Mapping[str, Any] | None = None, n: int = 100) -> pd.DataFrame:
    """The first ``n`` rows, read without loading the rest of the file.

    Takes the same ``options`` as :func:`read_table` and raises the same errors
    for what the head shows (bad delimiter, encoding, column names).
    """
    path = Path(path)
    detection, explicit, rename = _resolve(path, options, None, False)
    warnings: list[str] = []
    if detection.format in ("csv", "tsv"):
        table = _read_csv(path, detection, explicit, warnings, lambda _f, _m: None, max_rows=n)
    elif detection.format == "parquet":
        reader = _parquet_file(path, detection)
        batch = next(reader.iter_batches(batch_size=n), None)
        table = pa.Table.from_batches([batch]) if batch is not None else reader.schema_arrow.empty_table()
    elif detection.format == "excel":
        table = jsontable.frame_to_table(_read_excel(path, detection, nrows=n), warnings)
    elif detection.format == "jsonl":
        table = jsontable.read_json_lines(path, detection, warnings, max_rows=n)
    else:
        table = jsontable.read_json(path, detection, warnings)
    return _finish(table.slice(0, n), detection, rename, warnings).to_pandas()


# ---------------------------------------------------------------- options


def _resolve(
    path: Path, options: Detection | Mapping[str, Any] | None, sheet: str | None, rename: bool
) -> tuple[Detection, set[str], bool]:
    if isinstance(options, Detection):
        detection = options if sheet is None else options.with_overrides({"sheet": sheet})
        return detection, set(), rename
    overrides = dict(options or {})
    rename = bool(overrides.pop("rename_columns", rename))
    if sheet is not None:
        overrides["sheet"] = sheet
    detection = sniff(path)
    if overrides.get("format") not in (None, detection.format):
        # The user says the extension lies: sniff the content as that format.
        detection = sniff(path, f"{path.stem}.{overrides['format']}")
        detection.filename = path.name
    explicit = {k for k, v in overrides.items() if v is not None}
    return detection.with_overrides(overrides), explicit, rename


def _check_size(detection: Detection, max_bytes: int | None) -> None:
    if max_bytes is not None and detection.size_bytes > max_bytes:
        size, limit = detection.size_bytes / 2**20, max_bytes / 2**20
        raise InvalidInputError(
            f"{detection.filename} is {size:,.1f} MB, over the {limit:,.1f} MB upload limit (ATELIER_MAX_UPLOAD_MB).",
            hint="Raise ATELIER_MAX_UPLOAD_MB (and server.maxUploadSize in .streamlit/config.toml), "
            "or load the data from SQL or S3 instead.",
        )


# ---------------------------------------------------------------- CSV


def _read_csv(
    path: Path, det: Detection, explicit: set[str], warnings: list[str], report: Progress, max_rows: int | None = None
) -> pa.Table:
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
        return _read_csv(path, det, explicit | {"encoding"}, warnings, report, max_rows)
    return table


def _csv_attempt(
    path: Path, det: Detection, report: Progress, max_rows: int | None, *, threads: bool = True,
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
    path: Path, det: Detection, report: Progress, read: pacsv.ReadOptions, parse: pacsv.ParseOptions,
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
    path: Path, det: Detection, report: Progress, read: pacsv.ReadOptions, parse: pacsv.ParseOptions,
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


# ---------------------------------------------------------------- Parquet and Excel


def _parquet_file(path: Path, det: Detection) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInputError(
            f"{det.filename} cannot be read as Parquet: {exc}.",
            hint="The file may be truncated: upload it again, or export the data as CSV.",
        ) from exc


def _read_parquet(path: Path, det: Detection, warnings: list[str], report: Progress) -> pa.Table:
    reader = _parquet_file(path, det)
    groups = reader.metadata.num_row_groups
    parts = []
    for i in range(groups):
        parts.append(reader.read_row_group(i))
        report((i + 1) / groups * 0.95, f"Read row group {i + 1} of {groups}")
    table = pa.concat_tables(parts) if parts else reader.schema_arrow.empty_table()
    index = [c for c in table.column_names if _PANDAS_INDEX.match(c)]
    if index:
        warnings.append(f"Dropped the stored pandas index column(s) {', '.join(index)}.")
        table = table.drop_columns(index)
    return table


def _read_excel(path: Path, det: Detection, nrows: int | None = None) -> pd.DataFrame:
    sheet = det.sheet or (det.sheets or [0])[0]
    try:
        frame = pd.read_excel(path, sheet_name=sheet, header=None, engine="openpyxl",
                              nrows=None if nrows is None else nrows + 1)
    except (ValueError, KeyError, OSError) as exc:
        raise InvalidInputError(
            f"Sheet {sheet!r} of {det.filename} cannot be read: {exc}.",
            hint="Open the workbook and save it again as .xlsx, or export the sheet as CSV.",
        ) from exc
    frame = frame.dropna(how="all").dropna(axis=1, how="all")
    if frame.empty:
        raise InvalidInputError(
            f"Sheet {sheet!r} of {det.filename} is empty.",
            hint=f"Pick the sheet that holds the table; the workbook has {', '.join(map(repr, det.sheets or []))}.",
        )
    if det.has_header:
        names = [_cell_name(v) for v in frame.iloc[0]]
        frame = frame.iloc[1:]
    else:
        names = [f"column_{i + 1}" for i in range(frame.shape[1])]
    frame = frame.reset_index(drop=True).infer_objects()
    frame.columns = names
    return frame


def _cell_name(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value).strip()


# ---------------------------------------------------------------- common finish


def _finish(table: pa.Table, det: Detection, rename: bool, warnings: list[str]) -> pa.Table:
    names = [str(n) for n in table.column_names]
    if det.format in ("csv", "tsv") and not det.has_header:
        names = [f"column_{i + 1}" for i in range(len(names))]
    if table.num_columns == 0:
        raise InvalidInputError(f"{det.filename} holds no columns.", hint="Upload a file with a table in it.")
    fixed = suggest_column_names(names)
    if fixed != names:
        if not rename:
            raise _names_error(det, names, fixed)
        changes = ", ".join(f"{a!r} → {b!r}" for a, b in zip(names, fixed, strict=True) if a != b)
        warnings.append(f"Renamed columns: {changes}.")
        names = fixed
    table = table.rename_columns(names)
    if table.num_rows == 0:
        raise InvalidInputError(
            f"{det.filename} has a header ({table.num_columns} column(s): {', '.join(names[:10])}) but no data rows.",
            hint="Upload a file with at least one row of data under the header.",
        )
    return _normalise_datetimes(table)


def _names_error(det: Detection, names: list[str], fixed: list[str]) -> ColumnNameError:
    parts = []
    empty = [str(i + 1) for i, n in enumerate(names) if not n.strip()]
    if empty:
        parts.append(f"column(s) {', '.join(empty)} have no name")
    repeated = sorted({n for n in names if n.strip() and names.count(n) > 1})
    if repeated:
        parts.append(f"{', '.join(map(repr, repeated))} appear(s) more than once")
    return ColumnNameError(
        f"{det.filename}'s column names cannot be used: {'; '.join(parts)}.",
        hint=f"Fix the header in the file, or import with the columns renamed to: {', '.join(fixed)}.",
        suggested_names=fixed,
    )


def _normalise_datetimes(table: pa.Table) -> pa.Table:
    """Dates and timestamps on nanoseconds, as pandas expects; dates out of that range stay in microseconds."""
    for i, f in enumerate(table.schema):
        if not (pa.types.is_date(f.type) or pa.types.is_timestamp(f.type)):
            continue
        tz = getattr(f.type, "tz", None)
        if f.type == pa.timestamp("ns", tz):
            continue
        try:
            column = table.column(i).cast(pa.timestamp("ns", tz))
        except pa.ArrowInvalid:
            column = table.column(i).cast(pa.timestamp("us", tz))
        table = table.set_column(i, pa.field(f.name, column.type), column)
    return table

