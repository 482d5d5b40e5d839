"""The API's app factory: ``create_app()`` is what ``python -m core serve`` runs on uvicorn.

The app reads the workspace from the settings (``ATELIER_*``), so each uvicorn worker opens its
own; the OpenAPI document at ``/openapi.json`` (shown at ``/docs``) lists, for every model served,
the row its predict route expects, built from the model's training schema.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from core.platform.config import Settings
from core.platform.workspace import Workspace
from core.serve.api.errors import install_handlers
from core.serve.api.gc_pause import freeze_heap
from core.serve.api.routes import router
from core.serve.api.state import ApiState
from core.serve.deployment import model_schema

__all__ = ["create_app"]

_JSON_TYPES = {"numeric": "number", "boolean": "boolean", "datetime": "string", "text": "string"}


def create_app(ws: Workspace | None = None) -> FastAPI:
    """The prediction API over ``ws`` (by default the workspace the settings name)."""
    ws = ws or Workspace.open(Settings.load())
    app = FastAPI(title="Atelier prediction API", version="1", lifespan=_lifespan,
                  description="Scores rows with the production version of each promoted model, validated as "
                              "batch scoring validates them. Send MLflow's JSON scoring formats, CSV or Parquet.")
    app.state.atelier = ApiState.open(ws)
    install_handlers(app)
    app.include_router(router)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    freeze_heap()  # what start-up imported and built stays: later collections skip it (gc_pause)
    yield
    app.state.atelier.close()  # the last monitoring window recorded before the server stops


def _openapi(app: FastAPI) -> dict[str, Any]:
    # Built on every request (not cached): a model promoted since shows at once.
    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    try:
        served = app.state.atelier.resolver.served()
    except Exception:  # the document must still load when the database is away
        served = []
    for version in served:
        schemas[f"Row of {version.name}"] = _row_schema(model_schema(version))
    return doc


def _row_schema(schema: dict[str, Any]) -> dict[str, Any]:
    properties = {}
    for f in schema["features"]:
        prop: dict[str, Any] = {"type": "integer" if f["integer"] else _JSON_TYPES.get(f["type"], "string")}
        if f["type"] == "datetime":
            prop["format"] = "date-time"
        if f["categories"]:
            prop["examples"] = f["categories"][:20]
        if f["type"] == "numeric" and f["minimum"] is not None:
            prop["description"] = f"trained on {f['minimum']} to {f['maximum']}"
        if f["missing_fraction"] > 0:
            prop = {"anyOf": [prop, {"type": "null"}]}
        properties[f["name"]] = prop
    return {"type": "object", "title": f"A row for {schema['model']} v{schema['version']}",
            "properties": properties, "required": list(properties)}
