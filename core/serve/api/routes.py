"""The routes: predictions, what a model expects, health and metrics.

A prediction request is checked (key, body size, a free scoring slot) in the event loop, then read,
validated, scored and written (in the format :mod:`core.serve.api.answers` picks) in a worker thread,
so that the loop keeps accepting requests while the trees run.
"""

from __future__ import annotations

import json
import logging
import re
import time
from contextlib import nullcontext
from typing import Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.background import BackgroundTask

from core.serve.api.answers import ANSWERS, FORMAT, PARQUET_ANSWER, answer_format, written
from core.serve.api.errors import ApiError, as_api_error, error_body
from core.serve.api.gc_pause import gc_paused
from core.serve.api.limits import Slot, read_body, run_with_timeout
from core.serve.api.metrics import CONTENT_TYPE_LATEST
from core.serve.api.payloads import PARQUET_TYPES, read_rows
from core.serve.api.predictions import Refused, Scored, report_json, score_rows
from core.serve.api.state import ApiState
from core.serve.deployment import model_schema
from core.serve.loaded import LoadedModel

__all__ = ["router"]

router = APIRouter()
log = logging.getLogger("atelier.serve")
REQUEST_ID = "x-request-id"  # the same id is always routed to the same version (A/B)
EXPLAIN = re.compile(r"top(\d{1,2})")
MAX_EXPLAIN = 20
MAX_VERSION = 2**31 - 1  # what every database's integer column holds: beyond, no such version
PAUSE_FROM_BYTES = 1 << 20  # bodies from 1 MiB are read, scored and written with the collector off

_BODY = {
    "required": True,
    "description": "Rows to score: MLflow's JSON scoring formats (dataframe_split, dataframe_records, instances, "
                   "inputs), a CSV file (text/csv) or a Parquet file. The columns a model expects are at "
                   "GET /v1/models/{name}/schema.",
    "content": {
        "application/json": {"schema": {"type": "object"}, "examples": {
            "dataframe_split": {"value": {"dataframe_split": {"columns": ["age", "fare"], "data": [[30, 7.25]]}}},
            "dataframe_records": {"value": {"dataframe_records": [{"age": 30, "fare": 7.25}]}},
            "instances": {"value": {"instances": [{"age": 30, "fare": 7.25}]}},
            "inputs": {"value": {"inputs": {"age": [30], "fare": [7.25]}}},
        }},
        "text/csv": {"schema": {"type": "string"}},
        **{kind: {"schema": {"type": "string", "format": "binary"}} for kind in PARQUET_TYPES[:1] + PARQUET_TYPES[3:]},
    },
}
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body cannot be read as rows."},
    401: {"description": "An API key is needed, or the one sent is not valid."},
    404: {"description": "No such model, version, or no production version."},
    413: {"description": "The body is larger than the server reads."},
    406: {"description": "The Accept header names no type this route answers in (JSON or Parquet)."},
    422: {"description": "The rows do not fit the model: the report lists each problem per column."},
    503: {"description": "Too many requests are being scored at once."},
    504: {"description": "Scoring took longer than the limit per request."},
}


def _state(request: Request) -> ApiState:
    return request.app.state.atelier


def _explain(value: str | None) -> int:
    if value in (None, "", "none"):
        return 0
    found = EXPLAIN.fullmatch(value.strip().lower())
    if not found or not 1 <= int(found.group(1)) <= MAX_EXPLAIN:
        raise ApiError(400, f"explain must be topN with N from 1 to {MAX_EXPLAIN}, such as explain=top3; "
                       f"got {value!r}.", reason="bad_request")
    return int(found.group(1))


async def _predict(request: Request, name: str, number: int | None, explain: str | None,
                   fmt: str | None = None) -> Response:
    st = _state(request)
    started = time.perf_counter()
    served, status, rows, reason = "", 500, 0, ""
    timing = {"seconds": 0.0}
    picked: dict[str, Any] = {}  # what answered: model, role, route, rows and predictions (for A/B and monitoring)
    request_id = request.headers.get(REQUEST_ID) or None
    try:
        st.keys.check(request.headers)
        top = _explain(explain)
        wanted = answer_format(fmt, request.headers.get("accept"))
        body = await read_body(request, st.max_body_bytes)
        content_type = request.headers.get("content-type", "")
        slot = Slot(st.gate)

        def work() -> tuple[str, int, bytes, str]:
            if not slot.claim():  # the request gave up (timed out) before this thread started
                raise ApiError(504, "The request was abandoned before scoring started.", reason="timeout")
            try:
                if number is None:
                    model, role, route = _routed(st, name, request_id)
                else:
                    model, role, route = st.resolver.version(name, number), "version", None
                picked.update(model=model, role=role, route=route)
                nonlocal served
                served = str(model.version.version)
                # A big body becomes many small objects (the parsed JSON, the answer's row objects), none in a
                # cycle: with the collector off until they are freed, no collection scans them (gc_pause).
                with gc_paused() if len(body) >= PAUSE_FROM_BYTES else nullcontext():
                    try:
                        sent = read_rows(body, content_type, model.features, st.ws.settings.staging_dir)
                        scored = score_rows(model, sent, explain=top,
                                            trees_dir=st.ws.settings.home / "cache" / "trees")
                        picked.update(rows=sent, scored=scored, n=scored.rows)
                    except Refused as refused:
                        raise ApiError(422, _refusal(refused), "Fix these columns and send the rows again; warnings "
                                       "do not block scoring.", reason="validation",
                                       extra={"report": report_json(refused.report)}) from None
                    content, media_type = written(model, scored, wanted)
                    scored.values  # noqa: B018 -- what _after counts, built here rather than in the event loop
                    scored.forget_answer()  # written: its row objects go now, while the collector is still off
                return served, scored.rows, content, media_type
            finally:
                slot.release()

        try:
            served, rows, content, media_type = await run_with_timeout(st.timeout_seconds, st.limiter, work)
        finally:
            if slot.claim():  # the thread never started: nobody else will free the slot
                slot.release()
        status = 200
        headers = {"X-Atelier-Model-Version": served, "X-Atelier-Route": picked.get("role", "")}
        if media_type == PARQUET_ANSWER:  # a file has no room for them: the model and warnings travel as headers
            headers["X-Atelier-Model"] = picked["model"].version.name
            warnings = picked["scored"].warnings
            if warnings:
                headers["X-Atelier-Warnings"] = json.dumps(warnings)  # ASCII: a header must be
        # counted once the answer is sent: the client does not wait for the traffic statistics
        return Response(content, media_type=media_type, headers=headers,
                        background=BackgroundTask(_after_sent, st, picked, timing))
    except Exception as exc:
        err = as_api_error(exc)
        status, reason = err.status, err.reason
        return JSONResponse(error_body(err), status_code=err.status, headers=err.headers)
    finally:
        # only names that resolved to a model get a label of their own: a client cannot grow the metrics
        seconds = time.perf_counter() - started
        st.metrics.observe(name if served else "(unresolved)", served, status, seconds, rows, reason)
        if status == 200:
            timing["seconds"] = seconds  # for _after_sent, which runs after the answer has gone
        else:
            _after(st, picked, False, seconds)


async def _after_sent(st: ApiState, picked: dict[str, Any], timing: dict[str, float]) -> None:
    # in the event loop, not a thread: for one row, a thread's hop would cost more than the counting
    _after(st, picked, True, timing["seconds"])


def _routed(st: ApiState, name: str, request_id: str | None) -> tuple[LoadedModel, str, Any]:
    """The version that answers a request to the model's URL: production, or its challenger's share."""
    route = st.routes.get(name) if st.routes is not None else None
    challenger = st.routes.pick(route, request_id) if route is not None else None
    if challenger is not None:
        try:
            return st.resolver.version(name, challenger), "challenger", route
        except Exception as exc:  # the challenger is gone or broken: production answers instead
            log.warning("challenger v%s of %s cannot answer (%s): production answers", challenger, name, exc)
    return st.resolver.production(name), "production", route


def _after(st: ApiState, picked: dict[str, Any], ok: bool, seconds: float) -> None:
    """Count the answer per version, offer it to the monitor and queue the shadow's copy: all cheap, and
    never the caller's failure."""
    model = picked.get("model")
    if model is None:
        return
    try:
        name, version = model.version.name, model.version.version
        scored: Scored | None = picked.get("scored") if ok else None
        # the rows' prediction values, not the answer's row objects: a columnar answer never builds those
        values = scored.values if scored is not None else None
        classifier = scored is not None and scored.classifier
        st.traffic.observe(name, picked["role"], version, seconds, ok=ok, rows=picked.get("n", 0),
                           values=values, classifier=classifier)
        if st.monitor is not None:
            st.monitor.observe(model, seconds, ok=ok, rows=picked.get("rows"), values=values)
        route = picked.get("route")
        if ok and st.shadow is not None and route is not None and route.shadow not in (None, version):
            sent, shadow = picked["rows"], route.shadow
            st.shadow.submit(name, shadow, lambda: score_rows(st.resolver.version(name, shadow), sent).predictions,
                             [{"prediction": v} for v in values or []])
    except Exception:
        log.warning("could not count a request of %s", model.version.label, exc_info=True)


def _refusal(refused: Refused) -> str:
    errors = refused.report.errors
    noun = "problem blocks" if len(errors) == 1 else "problems block"
    lines = " ".join(i.message for i in errors)
    return f"The rows cannot be scored: {len(errors)} {noun} them. {lines}".strip()


@router.post("/v1/models/{name}/predict", openapi_extra={"requestBody": _BODY}, responses={200: ANSWERS, **_ERRORS},
             summary="Score rows with the model's production version")
async def predict(request: Request, name: str,
                  explain: str | None = Query(None, description="topN adds each row's N largest contributions"),
                  format: str | None = FORMAT):  # noqa: A002 -- the query parameter's name
    return await _predict(request, name, None, explain, format)


@router.post("/v1/models/{name}/versions/{version}/predict", openapi_extra={"requestBody": _BODY},
             responses={200: ANSWERS, **_ERRORS},
             summary="Score rows with one version of the model, whatever its stage")
async def predict_version(request: Request, name: str,
                          version: int = Path(ge=1, le=MAX_VERSION, description="the version number, from 1"),
                          explain: str | None = Query(None, description="topN adds each row's N largest "
                                                      "contributions"),
                          format: str | None = FORMAT):  # noqa: A002 -- the query parameter's name
    return await _predict(request, name, version, explain, format)


async def _in_thread(request: Request, fn, *args):
    st = _state(request)
    st.keys.check(request.headers)
    return await run_with_timeout(st.timeout_seconds, st.limiter, fn, *args)


@router.get("/v1/models", summary="The models served: each with a production version")
async def models(request: Request) -> dict[str, Any]:
    st = _state(request)
    served = await _in_thread(request, st.resolver.served)
    return {"models": [{"name": v.name, "version": v.version, "algorithm": v.algorithm,
                        "problem_type": v.problem_type} for v in served]}


@router.get("/v1/models/{name}", summary="The version served, its stage, schema and metrics",
            responses={404: _ERRORS[404]})
async def model(request: Request, name: str) -> dict[str, Any]:
    st = _state(request)
    version = await _in_thread(request, st.resolver.production_version, name)
    route = await _in_thread(request, st.routes.get, version.name) if st.routes is not None else None
    return {"name": version.name, "version": version.version, "stage": version.stage,
            "algorithm": version.algorithm, "problem_type": version.problem_type, "target": version.target,
            "dataset": version.dataset_label, "metrics": version.metrics, "schema": model_schema(version),
            "routing": {**route.to_json(), "description": route.describe()} if route is not None else None,
            "traffic": st.traffic.snapshot(version.name)}


@router.get("/v1/models/{name}/schema", summary="The columns to send: names, types, categories, ranges",
            responses={404: _ERRORS[404]})
async def schema(request: Request, name: str) -> dict[str, Any]:
    version = await _in_thread(request, _state(request).resolver.production_version, name)
    return model_schema(version)


@router.get("/health", summary="Whether the server can answer, and what it serves")
async def health(request: Request) -> JSONResponse:
    st = _state(request)

    def check() -> dict[str, Any]:
        st.ws.db.check()
        return {"status": "ok", "models": {v.name: v.version for v in st.resolver.served()}}

    try:
        return JSONResponse(await run_with_timeout(st.timeout_seconds, st.limiter, check))
    except Exception as exc:
        err = as_api_error(exc)
        return JSONResponse({"status": "unavailable", **error_body(err)}, status_code=503)


@router.get("/metrics", summary="Prometheus metrics: requests, latency, errors and rows scored, by model")
async def metrics(request: Request) -> Response:
    return Response(_state(request).metrics.text(), media_type=CONTENT_TYPE_LATEST)
