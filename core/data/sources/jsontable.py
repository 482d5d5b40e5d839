"""JSON documents and JSON Lines as tables; pandas frames as Arrow tables.

A JSON document is taken as a table when it is
an array of objects (records; nested objects become ``a.b`` columns),
an array of arrays (rows; the first is the header when it is all text),
an object of equal-length arrays (columns),
pandas' ``split`` layout (``{"columns": [...], "data": [[...]]}``),
an object of objects (pandas' ``columns`` layout, or records keyed by an id),
or an object with a single key holding records (``{"data": [{...}, ...]}``).
Anything else is refused with a message saying what the file holds instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from core.data.sources.sniff import Detection
from core.platform.errors import InvalidInputError

__all__ = ["frame_to_table", "json_to_frame", "read_json", "read_json_lines"]

_SHAPES = (
    'Expected an array of objects ([{"a": 1, "b": 2}, ...]), an array of arrays with a header row, '
    'or an object of equal-length arrays ({"a": [1, 2], "b": [3, 4]}).'
)


def read_json(path: Path, det: Detection, warnings: list[str]) -> pa.Table:
    """A JSON document as a table."""
    text = _decode(path.read_bytes(), det)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg == "Extra data" and text.lstrip().startswith("{"):
            warnings.append(f"{det.filename} holds one JSON object per line: it was read as JSON Lines.")
            return frame_to_table(_records_frame(_parse_lines(text.splitlines(), det, None), det), warnings)
        raise InvalidInputError(
            f"{det.filename} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
            hint="Fix the file there, or export the data again.",
        ) from exc
    return frame_to_table(json_to_frame(data, det.filename, warnings), warnings)


def read_json_lines(path: Path, det: Detection, warnings: list[str], max_rows: int | None = None) -> pa.Table:
    """JSON Lines (one object per line): pyarrow's reader first, the ``json`` module when types vary."""
    if max_rows is None and det.encoding in (None, "utf-8", "utf-8-sig"):
        import pyarrow.json as pajson

        try:
            table = pajson.read_json(path, parse_options=pajson.ParseOptions(unexpected_field_behavior="infer"))
            return _flatten(table, warnings)
        except pa.ArrowInvalid:
            pass  # types change between lines, or a line is broken: the slow path says which
    with open(path, encoding=_python_encoding(det), errors="strict") as handle:
        try:
            records = _parse_lines(handle, det, max_rows)
        except UnicodeDecodeError as exc:
            raise _decode_error(det, exc) from exc
    return frame_to_table(_records_frame(records, det), warnings)


def json_to_frame(data: Any, name: str, warnings: list[str]) -> pd.DataFrame:
    """A parsed JSON document as a DataFrame (see the module docstring for the layouts taken)."""
    if isinstance(data, list):
        return _list_frame(data, name)
    if isinstance(data, dict):
        return _object_frame(data, name, warnings)
    raise _not_table(name, f"a single {_kind(data)}")


def frame_to_table(frame: pd.DataFrame, warnings: list[str]) -> pa.Table:
    """A DataFrame as Arrow, column by column (duplicate names kept for the caller to judge).

    Object columns holding lists or objects become JSON text; columns mixing
    numbers and text become text.  Each such change adds a warning.
    """
    arrays, names = [], []
    for i in range(frame.shape[1]):
        series = frame.iloc[:, i]
        name = str(frame.columns[i])
        names.append(name)
        if series.dtype == object and any(isinstance(v, list | dict) for v in series.dropna().iloc[:1000]):
            warnings.append(f"Column {name!r} holds lists or objects; they were kept as JSON text.")
            arrays.append(pa.array([None if _missing(v) else json.dumps(v, default=str) for v in series],
                                   type=pa.string()))
            continue
        try:
            arrays.append(pa.array(series, from_pandas=True))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
            warnings.append(f"Column {name!r} mixes numbers and text; it was read as text.")
            arrays.append(pa.array([None if _missing(v) else str(v) for v in series], type=pa.string()))
    return pa.Table.from_arrays(arrays, names=names)


# ---------------------------------------------------------------- layouts


def _list_frame(data: list, name: str) -> pd.DataFrame:
    if not data:
        raise InvalidInputError(f"{name} holds an empty JSON array: there are no rows.", hint=_SHAPES)
    if all(isinstance(r, dict) for r in data):
        return pd.json_normalize(data)
    if all(isinstance(r, list) for r in data):
        widths = [len(r) for r in data]
        if len(set(widths)) > 1:
            k = next(i for i, w in enumerate(widths) if w != widths[0])
            raise InvalidInputError(
                f"{name} is an array of rows of different lengths: row 1 has {widths[0]} values, "
                f"row {k + 1} has {widths[k]}.",
                hint="Give every row the same number of values (use null for missing ones).",
            )
        first = data[0]
        if len(data) > 1 and all(isinstance(v, str) for v in first):
            return pd.DataFrame(data[1:], columns=first)
        return pd.DataFrame(data, columns=[f"column_{i + 1}" for i in range(widths[0])])
    if all(not isinstance(r, list | dict) for r in data):
        raise _not_table(name, "an array of single values, not of rows")
    raise _not_table(name, "an array that mixes objects, arrays and single values")


def _object_frame(data: dict, name: str, warnings: list[str]) -> pd.DataFrame:
    if not data:
        raise _not_table(name, "an empty object")
    values = list(data.values())
    if {"columns", "data"} <= set(data) and isinstance(data["columns"], list) and isinstance(data["data"], list):
        return pd.DataFrame(data["data"], columns=data["columns"])
    if all(isinstance(v, list) for v in values):
        lengths = {k: len(v) for k, v in data.items()}
        if len(set(lengths.values())) > 1:
            shown = ", ".join(f"{k!r} has {n}" for k, n in list(lengths.items())[:5])
            raise InvalidInputError(
                f"{name} is an object of arrays of different lengths ({shown}).",
                hint="Give every column the same number of values (use null for missing ones).",
            )
        if len(data) == 1 and values[0] and all(isinstance(r, dict) for r in values[0]):
            key = next(iter(data))
            warnings.append(f"Read the records under the key {key!r}.")
            return pd.json_normalize(values[0])
        if all(not isinstance(x, list | dict) for v in values for x in v[:100]):
            return pd.DataFrame(data)
    if all(isinstance(v, dict) for v in values) and all(
        not isinstance(x, list | dict) for v in values for x in list(v.values())[:100]
    ):
        inner = {k for v in values for k in v}
        if inner and all(str(k).isdigit() for k in inner):
            return pd.DataFrame(data)  # pandas' to_json() default: {column: {row: value}}
        frame = pd.DataFrame.from_dict(data, orient="index")
        return frame.reset_index(names="key")
    if len(data) == 1 and isinstance(values[0], dict):
        return _object_frame(values[0], name, warnings)
    keys = ", ".join(map(repr, list(data)[:8]))
    raise _not_table(name, f"an object with the keys {keys} whose values are not columns or records")


def _records_frame(records: list[dict], det: Detection) -> pd.DataFrame:
    if not records:
        raise InvalidInputError(f"{det.filename} holds no JSON objects: there are no rows.", hint=_SHAPES)
    return pd.json_normalize(records)


def _parse_lines(lines: Any, det: Detection, max_rows: int | None) -> list[dict]:
    records: list[dict] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(
                f"Line {number} of {det.filename} is not valid JSON: {exc.msg} (column {exc.colno}).",
                hint="JSON Lines needs one complete JSON object per line.",
            ) from exc
        if not isinstance(record, dict):
            raise InvalidInputError(
                f"Line {number} of {det.filename} holds a {_kind(record)}, not a JSON object.",
                hint='JSON Lines needs one object per line, like {"a": 1, "b": "x"}.',
            )
        records.append(record)
        if max_rows is not None and len(records) >= max_rows:
            break
    return records


def _flatten(table: pa.Table, warnings: list[str]) -> pa.Table:
    while any(pa.types.is_struct(f.type) for f in table.schema):
        table = table.flatten()  # {"a": {"b": 1}} -> column "a.b", like pandas.json_normalize
    for i, f in enumerate(table.schema):
        if pa.types.is_list(f.type) or pa.types.is_large_list(f.type) or pa.types.is_map(f.type):
            warnings.append(f"Column {f.name!r} holds lists; they were kept as JSON text.")
            text = [None if v is None else json.dumps(v, default=str) for v in table.column(i).to_pylist()]
            table = table.set_column(i, pa.field(f.name, pa.string()), pa.array(text, type=pa.string()))
    return table


# ---------------------------------------------------------------- helpers


def _python_encoding(det: Detection) -> str:
    return det.encoding or "utf-8-sig"


def _decode(raw: bytes, det: Detection) -> str:
    try:
        return raw.decode(_python_encoding(det) if det.encoding != "utf-8" else "utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _decode_error(det, exc) from exc


def _decode_error(det: Detection, exc: UnicodeDecodeError) -> InvalidInputError:
    return InvalidInputError(
        f"{det.filename} is not valid {det.encoding} text (at byte {exc.start:,}).",
        hint="JSON should be UTF-8; choose the file's real encoding, or save it again as UTF-8.",
    )


def _not_table(name: str, what: str) -> InvalidInputError:
    return InvalidInputError(f"{name} holds JSON that is not a table: {what}.", hint=_SHAPES)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false value"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    return "array" if isinstance(value, list) else "object"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)
