"""Guessing how an uploaded file is written: format, encoding, delimiter, header, sheets.

Everything here reads only the head of the file (``HEAD_BYTES``), so sniffing
a 200 MB upload is instant.  The result, a :class:`Detection`, is shown to the
user and every field can be overridden before the whole file is read by
:mod:`core.data.sources.files`.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from core.platform.errors import InvalidInputError

__all__ = ["DELIMITERS", "Detection", "HEAD_BYTES", "SUPPORTED_EXTENSIONS", "sniff"]

HEAD_BYTES = 1024 * 1024
# Extension (lower case, no dot) -> format.  The keys are what the upload widget accepts.
SUPPORTED_EXTENSIONS: dict[str, str] = {
    "csv": "csv", "txt": "csv", "tsv": "tsv", "tab": "tsv", "xlsx": "excel", "xlsm": "excel",
    "parquet": "parquet", "pq": "parquet", "json": "json", "jsonl": "jsonl", "ndjson": "jsonl",
}
FORMATS = ("csv", "tsv", "excel", "parquet", "json", "jsonl")
TEXT_FORMATS = ("csv", "tsv", "json", "jsonl")
DELIMITERS = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_OVERRIDABLE = ("format", "encoding", "delimiter", "has_header", "sheet")
_NUMBER = re.compile(r"^\s*[-+]?(\d+[.,]?\d*|[.,]\d+)([eE][-+]?\d+)?\s*$")
# Non-ASCII letters this common among all letters mean a non-Latin script,
# where charset-normalizer's guess beats the cp1252 default.
_NON_LATIN_SHARE = 0.3


@dataclass
class Detection:
    """How a file will be read; every field is shown to the user and can be overridden.

    Attributes
    ----------
    format : one of ``csv, tsv, excel, parquet, json, jsonl``.
    encoding : text encoding (text formats only): ``utf-8``, ``utf-8-sig``, ``cp1252``, ...
    delimiter : field separator for CSV/TSV.
    has_header : whether the first row holds the column names (CSV/TSV/Excel).
    sheets : the workbook's worksheet names (Excel only).
    sheet : the worksheet to read (Excel only; the first one by default).
    size_bytes : size of the file.
    filename : the name the file was uploaded under.
    """

    format: str
    encoding: str | None = None
    delimiter: str | None = None
    has_header: bool = True
    sheets: list[str] | None = None
    sheet: str | None = None
    size_bytes: int = 0
    filename: str = ""
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """One line for the upload form, e.g. ``CSV · utf-8 · semicolon-separated · header row``."""
        parts = [self.format.upper() if self.format in ("csv", "tsv") else _FORMAT_TITLES[self.format]]
        if self.encoding:
            parts.append(self.encoding)
        if self.delimiter is not None:
            parts.append(f"{_DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))}-separated")
        if self.format in ("csv", "tsv", "excel"):
            parts.append("header row" if self.has_header else "no header row")
        if self.sheets:
            parts.append(f"sheets: {', '.join(self.sheets)}")
        parts.append(_human_size(self.size_bytes))
        return " · ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON for provenance."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Detection:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def with_overrides(self, overrides: Mapping[str, Any]) -> Detection:
        """A copy with the user's choices applied, each one checked.

        Raises
        ------
        InvalidInputError
            For an unknown option or a value that cannot be used.
        """
        unknown = sorted(set(overrides) - set(_OVERRIDABLE))
        if unknown:
            raise InvalidInputError(
                f"Unknown file option(s) {', '.join(map(repr, unknown))}; the options are {', '.join(_OVERRIDABLE)}."
            )
        changes = {k: v for k, v in overrides.items() if v is not None}
        if "format" in changes and changes["format"] not in FORMATS:
            raise InvalidInputError(f"The format must be one of {', '.join(FORMATS)}; got {changes['format']!r}.")
        if "encoding" in changes:
            changes["encoding"] = _check_encoding(str(changes["encoding"]))
        if "delimiter" in changes:
            delimiter = str(changes["delimiter"])
            if delimiter == "\\t":
                delimiter = "\t"
            if len(delimiter) != 1 or delimiter in "\"\r\n":
                raise InvalidInputError(
                    f"The delimiter must be a single character other than a quote or line break; got {delimiter!r}.",
                    hint="Common ones are comma (,), semicolon (;), tab and pipe (|).",
                )
            changes["delimiter"] = delimiter
        if "has_header" in changes:
            changes["has_header"] = bool(changes["has_header"])
        if "sheet" in changes and self.sheets is not None and changes["sheet"] not in self.sheets:
            raise InvalidInputError(
                f"The workbook has no sheet named {changes['sheet']!r}; its sheets are "
                f"{', '.join(map(repr, self.sheets))}.",
                hint="Pick one of those sheets.",
            )
        return replace(self, **changes)


_FORMAT_TITLES = {"excel": "Excel", "parquet": "Parquet", "json": "JSON", "jsonl": "JSON Lines"}


def sniff(source: str | Path | bytes, filename: str | None = None) -> Detection:
    """Detect format, encoding, delimiter, header and sheets from a file's head.

    Parameters
    ----------
    source : a path, or the file's bytes.
    filename : the name the file was uploaded under (its extension picks the
        format); defaults to the path's name.  Required for bytes.

    Returns
    -------
    Detection

    Raises
    ------
    InvalidInputError
        Empty file, unsupported extension, or binary content in a text format.
    """
    name = filename or (Path(source).name if not isinstance(source, bytes) else "")
    size = len(source) if isinstance(source, bytes) else _file_size(Path(source))
    fmt = format_of(name)
    head = source[:HEAD_BYTES] if isinstance(source, bytes) else _read_head(Path(source))
    if size == 0 or not head.strip():
        raise InvalidInputError(
            f"{name or 'The file'} is empty ({size} bytes).",
            hint="Upload a file that holds a header row and at least one data row.",
        )
    detection = Detection(format=fmt, size_bytes=size, filename=name)
    if fmt in TEXT_FORMATS:
        check_text(head, name)
        detection.encoding = detect_encoding(head)
        text = decode_head(head, detection.encoding, complete=len(head) == size)
        if fmt in ("csv", "tsv"):
            detection.delimiter = detect_delimiter(text, default="\t" if fmt == "tsv" else ",")
            if fmt == "tsv" and detection.delimiter != "\t":
                detection.notes.append("The file is named .tsv but its fields are not separated by tabs.")
            detection.has_header = detect_header(text, detection.delimiter)
        elif fmt == "json" and _looks_like_json_lines(text):
            detection.format = "jsonl"
            detection.notes.append("The .json file holds one JSON object per line: read as JSON Lines.")
    elif fmt == "excel":
        _check_magic(head, name, b"PK\x03\x04", "an Excel workbook (.xlsx)")
        detection.sheets = excel_sheets(io.BytesIO(source) if isinstance(source, bytes) else Path(source), name)
        detection.sheet = detection.sheets[0]
    elif fmt == "parquet":
        _check_magic(head, name, b"PAR1", "a Parquet file")
    return detection


def format_of(filename: str) -> str:
    """The format a file name's extension stands for."""
    suffix = Path(filename).suffix.lower().lstrip(".")
    if suffix not in SUPPORTED_EXTENSIONS:
        listed = ", ".join(f".{e}" for e in SUPPORTED_EXTENSIONS)
        raise InvalidInputError(
            f"Files ending in {'.' + suffix if suffix else '(no extension)'} cannot be read; "
            f"the supported extensions are {listed}.",
            hint="Export the data as CSV, Excel (.xlsx), Parquet or JSON, or rename the file if its extension is "
            "wrong.",
        )
    return SUPPORTED_EXTENSIONS[suffix]


def check_text(head: bytes, name: str) -> None:
    """Refuse binary content in a text format, naming what it looks like where possible."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return
    looks = {b"PK\x03\x04": "a ZIP archive or an Excel workbook (.xlsx)", b"PAR1": "a Parquet file",
             b"\xd0\xcf\x11\xe0": "an old Excel workbook (.xls)", b"\x1f\x8b": "a gzip archive"}
    for magic, what in looks.items():
        if head.startswith(magic):
            raise InvalidInputError(
                f"{name} is not a text file: it looks like {what}.",
                hint="Give the file its proper extension, or export the data as CSV.",
            )
    if b"\x00" in head:
        raise InvalidInputError(
            f"{name} is not a text file: it contains NUL bytes (binary data).",
            hint="Upload the data as CSV, Excel, Parquet or JSON; if it is a UTF-16 text file, save it as UTF-8.",
        )


def detect_encoding(head: bytes) -> str:
    """``utf-8-sig``, ``utf-8``, ``utf-16``, or the best single-byte guess (``cp1252`` by default)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        # final=False: the head may end in the middle of a multi-byte character.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = head.decode("cp1252")
    except UnicodeDecodeError:
        text = None
    letters = [c for c in (text or "") if c.isalpha()]
    non_ascii = sum(1 for c in letters if ord(c) > 127)
    if text is not None and (not letters or non_ascii / len(letters) < _NON_LATIN_SHARE):
        # Western text with a few accented letters: charset-normalizer's guesses on such samples
        # scatter over cp125x code pages, while Excel's "CSV" export on Western Windows is cp1252.
        return "cp1252"
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    return codecs.lookup(best.encoding).name if best is not None else "latin-1"


def decode_head(head: bytes, encoding: str, *, complete: bool) -> str:
    """The head as text; a truncated last line is dropped unless the head is the whole file."""
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=complete)
    text = text.removeprefix("\ufeff")
    if not complete and "\n" in text:
        text = text[: text.rindex("\n") + 1]
    return text


def detect_delimiter(text: str, default: str = ",") -> str:
    """The candidate delimiter that splits the head's rows most consistently into most fields."""
    best, best_score = default, (0.0, 1)
    for delimiter in DELIMITERS:
        counts = [len(row) for row in _rows(text, delimiter, limit=200) if row]
        if not counts:
            continue
        fields_, hits = Counter(counts).most_common(1)[0]
        if fields_ < 2:
            continue
        score = (round(hits / len(counts), 2), fields_)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def detect_header(text: str, delimiter: str) -> bool:
    """False only when the first row looks like data: numbers where the columns below hold numbers."""
    rows = [row for row in _rows(text, delimiter, limit=50) if row]
    if len(rows) < 2:
        return True
    first, body = rows[0], rows[1:]
    votes = 0
    for i, value in enumerate(first):
        column = [row[i] for row in body if i < len(row) and row[i].strip()]
        if column and all(_NUMBER.match(v) for v in column):
            votes += -1 if _NUMBER.match(value) else 1
    return votes >= 0


def excel_sheets(source: Path | io.BytesIO, name: str) -> list[str]:
    """The worksheet names of an .xlsx workbook (chart sheets left out)."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl fails on odd workbooks in many ways (KeyError, AttributeError, ...)
        raise InvalidInputError(
            f"{name} cannot be opened as an Excel workbook: {exc}.",
            hint="Open it in Excel or LibreOffice and save it again as .xlsx, or export the sheet as CSV.",
        ) from exc
    try:
        sheets = [ws.title for ws in workbook.worksheets]
    finally:
        workbook.close()
    if not sheets:
        raise InvalidInputError(
            f"{name} has no worksheets (only chart sheets or none at all).",
            hint="Add a worksheet holding the table, or export the data as CSV.",
        )
    return sheets


# ---------------------------------------------------------------- internals


def _rows(text: str, delimiter: str, limit: int) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    rows: list[list[str]] = []
    try:
        for row in reader:
            rows.append(row)
            if len(rows) >= limit:
                break
    except csv.Error:
        pass  # a stray quote in the head: judge on the rows read so far
    return rows


def _looks_like_json_lines(text: str) -> bool:
    lines = [line for line in text.splitlines() if line.strip()][:2]
    if len(lines) < 2 or not lines[0].lstrip().startswith("{"):
        return False
    try:
        json.loads(lines[0])
        json.loads(lines[1])
    except ValueError:
        return False
    return True


def _check_magic(head: bytes, name: str, magic: bytes, what: str) -> None:
    if not head.startswith(magic):
        raise InvalidInputError(
            f"{name} is not {what}: its first bytes do not match that format.",
            hint="Check the file's extension; a CSV saved under an .xlsx or .parquet name must be renamed to .csv.",
        )


def _check_encoding(name: str) -> str:
    try:
        codecs.lookup(name)
    except LookupError as exc:
        raise InvalidInputError(
            f"{name!r} is not a text encoding Python knows.",
            hint="Common ones are utf-8, utf-8-sig, cp1252 and latin-1.",
        ) from exc
    return name.strip().lower()


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise InvalidInputError(f"There is no readable file at {path}: {exc.strerror}.") from exc


def _read_head(path: Path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(HEAD_BYTES)


def _human_size(size: int) -> str:
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:,.1f} KB"
    return f"{size / 1024 / 1024:,.1f} MB"
