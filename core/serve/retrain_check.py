"""The retraining policies acted on: what fired, and a retraining job or a reasoned skip.

:func:`check_policies` is cheap (a few queries per policy): the API's monitor calls it after each
window it records, and ``python -m core retrain check`` calls it by hand or from cron.  A policy
fires on drift flagged in its last ``drift_windows`` monitoring windows of the production version
(windows after its last decision only, so one drifted stretch triggers once), on a dataset
version newer than production's and than the last one tried, or when its schedule is due.  When
there is nothing new to train on, the decision is a skip, said and audited; otherwise the policy
is claimed (one checker wins, however many workers look at once) and :func:`policy_retrain_job`
runs as a job: same settings on the newest version, a common holdout, promote or keep.  Every
decision is an audit event with its numbers, and an event of the model (``serve_events``, kind
``retrain``) with all of them, shown with the alerts on the Predict page.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from core.data import datasets
from core.models import registry
from core.models.registry import ModelVersionInfo, model_row
from core.platform import access, jobs
from core.platform.errors import AtelierError, NotFoundError
from core.platform.metadata.models import PredictionRun, RetrainPolicy, utcnow
from core.platform.progress import Progress
from core.platform.workspace import Workspace
from core.serve import alerts
from core.serve.retrain import plan_retraining, retrain_and_decide
from core.serve.retrain_policy import PolicyInfo, list_policies

__all__ = ["JOB_KIND", "Decision", "check_policies", "drift_flagged", "policy_retrain_job"]

log = logging.getLogger("atelier.serve")
JOB_KIND = "core.serve.retrain_check:policy_retrain_job"
PENDING = "pending"  # a claim whose job is being submitted
PENDING_STALE = timedelta(minutes=10)  # a claim left by a checker that died before submitting


@dataclass(frozen=True)
class Decision:
    """What a check did for one model: ``started`` (a job), or ``skipped`` (why in ``message``)."""

    name: str
    action: str
    reasons: list[str]
    message: str
    job_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"model": self.name, "action": self.action, "reasons": self.reasons, "message": self.message,
                "job_id": self.job_id, **self.details}


def drift_flagged(ws: Workspace, run_summary: dict[str, Any], drift_share: float | None) -> bool:
    """Whether a monitoring window counts as drifted: as the drift alert decides (the same threshold
    and the same minimum of sampled rows)."""
    threshold = ws.settings.alert_drift_share
    return (drift_share is not None and threshold > 0 and drift_share >= threshold
            and int(run_summary.get("rows") or 0) >= alerts.MIN_ROWS)


def _drift_reason(ws: Workspace, policy: PolicyInfo, production: ModelVersionInfo) -> str | None:
    n = policy.drift_windows
    if not n:
        return None
    since = max(t for t in (policy.last_run_at, policy.updated_at) if t is not None)
    with ws.db.session() as s:
        model = model_row(s, policy.name, ws=ws)
        runs = list(s.execute(
            select(PredictionRun.summary, PredictionRun.drift_share, PredictionRun.created_at)
            .where(PredictionRun.model_id == model.id, PredictionRun.version == production.version,
                   PredictionRun.source == "api", PredictionRun.created_at > since)
            .order_by(PredictionRun.id.desc()).limit(n)))
    if len(runs) < n or not all(drift_flagged(ws, dict(r.summary or {}), r.drift_share) for r in runs):
        return None
    shares = ", ".join(f"{r.drift_share:.0%}" for r in reversed(runs))
    return f"drift flagged on {n} window{'s' if n > 1 else ''} in a row ({shares} of the features)"


def _schedule_reason(policy: PolicyInfo, now: datetime) -> str | None:
    if not policy.every_hours:
        return None
    since = policy.last_run_at or policy.updated_at
    if now - since < timedelta(hours=policy.every_hours):
        return None
    return f"its schedule (every {policy.every_hours:g} hours) is due"


def _busy(ws: Workspace, policy: PolicyInfo, now: datetime) -> bool:
    """A retraining of this policy is running (or being started) now."""
    if not policy.job_id:
        return False
    if policy.job_id == PENDING:
        return now - (policy.last_run_at or now) < PENDING_STALE
    try:
        return jobs.get(ws, policy.job_id).status in jobs.ACTIVE
    except NotFoundError:
        return False


def _claim(ws: Workspace, policy: PolicyInfo, now: datetime, **values: Any) -> bool:
    """Move the policy on (its windows used up, a job noted) unless another checker did first."""
    with ws.db.session() as s:
        done = s.execute(update(RetrainPolicy)
                         .where(RetrainPolicy.id == policy.id, RetrainPolicy.revision == policy.revision)
                         .values(revision=policy.revision + 1, last_run_at=now, **values)).rowcount
    return bool(done)


def _record(ws: Workspace, name: str, version: int, action: str, summary: str, details: dict[str, Any]) -> None:
    """A decision in the audit trail (its numbers in one line) and among the model's events (all of them)."""
    access.audit(ws, f"retrain_{action}", f"{name}: {summary}")
    try:
        alerts.record_event(ws, name, version, "retrain", f"{name}: {summary}", {"action": action, **details},
                            webhook_url=ws.settings.alert_webhook_url)
    except AtelierError:  # the audit row is the record; the event is for the page
        log.warning("could not record the retraining event of %s", name, exc_info=True)


def check_policies(ws: Workspace, names: set[str] | None = None, *, now: datetime | None = None) -> list[Decision]:
    """Act on every policy (of ``names`` only, when given) that fired; returns what was done."""
    now = now or utcnow()
    decisions = []
    for policy in list_policies(ws, names):
        try:
            decision = _check_one(ws, policy, now)
        except AtelierError as exc:  # one model's trouble never stops the others' checks
            log.warning("could not check the retraining policy of %s: %s", policy.name, exc.message)
            continue
        if decision is not None:
            decisions.append(decision)
    return decisions


def _check_one(ws: Workspace, policy: PolicyInfo, now: datetime) -> Decision | None:
    if not policy.active or _busy(ws, policy, now):
        return None
    try:
        current = registry.get_version(ws, f"{policy.name}@production")
    except NotFoundError:
        return None  # nothing served: no windows, nothing to replace
    plan = plan_retraining(ws, current)
    newest = plan.newer[0] if plan.newer else None
    reasons = [r for r in (_drift_reason(ws, policy, current), _schedule_reason(policy, now)) if r]
    if policy.on_new_data and newest is not None and newest.id != policy.last_dataset_version_id:
        reasons.append(f"{newest.label} is newer than {plan.trained_on}, which {current.label} was trained on")
    if not reasons:
        return None
    base = {"reasons": reasons, "production": current.label, "trained_on": plan.trained_on,
            "min_gain": policy.min_gain}
    skip = None
    if not plan.config or not plan.dataset:
        skip = plan.blocked or "its card does not say how it was trained"
    elif newest is None:
        skip = (f"there is no version of {plan.dataset!r} newer than {plan.trained_on} to train on; add one with "
                "recent rows")
    elif newest.id == policy.last_dataset_version_id:
        skip = f"{newest.label} was tried already and production was kept; add a newer version with recent rows"
    if skip is not None:
        if not _claim(ws, policy, now, job_id=None):
            return None
        message = f"retraining skipped: {skip} ({'; '.join(reasons)})"
        _record(ws, policy.name, current.version, "skipped", message, base)
        return Decision(policy.name, "skipped", reasons, message, details=base)
    if not _claim(ws, policy, now, job_id=PENDING, last_dataset_version_id=newest.id):
        return None
    params = {"model": policy.name, "dataset_version_id": newest.id, "min_gain": policy.min_gain,
              "reasons": reasons, "policy_id": policy.id}
    try:
        job_id = jobs.submit(ws, JOB_KIND, params, title=f"Retrain {policy.name} on {newest.label} (policy)")
    except AtelierError as exc:
        _release(ws, policy.id)
        message = f"retraining skipped ({'; '.join(reasons)}): the job could not start: {exc.message}"
        _record(ws, policy.name, current.version, "skipped", message, base)
        return Decision(policy.name, "skipped", reasons, message, details=base)
    with ws.db.session() as s:
        s.execute(update(RetrainPolicy).where(RetrainPolicy.id == policy.id, RetrainPolicy.job_id == PENDING)
                  .values(job_id=job_id))
    message = f"retraining on {newest.label} started ({'; '.join(reasons)}), job {job_id}"
    access.audit(ws, "retrain_started", f"{policy.name}: {message}")
    return Decision(policy.name, "started", reasons, message, job_id, {**base, "dataset": newest.label})


def _release(ws: Workspace, policy_id: int, job_id: str | None = None) -> None:
    with ws.db.session() as s:
        query = update(RetrainPolicy).where(RetrainPolicy.id == policy_id)
        if job_id is not None:
            query = query.where(RetrainPolicy.job_id.in_([job_id, PENDING]))
        s.execute(query.values(job_id=None))


def policy_retrain_job(ctx, model: str, dataset_version_id: int, min_gain: float, reasons: list[str],
                       policy_id: int) -> dict[str, Any]:
    """Job body: retrain ``model`` on the dataset version, compare on the common holdout, promote or keep."""
    ws = ctx.ws
    why = "; ".join(reasons)
    current = data = None
    try:
        current = registry.get_version(ws, f"{model}@production")
        data = datasets.get_version_by_id(ws, dataset_version_id)
        outcome = retrain_and_decide(ws, plan_retraining(ws, current), data, min_gain,
                                     callbacks=Progress.of_job(ctx), job_id=ctx.job_id)
    except Exception as exc:
        text = exc.message if isinstance(exc, AtelierError) else f"{type(exc).__name__}: {exc}"
        label = data.label if data is not None else f"dataset version {dataset_version_id}"
        try:
            _record(ws, model, current.version if current is not None else 0, "failed",
                    f"retraining on {label} failed: {text} ({why})",
                    {"reasons": reasons, "dataset": label, "job_id": ctx.job_id})
        except AtelierError:  # the model itself is gone: the job's own error says why
            pass
        raise
    finally:
        _release(ws, policy_id, ctx.job_id)
    c = outcome.comparison
    numbers = (f"{c.metric} {c.new:.4f} for {outcome.new.label} vs {c.base:.4f} for {outcome.base.label} on a "
               f"common holdout of {c.rows:,} rows of {c.dataset}, gain {c.gain:+.4f}")
    # the numbers first: the audit trail keeps 300 characters of a line
    if outcome.promoted:
        action, summary = "promoted", f"{outcome.new.label} promoted: {numbers} >= {min_gain:g} ({why})"
    else:
        action = "kept"
        summary = f"{outcome.base.label} kept, {outcome.new.label} not promoted: {numbers} < {min_gain:g} ({why})"
    details = {"reasons": reasons, "job_id": ctx.job_id, **outcome.to_json()}
    _record(ws, model, outcome.new.version, action, summary, details)
    ctx.log(summary)
    return {"decision": action, "summary": summary, **details}
