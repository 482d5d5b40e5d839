"""Errors of the HTTP API as JSON: a status, the message a person can act on, and its hint.

Every ``AtelierError`` raised while answering becomes ``{"error": message, "hint": hint}`` with the
status its kind means (input 400, not found 404, conflict 409, storage 503); anything else is a
500 with a reference whose traceback goes to the server log, never to the client.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.platform.errors import (
    AtelierError,
    ConflictError,
    IntegrityError,
    InvalidInputError,
    NotFoundError,
    ResourceError,
    StorageError,
)

__all__ = ["ApiError", "error_body", "install_handlers", "status_of"]

log = logging.getLogger("atelier.serve")


class ApiError(Exception):
    """An answer other than 200, with its message (and extra JSON, such as a validation report)."""

    def __init__(self, status: int, message: str, hint: str | None = None, *, reason: str = "",
                 extra: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.hint = status, message, hint
        self.reason = reason or str(status)
        self.extra = extra or {}
        self.headers = headers


def status_of(exc: AtelierError) -> int:
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, ConflictError):
        return 409
    if isinstance(exc, StorageError | IntegrityError):
        return 503
    if isinstance(exc, ResourceError):
        return 507
    if isinstance(exc, InvalidInputError):
        return 400
    return 500


def as_api_error(exc: Exception) -> ApiError:
    """``exc`` as the answer it means; a bug becomes a 500 with a reference (traceback in the log)."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, AtelierError):
        return ApiError(status_of(exc), exc.message, exc.hint, reason=type(exc).__name__)
    ref = uuid.uuid4().hex[:8]
    log.error("ref %s: unexpected error", ref, exc_info=exc)
    return ApiError(500, f"Something went wrong while answering (reference {ref}); details are in the server log.",
                    reason="internal")


def error_body(err: ApiError) -> dict[str, Any]:
    body: dict[str, Any] = {"error": err.message}
    if err.hint:
        body["hint"] = err.hint
    body.update(err.extra)
    return body


def error_response(err: ApiError) -> JSONResponse:
    return JSONResponse(error_body(err), status_code=err.status, headers=err.headers)


def install_handlers(app: FastAPI) -> None:
    """JSON errors for everything: ours, Starlette's (unknown route, wrong method) and bugs."""

    @app.exception_handler(ApiError)
    async def _api(_request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(AtelierError)
    async def _atelier(_request: Request, exc: AtelierError) -> JSONResponse:
        return error_response(as_api_error(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = {404: "There is no such route: see /docs for the API.",
                   405: "This route does not take that method: see /docs for the API."}.get(exc.status_code,
                                                                                          str(exc.detail))
        return JSONResponse({"error": message}, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors())
        return JSONResponse({"error": f"The request's parameters cannot be used: {problems}."}, status_code=400)

    @app.exception_handler(Exception)
    async def _bug(_request: Request, exc: Exception) -> JSONResponse:
        return error_response(as_api_error(exc))
