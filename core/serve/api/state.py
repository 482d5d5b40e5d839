"""What one running API holds: the workspace, the models it serves, its keys, limits and metrics."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import anyio

from core.platform.workspace import Workspace
from core.serve.api.auth import KeyCheck
from core.serve.api.limits import Gate
from core.serve.api.metrics import ApiMetrics, shared_dir
from core.serve.api.monitor import ServeMonitor
from core.serve.api.resolver import ModelResolver
from core.serve.api.traffic import Routes, ShadowRunner, Traffic
from core.serve.retrain_check import check_policies

__all__ = ["ApiState"]


@dataclass
class ApiState:
    ws: Workspace
    resolver: ModelResolver
    keys: KeyCheck
    gate: Gate
    metrics: ApiMetrics
    max_body_bytes: int
    timeout_seconds: float
    _limiter: anyio.CapacityLimiter | None = field(default=None, repr=False)
    routes: Routes | None = None  # A/B and shadow (core.serve.api.traffic), set by open()
    traffic: Traffic = field(default_factory=Traffic)
    shadow: ShadowRunner | None = None
    monitor: ServeMonitor | None = None  # served requests into the prediction-run history

    @classmethod
    def open(cls, ws: Workspace) -> ApiState:
        s = ws.settings
        refresh = s.serve_refresh_ms / 1000
        shared = shared_dir()  # set by `serve --workers N`: counts add up across the workers
        state = cls(ws, ModelResolver(ws, refresh_seconds=refresh), KeyCheck(ws, required=s.serve_require_key,
                    refresh_seconds=refresh), Gate(s.serve_max_concurrent), ApiMetrics(shared),
                    s.serve_max_body_mb * 1024 * 1024, float(s.serve_timeout_s), traffic=Traffic(shared))
        state.routes = Routes(ws, refresh_seconds=refresh)
        state.shadow = ShadowRunner(state.traffic)
        state.monitor = ServeMonitor(ws, share=s.serve_sample_share, window_seconds=float(s.serve_window_s),
                                     on_window=lambda runs: check_policies(ws, {r.name for r in runs}))
        return state

    def close(self) -> None:
        """When the server stops: the last monitoring window recorded, the shadow thread let go."""
        if self.shadow is not None:
            self.shadow.close()
        self.traffic.close()
        if self.monitor is not None:
            self.monitor.close()

    @property
    def limiter(self) -> anyio.CapacityLimiter:
        """Threads that score at once: about one per core.  Requests admitted by the gate beyond that
        wait their turn: more threads would only fight over the interpreter lock (measured: 32 scoring
        threads answer fewer one-row requests per second than 8)."""
        if self._limiter is None:  # made inside the event loop, on the first request
            self._limiter = anyio.CapacityLimiter(min(self.gate.limit, max(2, os.cpu_count() or 1)))
        return self._limiter
