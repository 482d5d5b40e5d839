"""Reading an uploaded file into a ``pyarrow.Table``.

CSV/TSV go through pyarrow's CSV readers (:mod:`core.data.sources.csvfile`).  Parquet goes through
``pyarrow.parquet``, JSON Lines through ``pyarrow.json``; Excel through
openpyxl (via pandas) and JSON documents through the standard ``json`` module
(:mod:`core.data.sources.jsontable`).  How the file is written comes from
:func:`core.data.sources.sniff.sniff` and can be overridden.  Every way a file can
be unusable ends in an ``InvalidInputError`` that says what was found and
what to do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core.data.sources import jsontable
from core.data.sources.csvfile import NULL_VALUES, read_csv
from core.data.sources.sniff import SUPPORTED_EXTENSIONS, Detection, sniff
from core.platform.errors import InvalidInputError
from core.platform.progress import ProgressFn

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

_PANDAS_INDEX = re.compile(r"^__index_level_\d+__$")


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
    progress: ProgressFn | None = None,
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
        table = read_csv(path, detection, explicit, warnings, report)
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
        table = read_csv(path, detection, explicit, warnings, lambda _f, _m: None, max_rows=n)
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


# ---------------------------------------------------------------- Parquet and Excel


def _parquet_file(path: Path, det: Detection) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidInputError(
            f"{det.filename} cannot be read as Parquet: {exc}.",
            hint="The file may be truncated: upload it again, or export the data as CSV.",
        ) from exc


def _read_parquet(path: Path, det: Detection, warnings: list[str], report: ProgressFn) -> pa.Table:
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

