"""The API's Prometheus metrics: requests, latency, errors and rows scored, labelled by model.

Each app has its own registry (two apps in one process, as in the tests, count apart).  With
``--workers N``, ``python -m core serve`` gives the workers one folder (``PROMETHEUS_MULTIPROC_DIR``,
prometheus_client's multiprocess mode): each worker's counts go to files there as they change, and
``/metrics`` adds up every worker's, whichever worker answers it.
"""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

__all__ = ["CONTENT_TYPE_LATEST", "MULTIPROC_ENV", "ApiMetrics", "shared_dir"]

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client reads it when first imported


def shared_dir() -> Path | None:
    """The folder the workers of one server share (for metrics and traffic counts); None with one worker."""
    value = os.environ.get(MULTIPROC_ENV)
    return Path(value) if value else None

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class ApiMetrics:
    """Counters and a latency histogram in a registry of their own."""

    def __init__(self, shared: Path | None = None) -> None:
        self.shared = shared
        self.registry = CollectorRegistry()
        self.requests = Counter("atelier_requests", "Prediction requests answered, by model, version and status.",
                                ["model", "version", "status"], registry=self.registry)
        self.latency = Histogram("atelier_request_seconds", "Time to answer a prediction request, by model.",
                                 ["model"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.errors = Counter("atelier_errors", "Prediction requests that failed, by model and reason.",
                              ["model", "reason"], registry=self.registry)
        self.rows = Counter("atelier_rows_scored", "Rows scored, by model and version.", ["model", "version"],
                            registry=self.registry)

    def observe(self, model: str, version: str, status: int, seconds: float, rows: int = 0,
                reason: str = "") -> None:
        self.requests.labels(model, version, str(status)).inc()
        self.latency.labels(model).observe(seconds)
        if rows:
            self.rows.labels(model, version).inc(rows)
        if status >= 400:
            self.errors.labels(model, reason or str(status)).inc()

    def text(self) -> bytes:
        if self.shared is None:
            return generate_latest(self.registry)
        from prometheus_client.multiprocess import MultiProcessCollector

        every_worker = CollectorRegistry()
        MultiProcessCollector(every_worker, path=str(self.shared))
        return generate_latest(every_worker)
