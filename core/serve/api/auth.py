"""API keys on requests: required once any key was created (or when ``serve_require_key`` says so).

Revoking the last key keeps keys required: the server never opens to everyone by itself.

A key comes as ``Authorization: Bearer KEY`` or ``X-API-Key: KEY`` and is checked against the
digests of the active keys (``core.serve.api_keys``), read again once they are older than
``serve_refresh_ms``: a key created or revoked elsewhere counts within that time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

from core.platform.workspace import Workspace
from core.serve import api_keys
from core.serve.api.errors import ApiError

__all__ = ["KeyCheck"]

CREATE_HINT = "Create one with: python -m core serve keys create NAME (or on the Predict page, Deployment tab)."


class KeyCheck:
    """Whether a request's headers carry an active API key."""

    def __init__(self, ws: Workspace, *, required: bool = False, refresh_seconds: float = 1.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ws, self.required, self.refresh_seconds, self.clock = ws, required, refresh_seconds, clock
        self._lock = threading.Lock()
        self._hashes: frozenset[str] = frozenset()
        self._ever = False
        self._read_at: float | None = None

    def hashes(self) -> tuple[frozenset[str], bool]:
        """The active keys' digests, and whether any key was ever created (read at most once a refresh)."""
        now = self.clock()
        with self._lock:
            if self._read_at is None or now - self._read_at >= self.refresh_seconds:
                (self._hashes, self._ever), self._read_at = api_keys.active_hashes(self.ws), now
            return self._hashes, self._ever

    def check(self, headers: Mapping[str, str]) -> None:
        """Return when the request may go on; raise a 401 ``ApiError`` saying why not."""
        hashes, ever = self.hashes()
        if not ever and not self.required:
            return
        if not hashes:
            message = ("Every API key of this server was revoked: a new one is needed." if ever else
                       "This server requires an API key, and none has been created yet.")
            raise ApiError(401, message, CREATE_HINT, reason="unauthorized", headers={"WWW-Authenticate": "Bearer"})
        key = _key_of(headers)
        if key is None:
            raise ApiError(401, "This request has no API key: send it as 'Authorization: Bearer KEY' or "
                           "'X-API-Key: KEY'.", reason="unauthorized", headers={"WWW-Authenticate": "Bearer"})
        if not api_keys.matches(key, hashes):
            raise ApiError(401, "This API key is not valid: it is mistyped or was revoked.",
                           "Ask for a new key; keys are shown once, when they are created.",
                           reason="unauthorized", headers={"WWW-Authenticate": "Bearer"})


def _key_of(headers: Mapping[str, str]) -> str | None:
    given = headers.get("x-api-key")
    if given:
        return given.strip()
    scheme, _, value = (headers.get("authorization") or "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None
