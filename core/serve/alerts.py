"""Alerts of the served models: a drift or error-rate threshold crossed in a monitoring window.

Each alert is an event in the metadata database (``serve_events``, shown on the Predict page) and,
when ``alert_webhook_url`` is set, POSTed there as JSON; the webhook's answer (or why it failed)
is stored with the event.  A webhook that is down never loses the event.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from core.models.registry import model_row, plain_json
from core.platform import access
from core.platform.config import Settings
from core.platform.metadata.models import RegisteredModel, ServeEvent
from core.platform.workspace import Workspace

__all__ = ["EventInfo", "check_window", "list_events", "post_webhook", "record_event"]

MIN_REQUESTS = 20  # in a window, before its error rate can raise an alert
MIN_ROWS = 20  # sampled rows in a window, before its drift can raise an alert
WEBHOOK_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class EventInfo:
    id: int
    name: str
    version: int
    kind: str
    message: str
    details: dict[str, Any]
    webhook_status: str | None
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "model": self.name, "version": self.version, "kind": self.kind,
                "message": self.message, "details": self.details, "created_at": self.created_at.isoformat()}


def post_webhook(url: str, payload: Mapping[str, Any], timeout: float = WEBHOOK_TIMEOUT_S) -> str:
    """POST ``payload`` as JSON to ``url``; the answer's status, or why there was none, in a few words."""
    request = urllib.request.Request(url, data=json.dumps(payload, default=str).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "User-Agent": "atelier-alerts"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - a URL from settings
            return f"{response.status}"
    except urllib.error.HTTPError as exc:
        return f"{exc.code} {exc.reason}"[:200]
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return f"failed: {getattr(exc, 'reason', exc)}"[:200]


def record_event(ws: Workspace, name: str, version: int, kind: str, message: str,
                 details: Mapping[str, Any] | None = None, *, webhook_url: str = "") -> EventInfo:
    """Store an alert and, when ``webhook_url`` is set, POST it there."""
    with ws.db.session() as s:
        model = model_row(s, name, ws=ws)
        row = ServeEvent(model_id=model.id, version=int(version), kind=kind[:30], message=message,
                         details=plain_json(dict(details or {}), "alert details"))
        s.add(row)
        s.flush()
        info = _info(row, model.name)
    if not webhook_url:
        return info
    status = post_webhook(webhook_url, {"event": "atelier.alert", **info.to_json()})
    with ws.db.session() as s:
        stored = s.get(ServeEvent, info.id)
        if stored is not None:
            stored.webhook_status = status
    return EventInfo(**{**info.__dict__, "webhook_status": status})


def list_events(ws: Workspace, name: str | None = None, limit: int = 50) -> list[EventInfo]:
    """Alerts, newest first (of one model when ``name`` is given)."""
    with ws.db.session() as s:
        query = (select(ServeEvent, RegisteredModel.name)
                 .join(RegisteredModel, RegisteredModel.id == ServeEvent.model_id)
                 .where(access.in_project(RegisteredModel.project_id, ws))  # this project's models only
                 .order_by(ServeEvent.id.desc()).limit(limit))
        if name is not None:
            query = query.where(ServeEvent.model_id == model_row(s, name, ws=ws).id)
        return [_info(row, model) for row, model in s.execute(query)]


def check_window(ws: Workspace, settings: Settings, name: str, version: int, *, requests: int, errors: int,
                 sampled_rows: int, drift_share: float | None, drifted: list[str] | None = None,
                 window: Mapping[str, Any] | None = None) -> list[EventInfo]:
    """Record an alert for each threshold this window of ``name`` v``version`` crossed."""
    events = []
    window = dict(window or {})
    if requests >= MIN_REQUESTS and errors / requests >= settings.alert_error_rate > 0:
        rate = errors / requests
        events.append(record_event(
            ws, name, version, "error_rate",
            f"{name} v{version}: {errors} of {requests} requests failed ({rate:.0%}), above the "
            f"{settings.alert_error_rate:.0%} alert threshold.",
            {"requests": requests, "errors": errors, "error_rate": rate,
             "threshold": settings.alert_error_rate, **window}, webhook_url=settings.alert_webhook_url))
    if (drift_share is not None and sampled_rows >= MIN_ROWS and settings.alert_drift_share > 0
            and drift_share >= settings.alert_drift_share):
        shown = ", ".join((drifted or [])[:5])
        events.append(record_event(
            ws, name, version, "drift",
            f"{name} v{version}: {drift_share:.0%} of the features drifted from training"
            f"{f' ({shown})' if shown else ''}, at or above the {settings.alert_drift_share:.0%} alert threshold.",
            {"drift_share": drift_share, "drifted_features": list(drifted or []), "rows": sampled_rows,
             "threshold": settings.alert_drift_share, **window}, webhook_url=settings.alert_webhook_url))
    return events


def _info(row: ServeEvent, name: str) -> EventInfo:
    return EventInfo(row.id, name, row.version, row.kind, row.message, dict(row.details or {}), row.webhook_status,
                     row.created_at)
