"""Limits on each request: body size (413), requests scored at once (503) and time taken (504)."""

from __future__ import annotations

import threading

import anyio
from fastapi import Request

from core.serve.api.errors import ApiError

__all__ = ["Gate", "Slot", "read_body", "run_with_timeout"]


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The request's body, refused with a 413 as soon as it is longer than ``max_bytes``."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(int(declared), max_bytes)
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(size, max_bytes, at_least=True)
        parts.append(chunk)
    return b"".join(parts)


def _too_large(size: int, limit: int, at_least: bool = False) -> ApiError:
    mb = limit / 1024 / 1024
    return ApiError(413, f"The request body is {'over ' if at_least else ''}{size:,} bytes; this server reads at "
                    f"most {mb:g} MB ({limit:,} bytes) per request.",
                    "Send the rows in several requests, as Parquet (smaller than JSON), or raise "
                    "ATELIER_SERVE_MAX_BODY_MB.", reason="too_large")


class Gate:
    """At most ``limit`` requests scored at once; one more is refused at once with a 503."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._slots = threading.BoundedSemaphore(limit)

    def acquire(self) -> None:
        if not self._slots.acquire(blocking=False):
            raise ApiError(503, f"The server is scoring {self.limit} requests already; try again in a moment.",
                           "Retry after a short wait, or raise ATELIER_SERVE_MAX_CONCURRENT.", reason="busy",
                           headers={"Retry-After": "1"})

    def release(self) -> None:
        self._slots.release()


class Slot:
    """One admitted request's place in the gate, released exactly once: by the thread that scored, or,
    when the request gave up before its thread started (a timeout while waiting for a thread), by the
    request itself."""

    def __init__(self, gate: Gate) -> None:
        gate.acquire()
        self._gate = gate
        self._lock = threading.Lock()
        self._claimed = False

    def claim(self) -> bool:
        """True for the first caller only: the one that releases the slot."""
        with self._lock:
            first, self._claimed = not self._claimed, True
            return first

    def release(self) -> None:
        self._gate.release()


async def run_with_timeout(seconds: float, limiter: anyio.CapacityLimiter, fn, *args):
    """``fn(*args)`` in a worker thread; a 504 when it takes longer than ``seconds``.

    The thread is abandoned then (Python cannot stop it): its result is dropped, and the
    concurrency gate still counts it until it ends.
    """
    try:
        with anyio.fail_after(seconds):
            return await anyio.to_thread.run_sync(fn, *args, abandon_on_cancel=True, limiter=limiter)
    except TimeoutError:
        raise ApiError(504, f"Scoring took longer than {seconds:g} s, the limit per request.",
                       "Send fewer rows per request, or raise ATELIER_SERVE_TIMEOUT_S.", reason="timeout") from None
