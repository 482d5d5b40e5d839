"""Served requests into the prediction-run history, one run per model version and time window.

Every request is counted (volume, errors, latency); a sampled share (``serve_sample_share``) also
keeps its rows and predictions.  A thread of its own ends a window every ``serve_window_s``: it
converts the sampled rows as scoring did, tests them for drift against the training statistics,
records one prediction run (source ``api``) per version with the score distribution, and raises
the alerts whose thresholds the window crossed (``core.serve.alerts``); then ``on_window`` (the
retraining policies' check, ``core.serve.retrain_check``) sees the runs.  Nothing of this runs on
the request path, which only appends to a list under a lock.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from core.platform.errors import AtelierError
from core.serve import alerts, prediction_runs
from core.serve.api.payloads import Rows
from core.serve.drift import DRIFT_ROWS, detect_drift
from core.serve.loaded import LoadedModel
from core.serve.validation import validate_and_coerce, validate_row

__all__ = ["ServeMonitor"]

log = logging.getLogger("atelier.serve")
LATENCIES_KEPT = 5000


@dataclass
class _Window:
    model: LoadedModel
    requests: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    sampled_requests: int = 0
    sampled_rows: int = 0
    rows: list[Rows] = field(default_factory=list)
    predictions: list[Any] = field(default_factory=list)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))


class ServeMonitor:
    """Windows of served traffic, written to the metadata database off the request path."""

    def __init__(self, ws, *, share: float, window_seconds: float, seed: int | None = None,
                 on_window: Callable[[list[prediction_runs.PredictionRunInfo]], object] | None = None) -> None:
        self.ws, self.share, self.window_seconds, self.on_window = ws, share, window_seconds, on_window
        self.rng = random.Random(seed)
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._windows: dict[tuple[str, int], _Window] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def observe(self, model: LoadedModel, seconds: float, *, ok: bool, rows: Rows | None = None,
                values: list[Any] | None = None) -> None:
        """Count one request answered by ``model`` (``values``: its rows' predictions); keep its rows when it
        is drawn into the sample."""
        if self._thread is None:
            self.start()
        version = model.version
        with self._lock:
            window = self._windows.get((version.name, version.version))
            if window is None or window.model.version.id != version.id:
                window = self._windows[(version.name, version.version)] = _Window(model)
            window.requests += 1
            window.errors += not ok
            if len(window.latencies) < LATENCIES_KEPT:
                window.latencies.append(seconds)
            if ok and rows is not None and values and self.share > 0 and self.rng.random() < self.share:
                window.sampled_requests += 1
                if window.sampled_rows < DRIFT_ROWS:
                    window.rows.append(rows)
                window.sampled_rows += len(values)
                window.predictions.extend(values[:DRIFT_ROWS])

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="atelier-monitor", daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.window_seconds):
            try:
                self.flush()
            except Exception:  # the next window tries again; the server keeps answering
                log.warning("could not record the monitoring window", exc_info=True)

    def close(self) -> None:
        """End the current window (recorded) and stop the thread."""
        self._stop.set()
        try:
            self.flush(after=False)  # the server is stopping: no retraining check on its way out
        except Exception:
            log.warning("could not record the last monitoring window", exc_info=True)

    def flush(self, *, after: bool = True) -> list[prediction_runs.PredictionRunInfo]:
        """End the window now: one prediction run per version served in it, its alerts, then (``after``)
        ``on_window`` with the runs."""
        with self._flush_lock:
            with self._lock:
                windows, self._windows = self._windows, {}
            ended = datetime.now(UTC)
            runs = []
            for w in windows.values():
                if not w.requests:
                    continue
                try:
                    runs.append(self._record(w, ended))
                except Exception:  # one version's window never keeps the others from being recorded
                    log.warning("could not record the window of %s", w.model.version.label, exc_info=True)
        if after and runs and self.on_window is not None:
            try:
                self.on_window(runs)
            except Exception:  # a failed check is tried again after the next window
                log.warning("could not check the retraining policies", exc_info=True)
        return runs

    def _record(self, w: _Window, ended: datetime) -> prediction_runs.PredictionRunInfo:
        version = w.model.version
        latencies = np.asarray(w.latencies, dtype=np.float64) * 1000
        summary: dict[str, Any] = {
            "rows": w.sampled_rows, "requests": w.requests, "errors": w.errors,
            "error_rate": w.errors / w.requests, "sampled_requests": w.sampled_requests,
            "sample_share": self.share, "window_start": w.started.isoformat(), "window_end": ended.isoformat(),
            "latency_ms": {"mean": float(latencies.mean()), "p50": float(np.percentile(latencies, 50)),
                           "p95": float(np.percentile(latencies, 95)), "p99": float(np.percentile(latencies, 99))},
        }
        summary.update(_distribution(w.predictions, w.model.kind))
        drift_share, drifted = None, []
        try:
            frame = self._sampled_frame(w)
            if frame is not None and len(frame):
                report = detect_drift(w.model.reference, frame)
                drift_share, drifted, summary["drift"] = report.share_drifted, report.drifted_features, report.to_json()
        except AtelierError as exc:  # no reference statistics, say: the run is recorded without drift
            summary["drift_error"] = exc.message
        run = prediction_runs.record(self.ws, version, source="api", n_rows=w.sampled_rows, summary=summary,
                                     drift_share=drift_share)
        alerts.check_window(self.ws, self.ws.settings, version.name, version.version, requests=w.requests,
                            errors=w.errors, sampled_rows=w.sampled_rows, drift_share=drift_share, drifted=drifted,
                            window={"window_start": summary["window_start"], "window_end": summary["window_end"],
                                    "run_id": run.id})
        return run

    @staticmethod
    def _sampled_frame(w: _Window) -> pd.DataFrame | None:
        """The window's sampled rows converted as scoring converted them, in one frame.

        The one-row requests (most of a busy window: thousands of them) are converted together, as
        one frame: row by row took ~1 ms each with the interpreter lock held, seconds per window
        taken from the requests being answered meanwhile.  Each of them was scored, so each names
        every feature and converts the same way in a column of many.
        """
        reference = w.model.reference
        singles = [rows.row for rows in w.rows if rows.row is not None]
        parts = []
        if singles:
            _, X = validate_and_coerce(reference, pd.DataFrame.from_records(singles))
            if X is None:  # names told apart only by their type (1 and "1"), say: one by one, as scored
                converted = (validate_row(reference, row)[1] for row in singles)
                parts.extend(X for X in converted if X is not None)
            else:
                parts.append(X)
        for rows in w.rows:
            if rows.row is None:
                _, X = validate_and_coerce(reference, rows.frame, file_columns=rows.columns)
                if X is not None:
                    parts.append(X)
        if not parts:
            return None
        return pd.concat(parts, ignore_index=True).head(DRIFT_ROWS)


def _distribution(predictions: list[Any], kind: str) -> dict[str, Any]:
    """As a batch run summarises its output: the class mix, or the mean, spread and quantiles."""
    if not predictions:
        return {}
    if kind != "regression":
        shares = pd.Series([str(p) for p in predictions]).value_counts(normalize=True).head(20)
        return {"class_mix": {str(k): float(v) for k, v in shares.items()}}
    values = pd.to_numeric(pd.Series(predictions), errors="coerce").dropna().to_numpy(dtype=np.float64)
    if not len(values):
        return {}
    return {"mean": float(values.mean()), "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
            "quantiles": {str(q): float(np.quantile(values, q)) for q in (0.05, 0.25, 0.5, 0.75, 0.95)}}
