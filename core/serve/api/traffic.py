"""A/B and shadow traffic of one running API: which version answers a request, and how each did.

:class:`Routes` reads each model's route (``core.serve.routing``) at most once a ``serve_refresh_ms``;
:class:`Traffic` counts, per model, role (production, challenger, shadow, version) and version: the
requests, errors, latency, rows and the predictions' distribution, and for a shadow how often it
agreed with the version that answered.  :class:`ShadowRunner` scores the shadow on its own thread
after the answer is sent: a slow or failing shadow never slows or fails the caller, and when it
falls behind, copies are dropped (and counted), never queued without bound.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from core.platform.errors import NotFoundError
from core.platform.workspace import Workspace
from core.serve import routing
from core.serve.routing import Route

__all__ = ["Routes", "ShadowRunner", "Traffic", "agreement"]

log = logging.getLogger("atelier.serve")
LATENCIES_KEPT = 2048  # per version: the newest, for the percentiles
CLASSES_KEPT = 50
SHADOW_QUEUE = 64  # copies waiting for the shadow thread; more are dropped


class Routes:
    """Each model's route, cached for ``refresh_seconds``; the API's random draws for requests without an id."""

    def __init__(self, ws: Workspace, *, refresh_seconds: float = 1.0, seed: int | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ws, self.refresh_seconds, self.clock = ws, refresh_seconds, clock
        self.rng = random.Random(seed)
        self._seen: dict[str, tuple[float, Route]] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> Route:
        now = self.clock()
        seen = self._seen.get(name)
        if seen is not None and now - seen[0] < self.refresh_seconds:
            return seen[1]
        try:
            route = routing.get_route(self.ws, name)
        except NotFoundError:
            route = Route(name)
        self._seen[name] = (now, route)
        return route

    def pick(self, route: Route, request_id: str | None) -> int | None:
        with self._lock:  # random.Random is not safe to share between threads without one
            return routing.pick(route, request_id, self.rng)


def agreement(answered: list[dict[str, Any]], shadow: list[dict[str, Any]]) -> tuple[int, int, float]:
    """Rows compared, rows where both gave the same prediction, and the sum of absolute differences
    of numeric predictions (0 for labels)."""
    same, diff = 0, 0.0
    for a, b in zip(answered, shadow, strict=False):
        pa, pb = a.get("prediction"), b.get("prediction")
        if _number(pa) and _number(pb) and not isinstance(pa, bool):
            diff += abs(float(pa) - float(pb))
            same += math.isclose(float(pa), float(pb), rel_tol=1e-9, abs_tol=1e-12)
        else:
            same += pa == pb
    return min(len(answered), len(shadow)), same, diff


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not (isinstance(value, float) and math.isnan(value))


@dataclass
class _Stats:
    requests: int = 0
    errors: int = 0
    rows: int = 0
    seconds: float = 0.0
    latencies: deque = field(default_factory=lambda: deque(maxlen=LATENCIES_KEPT))
    classes: dict[str, int] = field(default_factory=dict)
    n: int = 0
    mean: float = 0.0
    m2: float = 0.0
    compared: int = 0
    agreed: int = 0
    abs_diff: float = 0.0
    dropped: int = 0

    def add_predictions(self, predictions: list[dict[str, Any]]) -> None:
        for p in predictions:
            value = p.get("prediction")
            if _number(value) and "probabilities" not in p:  # a regression's score (Welford's update)
                self.n += 1
                delta = float(value) - self.mean
                self.mean += delta / self.n
                self.m2 += delta * (float(value) - self.mean)
            elif value is not None:
                label = str(value)
                if label in self.classes or len(self.classes) < CLASSES_KEPT:
                    self.classes[label] = self.classes.get(label, 0) + 1

    def to_json(self) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        out: dict[str, Any] = {
            "requests": self.requests, "errors": self.errors,
            "error_rate": self.errors / self.requests if self.requests else 0.0, "rows": self.rows,
            "latency_ms": {"mean": 1000 * self.seconds / self.requests if self.requests else None,
                           "p50": _quantile(ordered, 0.5), "p95": _quantile(ordered, 0.95),
                           "p99": _quantile(ordered, 0.99)},
        }
        if self.classes:
            total = sum(self.classes.values())
            out["class_mix"] = {k: v / total for k, v in sorted(self.classes.items(), key=lambda kv: -kv[1])}
        if self.n:
            out["mean"] = self.mean
            out["std"] = math.sqrt(self.m2 / (self.n - 1)) if self.n > 1 else 0.0
        if self.compared or self.dropped:
            out["compared_rows"] = self.compared
            out["agreement"] = self.agreed / self.compared if self.compared else None
            out["mean_abs_difference"] = self.abs_diff / self.compared if self.compared else None
            out["dropped"] = self.dropped
        return out


def _quantile(ordered: list[float], q: float) -> float | None:
    if not ordered:
        return None
    return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Traffic:
    """Per model, role and version: what the API answered (in memory, one count per worker)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stats: dict[tuple[str, str, int], _Stats] = {}

    def _get(self, name: str, role: str, version: int) -> _Stats:
        return self._stats.setdefault((name, role, int(version)), _Stats())

    def observe(self, name: str, role: str, version: int, seconds: float, *, ok: bool, rows: int = 0,
                predictions: list[dict[str, Any]] | None = None) -> None:
        with self._lock:
            stats = self._get(name, role, version)
            stats.requests += 1
            stats.errors += not ok
            stats.rows += rows
            stats.seconds += seconds
            stats.latencies.append(seconds)
            if predictions:
                stats.add_predictions(predictions)

    def observe_shadow(self, name: str, version: int, seconds: float, *, ok: bool,
                       predictions: list[dict[str, Any]] | None = None,
                       answered: list[dict[str, Any]] | None = None) -> None:
        with self._lock:
            stats = self._get(name, "shadow", version)
            stats.requests += 1
            stats.errors += not ok
            stats.seconds += seconds
            stats.latencies.append(seconds)
            if predictions:
                stats.rows += len(predictions)
                stats.add_predictions(predictions)
                compared, agreed, diff = agreement(answered or [], predictions)
                stats.compared += compared
                stats.agreed += agreed
                stats.abs_diff += diff

    def dropped(self, name: str, version: int) -> None:
        with self._lock:
            self._get(name, "shadow", version).dropped += 1

    def snapshot(self, name: str) -> list[dict[str, Any]]:
        """The statistics of every version of ``name`` that this worker served, by role then version."""
        order = {"production": 0, "challenger": 1, "shadow": 2, "version": 3}
        with self._lock:
            found = [(role, version, stats.to_json()) for (n, role, version), stats in self._stats.items()
                     if n == name]
        return [{"role": role, "version": version, **stats}
                for role, version, stats in sorted(found, key=lambda t: (order.get(t[0], 9), t[1]))]


class ShadowRunner:
    """Scores shadow copies on one thread of its own, after the answers were sent."""

    def __init__(self, traffic: Traffic, queue: int = SHADOW_QUEUE) -> None:
        self.traffic, self.queue = traffic, queue
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="atelier-shadow")
        self._lock = threading.Lock()
        self._pending = 0
        self._idle = threading.Condition(self._lock)

    def submit(self, name: str, version: int, score: Callable[[], list[dict[str, Any]]],
               answered: list[dict[str, Any]]) -> bool:
        """Queue ``score()`` (the shadow's predictions of the same rows); False when it was dropped."""
        with self._lock:
            if self._pending >= self.queue:
                self.traffic.dropped(name, version)
                return False
            self._pending += 1
        try:
            self._pool.submit(self._run, name, version, score, answered)
        except RuntimeError:  # the pool was shut down: the server is stopping
            self._done()
            return False
        return True

    def _run(self, name: str, version: int, score, answered) -> None:
        started = time.perf_counter()
        try:
            predictions = score()
        except Exception as exc:  # the shadow's failure is counted, never the caller's
            log.info("shadow v%s of %s failed: %s", version, name, exc)
            self.traffic.observe_shadow(name, version, time.perf_counter() - started, ok=False)
        else:
            self.traffic.observe_shadow(name, version, time.perf_counter() - started, ok=True,
                                        predictions=predictions, answered=answered)
        finally:
            self._done()

    def _done(self) -> None:
        with self._lock:
            self._pending -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until every queued copy is scored (for tests and shutdown); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
