"""What a prediction answer is written as: the format a client asks for, and the bytes.

The default answer is one object per row (``format=records``).  A client asks for a columnar one with
``format=columns`` (JSON lists) or ``format=parquet`` / ``Accept: application/vnd.apache.parquet`` (a
Parquet file), named and valued as batch scoring's output.  The Accept header is read by its q-values,
an exact type before a wildcard; an Accept that allows neither JSON nor Parquet is a 406.
"""

from __future__ import annotations

import io
import json
from typing import Any

import orjson
import pyarrow.parquet as pq
from fastapi import Query

from core.serve.api.errors import ApiError
from core.serve.api.payloads import PARQUET_TYPES
from core.serve.api.predictions import Scored
from core.serve.loaded import LoadedModel

__all__ = ["ANSWERS", "FORMAT", "FORMATS", "PARQUET_ANSWER", "answer_format", "encode", "written"]

FORMATS = ("records", "columns", "parquet")
PARQUET_ANSWER = PARQUET_TYPES[0]
_NUMPY = orjson.OPT_SERIALIZE_NUMPY

ANSWERS: dict[str, Any] = {
    "description": "The predictions. By default (format=records) one object per row: "
                   '{"predictions": [{"prediction": ..., "probabilities": {"<class>": ...}}, ...]}. '
                   "For big batches a columnar answer is several times cheaper to build and to read: "
                   'format=columns gives {"columns": [...], "predictions": {"prediction": [...], '
                   '"probability_<class>": [...]}}; format=parquet, or Accept: application/vnd.apache.parquet, '
                   "a Parquet file with those columns. The column names and numbers are batch scoring's output.",
    "content": {
        "application/json": {"examples": {
            "records": {"value": {"model": "titanic", "version": 1, "predictions": [
                {"prediction": 0, "probabilities": {"0": 0.82, "1": 0.18}}]}},
            "columns": {"value": {"model": "titanic", "version": 1, "rows": 1,
                                  "columns": ["prediction", "probability_0", "probability_1"],
                                  "predictions": {"prediction": [0], "probability_0": [0.82],
                                                  "probability_1": [0.18]}}},
        }},
        PARQUET_ANSWER: {"schema": {"type": "string", "format": "binary"}},
    },
}
FORMAT = Query(None, description="records (the default): one object per row; columns: one JSON list per "
                "column; parquet: a Parquet file (as Accept: application/vnd.apache.parquet)")


def answer_format(fmt: str | None, accept: str | None) -> str:
    """What the answer is written as: ``records`` or ``columns`` (JSON), or ``parquet``.

    ``format`` says which, else the Accept header (its preferred type: q-values, then an exact type
    before a wildcard); no Accept, or one that allows JSON, keeps today's answer.  An Accept that allows
    neither JSON nor Parquet, or not the one ``format`` asks for, is a 406 rather than an answer the
    client said it cannot read."""
    if fmt is not None and fmt.strip().lower() not in FORMATS:
        raise ApiError(400, f"format must be one of {', '.join(FORMATS)}; got {fmt!r}.", reason="bad_request")
    wanted = fmt.strip().lower() if fmt else None
    offered = _accepted(accept)
    if offered is None:  # no Accept header: anything goes
        return wanted or "records"
    if wanted is None:
        if not offered:
            raise _not_acceptable(accept)
        return "parquet" if offered[0] == "parquet" else "records"
    if ("parquet" if wanted == "parquet" else "json") not in offered:
        raise _not_acceptable(accept, wanted)
    return wanted


def _accepted(accept: str | None) -> list[str] | None:
    """The answers an Accept header allows, preferred first (``json``, ``parquet``); ``None`` without one."""
    if accept is None or not accept.strip():
        return None
    ranked: list[tuple[float, int, int, str]] = []
    for i, part in enumerate(accept.split(",")):
        kind, *params = (p.strip() for p in part.split(";"))
        kind = kind.lower()
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if not q > 0:  # q=0 is "not this one"; so is a q that is not a number
            continue
        if kind in PARQUET_TYPES[:3]:
            ranked.append((-q, 0, i, "parquet"))
        elif kind == "application/json" or kind.endswith("+json"):
            ranked.append((-q, 0, i, "json"))
        elif kind in ("*/*", "application/*"):  # either, after any exact type: JSON, the default, first
            ranked += [(-q, 1, i, "json"), (-q, 2, i, "parquet")]
    seen: list[str] = []
    for *_, answer in sorted(ranked):
        if answer not in seen:
            seen.append(answer)
    return seen


def _not_acceptable(accept: str, wanted: str | None = None) -> ApiError:
    if wanted:
        written = PARQUET_ANSWER if wanted == "parquet" else "application/json"
        message = f"format={wanted} answers in {written}, which the Accept header ({accept[:200]!r}) does not allow."
    else:
        message = (f"The Accept header ({accept[:200]!r}) allows no type this route answers in: application/json "
                   f"or {PARQUET_ANSWER}.")
    return ApiError(406, message,
                    "Send Accept: application/json (format=records or format=columns), or "
                    f"Accept: {PARQUET_ANSWER} (format=parquet), or no Accept header.", reason="not_acceptable")


def written(model: LoadedModel, scored: Scored, answer_format: str) -> tuple[bytes, str]:
    """The answer's bytes and media type, in the format the client asked for."""
    if answer_format == "parquet":
        buffer = io.BytesIO()
        pq.write_table(scored.table(), buffer, compression="snappy")  # fast to write and read; what pyarrow uses
        return buffer.getvalue(), PARQUET_ANSWER
    answer: dict[str, Any] = {"model": model.version.name, "version": model.version.version}
    if answer_format == "columns":
        columns = scored.columns()
        answer.update(rows=scored.rows, columns=list(columns), predictions=columns)
    else:
        answer["predictions"] = scored.predictions
    if scored.warnings:
        answer["warnings"] = scored.warnings
    return encode(answer), "application/json"


def encode(answer: dict[str, Any]) -> bytes:
    """The answer as JSON (orjson, several times faster on many rows, and numpy columns written straight
    from memory); no NaN or Infinity, which JSON has not."""
    try:
        return orjson.dumps(answer, default=str, option=_NUMPY)  # NaN and ±inf are written as null
    except TypeError:  # an integer beyond 64 bits, say: the standard library writes it
        pass
    return json.dumps(answer, allow_nan=False, default=_plain).encode()


def _plain(value: Any) -> Any:
    if hasattr(value, "tolist"):  # a numpy column: its values, NaN as None (allow_nan=False refuses NaN)
        return [None if isinstance(v, float) and v != v else v for v in value.tolist()]
    return str(value)
