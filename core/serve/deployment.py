"""What a program needs to call a served model: its input schema, an example row, and ready snippets.

Everything here is plain data built from the model's training statistics
(``core.models.training_stats.feature_specs``): the HTTP API answers ``GET /v1/models/NAME/schema``
with :func:`model_schema`, and the Predict page's Deployment tab shows :func:`curl_example` and
:func:`python_example`, so both describe the columns in the same words.
"""

from __future__ import annotations

import json
import math
import shlex
from typing import Any

import pandas as pd

from core.models.registry import ModelVersionInfo
from core.models.training_stats import FeatureSpec, feature_specs

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "base_url", "curl_example", "example_row", "model_schema",
           "python_example", "serve_command"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def _plain(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def _feature(spec: FeatureSpec) -> dict[str, Any]:
    return {
        "name": spec.name, "type": spec.logical_type, "dtype": spec.dtype, "integer": spec.integer,
        "minimum": _plain(spec.minimum), "maximum": _plain(spec.maximum),
        "categories": [_plain(c) for c in spec.categories], "default": _plain(spec.default),
        "missing_fraction": spec.missing_fraction,
    }


def model_schema(version: ModelVersionInfo) -> dict[str, Any]:
    """The training schema of ``version``: per feature its name, type, categories and range, in order."""
    reference = version.card.reference or {"features": []}
    return {
        "model": version.name, "version": version.version, "problem_type": version.problem_type,
        "target": version.target, "classes": [_plain(c) for c in (version.card.classes or [])],
        "features": [_feature(spec) for spec in feature_specs(reference)],
    }


def example_row(schema: dict[str, Any]) -> dict[str, Any]:
    """One row a client may send: every feature at its training default (median or most frequent)."""
    return {f["name"]: f["default"] for f in schema["features"]}


def serve_command(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> str:
    parts = ["python", "-m", "core", "serve"]
    if host != DEFAULT_HOST:
        parts += ["--host", host]
    if port != DEFAULT_PORT:
        parts += ["--port", str(port)]
    return " ".join(parts)


def base_url(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    return f"http://{shown}:{port}"


def predict_url(name: str, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> str:
    from urllib.parse import quote

    return f"{base_url(host, port)}/v1/models/{quote(name, safe='')}/predict"


def _payload(schema: dict[str, Any]) -> dict[str, Any]:
    row = example_row(schema)
    return {"dataframe_split": {"columns": list(row), "data": [list(row.values())]}}


def curl_example(schema: dict[str, Any], url: str, *, with_key: bool = False) -> str:
    """A ``curl`` command that scores the example row at ``url`` (``$ATELIER_API_KEY`` when keys are on)."""
    body = json.dumps(_payload(schema))
    lines = [f"curl -s -X POST {shlex.quote(url)}", "  -H 'Content-Type: application/json'"]
    if with_key:
        lines.append('  -H "Authorization: Bearer $ATELIER_API_KEY"')
    lines.append(f"  -d {shlex.quote(body)}")
    return " \\\n".join(lines)


def python_example(schema: dict[str, Any], url: str, *, with_key: bool = False) -> str:
    """The same request from Python with ``httpx`` (or ``requests``: the call reads the same)."""
    row = example_row(schema)
    headers = '{"Authorization": f"Bearer {os.environ[\'ATELIER_API_KEY\']}"}' if with_key else "{}"
    return "\n".join([
        "import os" if with_key else "",
        "import httpx",
        "",
        f"rows = [{json.dumps(row)}]",
        f"response = httpx.post({url!r}, json={{\"dataframe_records\": rows}}, headers={headers})",
        "response.raise_for_status()",
        'print(response.json()["predictions"])',
    ]).lstrip("\n")
