"""Request bodies of the prediction API as a table of rows, read as batch scoring reads them.

JSON bodies are MLflow's scoring formats: ``dataframe_split`` (``columns`` and ``data``, as
``DataFrame.to_dict(orient="split")`` writes them), ``dataframe_records`` (a list of row objects),
``instances`` and ``inputs`` (a list of row objects, or one object of columns).  CSV and Parquet
bodies are read by the same readers as a file given to batch scoring
(``core.data.sources.input_chunks.InputFile``), so a value reads the same either way.  Nothing here
imports FastAPI: a body is bytes and a content type.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core.data.sources.input_chunks import READ_BUFFER, InputFile
from core.platform.errors import InvalidInputError
from core.serve.api.gc_pause import gc_paused

__all__ = ["JSON_FORMATS", "PARQUET_TYPES", "Rows", "read_rows"]

JSON_FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
PARQUET_TYPES = ("application/vnd.apache.parquet", "application/x-parquet", "application/parquet",
                 "application/octet-stream")
CSV_TYPES = ("text/csv", "application/csv", "text/plain")
_FLAT = frozenset({"string", "integer", "floating", "mixed-integer-float", "boolean", "empty"})


class PayloadError(InvalidInputError):
    """The body cannot be read as rows (a 400, unlike a column the model refuses, a 422)."""


@dataclass(frozen=True)
class Rows:
    """The rows of a request: ``frame`` holds the model's columns; ``columns`` every column sent."""

    frame: pd.DataFrame | None
    columns: list[Hashable]
    row: dict[Hashable, Any] | None = None  # a one-row JSON body, kept as sent: validated without a frame


def read_rows(body: bytes, content_type: str, features: list[str], staging: Path) -> Rows:
    """The rows in ``body``, by its content type (``staging``: where a CSV body is written to be read)."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if not body:
        raise PayloadError("The request has no body: send rows as JSON, CSV or Parquet.",
                           hint='For example {"dataframe_records": [{"column": value, ...}]}.')
    if kind in ("application/json", "") or kind.endswith("+json"):
        found = _json_rows(body)
        if isinstance(found, dict):
            return Rows(None, list(found), row=found)
        return Rows(found, list(found.columns))
    if kind in CSV_TYPES:
        return _from_file(_csv_file(body, staging), features)
    if kind in PARQUET_TYPES:
        return _from_file(_parquet_file(body), features)
    raise PayloadError(
        f"Bodies of type {kind!r} cannot be scored; send application/json (MLflow's scoring formats), "
        "text/csv or application/vnd.apache.parquet.")


# -- JSON ----------------------------------------------------------------------------------
def _json_rows(body: bytes) -> pd.DataFrame | dict[Hashable, Any]:
    try:
        with gc_paused():  # a big body is many small lists and dicts
            data = orjson.loads(body)  # several times faster than json on big bodies
    except orjson.JSONDecodeError:
        try:  # what orjson refuses and Python's json reads: NaN and Infinity, as pandas writes them
            with gc_paused():
                data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PayloadError(f"The body is not valid JSON: {exc}.") from exc
    if not isinstance(data, dict):
        raise PayloadError(f"The JSON body must be an object with one of {', '.join(JSON_FORMATS)}; "
                           f"got a {type(data).__name__} instead.")
    given = [k for k in JSON_FORMATS if k in data]
    if len(given) != 1:
        found = ", ".join(map(repr, list(data)[:6])) or "none"
        raise PayloadError(f"The JSON body must hold exactly one of {', '.join(JSON_FORMATS)}; "
                           f"its keys are {found}.",
                           hint='For example {"dataframe_records": [{"column": value, ...}]}.')
    key = given[0]
    single = _single(key, data[key])
    if single is not None:
        return single
    frame = _split(data[key]) if key == "dataframe_split" else _records(key, data[key])
    if not len(frame):
        raise PayloadError(f"{key!r} holds no rows: there is nothing to score.")
    _check_flat(frame, key)
    return frame


def _check_flat(frame: pd.DataFrame, key: str) -> None:
    """Refuse a list or object inside a cell: a value is a number, a string, a boolean or null."""
    for i, column in enumerate(frame.columns):
        values = frame.iloc[:, i]  # by position: a repeated name (refused later, by name) would give a frame
        if values.dtype != object or pd.api.types.infer_dtype(values, skipna=True) in _FLAT:
            continue  # infer_dtype (in C) says "mixed" for a column with a list or an object in it
        nested = values.map(lambda v: isinstance(v, list | dict)).to_numpy()
        if nested.any():
            row = int(nested.argmax())
            raise PayloadError(f"Column {column!r} of {key!r} holds a {type(values.iloc[row]).__name__} in row "
                               f"{row}: each value must be a number, a string, a boolean or null.")


def _single(key: str, value: Any) -> dict[Hashable, Any] | None:
    """The one row of a one-row body with distinct column names, else ``None`` (read as a frame)."""
    row: Any = None
    if key == "dataframe_split":
        if isinstance(value, dict) and isinstance(value.get("columns"), list) and isinstance(value.get("data"), list) \
                and len(value["data"]) == 1 and isinstance(value["data"][0], list) \
                and len(value["data"][0]) == len(value["columns"]) and value.get("index") is None:
            row = dict(zip(value["columns"], value["data"][0], strict=True))
            if len(row) < len(value["columns"]):
                return None
    elif isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
        row = value[0]
    if row is None or not all(isinstance(k, str) for k in row) or \
            any(isinstance(v, list | dict) for v in row.values()):
        return None
    return row


def _split(value: Any) -> pd.DataFrame:
    if not isinstance(value, dict) or not isinstance(value.get("columns"), list) \
            or not isinstance(value.get("data"), list):
        raise PayloadError("'dataframe_split' must be an object with a 'columns' list and a 'data' list of rows.")
    columns, data = value["columns"], value["data"]
    for i, row in enumerate(data):
        if not isinstance(row, list) or len(row) != len(columns):
            size = len(row) if isinstance(row, list) else type(row).__name__
            raise PayloadError(f"Row {i} of 'dataframe_split' has {size} values; the columns are {len(columns)}.")
    index = value.get("index")
    if index is not None and (not isinstance(index, list) or len(index) != len(data)):
        raise PayloadError("The 'index' of 'dataframe_split' must list one label per row.")
    return pd.DataFrame(data, columns=columns, index=index)


def _records(key: str, value: Any) -> pd.DataFrame:
    if isinstance(value, dict):  # columns: {"a": [1, 2], "b": [3, 4]}
        lengths = {len(v) if isinstance(v, list) else -1 for v in value.values()}
        if len(lengths) != 1 or -1 in lengths:
            raise PayloadError(f"{key!r} given as columns must map each column to a list of values, "
                               "all of the same length.")
        return pd.DataFrame(value)
    if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
        raise PayloadError(f"{key!r} must be a list of row objects ({{column: value}}), or an object of columns.")
    return pd.DataFrame.from_records(value)


# -- files ---------------------------------------------------------------------------------
def _csv_file(body: bytes, staging: Path) -> InputFile:
    staging.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=staging) as tmp:
        path = Path(tmp) / "request.csv"
        path.write_bytes(body)
        source = InputFile.open(path)  # read whole here: the file can go
    return source


def _parquet_file(body: bytes) -> InputFile:
    try:
        reader = pq.ParquetFile(pa.BufferReader(body), buffer_size=READ_BUFFER, pre_buffer=False)
    except Exception as exc:  # pyarrow raises ArrowInvalid/OSError for anything it cannot parse
        raise PayloadError(f"The body is not a readable Parquet file ({exc}).") from exc
    columns = list(reader.schema_arrow.empty_table().to_pandas().columns)
    return InputFile(Path("request.parquet"), columns, reader.metadata.num_rows, parquet=reader)


def _from_file(source: InputFile, features: list[str]) -> Rows:
    if not source.rows:
        raise PayloadError("The body has no rows: there is nothing to score.")
    chunks = [c for c in source.chunks(max(source.rows, 1), source.columns_to_read(features)) if len(c)]
    frame = chunks[0] if len(chunks) == 1 else pd.concat(chunks, ignore_index=True)
    return Rows(frame, source.columns)
