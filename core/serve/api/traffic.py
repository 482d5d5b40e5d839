"""A/B and shadow traffic of one running API: which version answers a request, and how each did.

:class:`Routes` reads each model's route (``core.serve.routing``) at most once a ``serve_refresh_ms``;
:class:`Traffic` counts, per model, role (production, challenger, shadow, version) and version: the
requests, errors, latency, rows and the predictions' distribution, and for a shadow how often it
agreed with the version that answered.  :class:`ShadowRunner` scores the shadow on its own thread
after the answer is sent: a slow or failing shadow never slows or fails the caller, and when it
falls behind, copies are dropped (and counted), never queued without bound.

With ``--workers N`` each worker counts its own requests; given ``shared_dir`` (the metrics folder
the workers share, ``core.serve.api.metrics.shared_dir``) a worker also writes its counts there
every ``PUBLISH_SECONDS`` and :meth:`Traffic.snapshot` adds the other workers' latest, so every
worker answers with the statistics of all of them (the others' at most that old).
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.platform.errors import NotFoundError
from core.platform.workspace import Workspace
from core.serve import routing
from core.serve.routing import Route

__all__ = ["Routes", "ShadowRunner", "Traffic", "agreement"]

log = logging.getLogger("atelier.serve")
LATENCIES_KEPT = 2048  # per version: the newest, for the percentiles
CLASSES_KEPT = 50
SHADOW_QUEUE = 64  # copies waiting for the shadow thread; more are dropped
PUBLISH_SECONDS = 0.5  # how often a worker writes its counts for the others
_SUMS = ("requests", "errors", "rows", "seconds", "compared", "agreed", "abs_diff", "dropped")


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
        """Add one answer's rows: a regression's scores to the mean and spread, labels to the class mix.

        A whole answer at once (a 100k-row one took ~0.1 s row by row, with the interpreter lock)."""
        classifier = bool(predictions) and "probabilities" in predictions[0]  # every row has the same keys
        self.add_values([p.get("prediction") for p in predictions], classifier=classifier)

    def add_values(self, values: list[Any], *, classifier: bool) -> None:
        """Add one answer's prediction values (``classifier``: labels, never scores)."""
        if values and not classifier:
            scores = [v for v in values if _number(v)]
            if len(scores) < len(values):
                values = [v for v in values if not _number(v)]
            else:
                values = []
            if scores:
                self._add_scores(np.asarray(scores, dtype=np.float64))
        for value, count in Counter(values).items():  # counted as sent, named as text: 1 and "1" add up
            label = str(value)
            if value is not None and (label in self.classes or len(self.classes) < CLASSES_KEPT):
                self.classes[label] = self.classes.get(label, 0) + count

    def _add_scores(self, scores: np.ndarray) -> None:
        """Chan et al.'s pairwise update of the mean and the sum of squares, with a batch of scores."""
        n_b, mean_b = len(scores), float(scores.mean())
        m2_b = float(((scores - mean_b) ** 2).sum())
        n = self.n + n_b
        delta = mean_b - self.mean
        self.m2 += m2_b + delta * delta * self.n * n_b / n
        self.mean += delta * n_b / n
        self.n = n

    def to_raw(self) -> dict[str, Any]:
        """Everything needed to add these counts to another worker's (plain JSON)."""
        return {**{k: getattr(self, k) for k in _SUMS}, "latencies": list(self.latencies),
                "classes": dict(self.classes), "n": self.n, "mean": self.mean, "m2": self.m2}

    def add(self, raw: dict[str, Any]) -> None:
        """Add another worker's counts (``to_raw``) to these."""
        for k in _SUMS:
            setattr(self, k, getattr(self, k) + raw.get(k, 0))
        self.latencies.extend(raw.get("latencies", ()))
        for label, count in raw.get("classes", {}).items():
            self.classes[label] = self.classes.get(label, 0) + count
        n_b = int(raw.get("n", 0))
        if n_b:  # Chan et al.'s pairwise update of the mean and the sum of squares
            n = self.n + n_b
            delta = float(raw["mean"]) - self.mean
            self.m2 += float(raw["m2"]) + delta * delta * self.n * n_b / n
            self.mean += delta * n_b / n
            self.n = n

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
    """Per model, role and version: what the API answered (in memory; with ``shared_dir``, every worker's)."""

    def __init__(self, shared_dir: Path | None = None) -> None:
        self._lock = threading.Lock()
        self._stats: dict[tuple[str, str, int], _Stats] = {}
        self.shared_dir = shared_dir
        self._changes = 0
        self._publisher: threading.Thread | None = None
        self._stop = threading.Event()

    def _get(self, name: str, role: str, version: int) -> _Stats:
        self._changes += 1
        if self.shared_dir is not None and self._publisher is None:
            self._publisher = threading.Thread(target=self._publish_loop, name="atelier-traffic", daemon=True)
            self._publisher.start()
        return self._stats.setdefault((name, role, int(version)), _Stats())

    def observe(self, name: str, role: str, version: int, seconds: float, *, ok: bool, rows: int = 0,
                values: list[Any] | None = None, classifier: bool = False) -> None:
        """Count one answer; ``values`` are its rows' predictions (labels when ``classifier``), which every
        answer format has without building row objects."""
        with self._lock:
            stats = self._get(name, role, version)
            stats.requests += 1
            stats.errors += not ok
            stats.rows += rows
            stats.seconds += seconds
            stats.latencies.append(seconds)
            if values:
                stats.add_values(values, classifier=classifier)

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
        """The statistics of every version of ``name`` served (by this worker, and with ``shared_dir`` by
        the others as of their last publish), by role then version."""
        order = {"production": 0, "challenger": 1, "shadow": 2, "version": 3}
        merged: dict[tuple[str, int], _Stats] = {}
        for raw in self._others():
            for key, stats in raw.items():
                n, role, version = key.split("\t")
                if n == name:
                    merged.setdefault((role, int(version)), _Stats()).add(stats)
        with self._lock:
            for (n, role, version), stats in self._stats.items():
                if n == name:
                    merged.setdefault((role, version), _Stats()).add(stats.to_raw())
        found = [(role, version, stats.to_json()) for (role, version), stats in merged.items()]
        return [{"role": role, "version": version, **stats}
                for role, version, stats in sorted(found, key=lambda t: (order.get(t[0], 9), t[1]))]

    # -- sharing between workers ---------------------------------------------------------------
    def _path(self, pid: int) -> Path:
        return self.shared_dir / f"traffic-{pid}.json"

    def publish(self) -> None:
        """Write this worker's counts where the other workers read them (atomically: never half a file)."""
        with self._lock:
            raw = {f"{n}\t{role}\t{version}": stats.to_raw() for (n, role, version), stats in self._stats.items()}
        path = self._path(os.getpid())
        part = path.with_suffix(".part")
        part.write_text(json.dumps(raw))
        os.replace(part, path)

    def _publish_loop(self) -> None:
        published = 0
        while not self._stop.wait(PUBLISH_SECONDS):
            if self._changes != published:
                published = self._changes
                try:
                    self.publish()
                except OSError:  # the next round tries again
                    log.warning("could not share this worker's traffic counts", exc_info=True)

    def _others(self) -> list[dict[str, Any]]:
        if self.shared_dir is None:
            return []
        own = self._path(os.getpid()).name
        found = []
        for path in self.shared_dir.glob("traffic-*.json"):
            if path.name == own:
                continue
            try:
                found.append(json.loads(path.read_text()))
            except (OSError, ValueError):  # a worker gone, or mid-replace on a filesystem without atomic rename
                continue
        return found

    def close(self) -> None:
        """Stop sharing; the last counts written for the others."""
        self._stop.set()
        if self.shared_dir is not None and self._changes:
            try:
                self.publish()
            except OSError:
                pass


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
