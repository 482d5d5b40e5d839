"""A served model's retraining policy: what makes it retrain, and the gain a new version needs.

A policy says: retrain with the same settings on the newest version of the model's dataset when
drift was flagged on ``drift_windows`` monitoring windows in a row, when a newer version of the
dataset appears (``on_new_data``), or every ``every_hours``; then compare on a common holdout and
promote when the new version is better by at least ``min_gain``.  :mod:`core.serve.retrain_check`
reads the policies and acts on them; this module only stores them (one per model).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from core.models.registry import model_row
from core.platform import access
from core.platform.errors import InvalidInputError
from core.platform.metadata.models import RegisteredModel, RetrainPolicy, utcnow
from core.platform.workspace import Workspace

__all__ = ["MAX_WINDOWS", "PolicyInfo", "clear_policy", "get_policy", "list_policies", "set_policy"]

MAX_WINDOWS = 1000
MAX_HOURS = 24 * 366


@dataclass(frozen=True)
class PolicyInfo:
    id: int
    name: str
    drift_windows: int | None
    on_new_data: bool
    every_hours: float | None
    min_gain: float
    last_run_at: datetime | None
    last_dataset_version_id: int | None
    job_id: str | None
    revision: int
    updated_at: datetime

    @property
    def active(self) -> bool:
        return bool(self.drift_windows or self.on_new_data or self.every_hours)

    def describe(self) -> str:
        """The policy in a sentence, as the page and the command line show it."""
        if not self.active:
            return "no retraining policy"
        when = []
        if self.drift_windows:
            when.append(f"drift is flagged on {self.drift_windows} window{'s' if self.drift_windows > 1 else ''} "
                        "in a row")
        if self.on_new_data:
            when.append("a newer version of its dataset appears")
        if self.every_hours:
            when.append(f"every {self.every_hours:g} hours")
        return (f"retrain when {' or '.join(when)}; promote when better by at least {self.min_gain:g} on a "
                "common holdout, else keep production")

    def to_json(self) -> dict[str, Any]:
        return {"model": self.name, "drift_windows": self.drift_windows, "on_new_data": self.on_new_data,
                "every_hours": self.every_hours, "min_gain": self.min_gain,
                "last_run_at": self.last_run_at.isoformat() if self.last_run_at else None, "job_id": self.job_id,
                "description": self.describe()}


def _info(row: RetrainPolicy, name: str) -> PolicyInfo:
    return PolicyInfo(row.id, name, row.drift_windows, bool(row.on_new_data), row.every_hours, float(row.min_gain),
                      row.last_run_at, row.last_dataset_version_id, row.job_id, int(row.revision or 0),
                      row.updated_at)


def _check(drift_windows: int | None, every_hours: float | None, min_gain: float) -> None:
    if drift_windows is not None and (isinstance(drift_windows, bool) or not 1 <= int(drift_windows) <= MAX_WINDOWS):
        raise InvalidInputError(f"The drift windows are a whole number from 1 to {MAX_WINDOWS}, such as 3; "
                                f"got {drift_windows!r}.")
    if every_hours is not None and not 0 < float(every_hours) <= MAX_HOURS:
        raise InvalidInputError(f"The schedule is a number of hours above 0 and at most {MAX_HOURS}, such as 24; "
                                f"got {every_hours!r}.")
    if not 0 <= float(min_gain) < 1:
        raise InvalidInputError(f"The gain to promote is 0 or more and below 1 (a metric difference such as "
                                f"0.005); got {min_gain!r}.")


def set_policy(ws: Workspace, name: str, *, drift_windows: int | None = None, on_new_data: bool = False,
               every_hours: float | None = None, min_gain: float = 0.0) -> PolicyInfo:
    """Give model ``name`` this policy (replacing any it had); retraining can promote, so this needs
    the right to promote."""
    _check(drift_windows, every_hours, min_gain)
    if not (drift_windows or on_new_data or every_hours):
        raise InvalidInputError("Say when to retrain: after drift on N windows, on new data, or every N hours.",
                                hint="For example: python -m core models policy NAME --drift-windows 3 --on-new-data")
    access.require(ws, "promote")
    with ws.db.session() as s:
        model = model_row(s, name, lock=True, ws=ws)
        row = s.scalar(select(RetrainPolicy).where(RetrainPolicy.model_id == model.id))
        if row is None:
            row = RetrainPolicy(model_id=model.id, revision=0)
            s.add(row)
        row.drift_windows = int(drift_windows) if drift_windows else None
        row.on_new_data = bool(on_new_data)
        row.every_hours = float(every_hours) if every_hours else None
        row.min_gain = float(min_gain)
        row.updated_at = utcnow()
        row.revision = int(row.revision or 0) + 1
        s.flush()
        info = _info(row, model.name)
    access.audit(ws, "set_retrain_policy", f"{info.name}: {info.describe()}")
    return info


def get_policy(ws: Workspace, name: str) -> PolicyInfo | None:
    """The policy of model ``name``; ``None`` when it has none."""
    with ws.db.session() as s:
        model = model_row(s, name, ws=ws)
        row = s.scalar(select(RetrainPolicy).where(RetrainPolicy.model_id == model.id))
        return _info(row, model.name) if row is not None else None


def clear_policy(ws: Workspace, name: str) -> PolicyInfo | None:
    """Remove the policy of ``name``: it retrains only when asked again; returns the policy removed."""
    access.require(ws, "promote")
    with ws.db.session() as s:
        model = model_row(s, name, lock=True, ws=ws)
        row = s.scalar(select(RetrainPolicy).where(RetrainPolicy.model_id == model.id))
        if row is None:
            return None
        info = _info(row, model.name)
        s.delete(row)
    access.audit(ws, "clear_retrain_policy", info.name)
    return info


def list_policies(ws: Workspace, names: set[str] | None = None) -> list[PolicyInfo]:
    """Every policy of this project's models (of ``names`` only, when given), by model name."""
    with ws.db.session() as s:
        query = (select(RetrainPolicy, RegisteredModel.name)
                 .join(RegisteredModel, RegisteredModel.id == RetrainPolicy.model_id)
                 .where(access.in_project(RegisteredModel.project_id, ws)).order_by(RegisteredModel.name))
        if names is not None:
            query = query.where(RegisteredModel.name.in_(sorted(names)))
        return [_info(row, name) for row, name in s.execute(query)]
