"""Retraining planning: the same algorithm and settings on a newer version of the model's dataset.

:func:`plan_retraining` reads the model's card for the dataset version and the settings that
trained it and lists the newer versions of that dataset; :func:`submit_retraining` starts the
run; :func:`comparison_base` says which version a retrained model is compared with before it is
promoted (production, unless that is the new model itself); :func:`retrain_and_decide` trains,
compares on the common holdout and decides, as ``python -m core retrain`` and the policy's job do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.data import datasets
from core.data.datasets import VersionInfo
from core.ml.config import TrainConfig
from core.models import registry
from core.models.registry import ModelVersionInfo
from core.models.training import submit_training, train_version
from core.platform.errors import InvalidInputError, NotFoundError
from core.platform.progress import Progress
from core.platform.workspace import Workspace
from core.serve.retrain_compare import HoldoutComparison, compare_on_holdout, decide

__all__ = ["RetrainOutcome", "RetrainPlan", "comparison_base", "plan_retraining", "retrain_and_decide",
           "submit_retraining"]


@dataclass(frozen=True)
class RetrainPlan:
    """What retraining ``model`` would do, or why it cannot (``blocked``)."""

    model: ModelVersionInfo
    trained_on: str  # the dataset version label, e.g. "titanic@2"
    dataset: str | None
    algorithm: str
    config: dict[str, Any] | None
    newer: list[VersionInfo] = field(default_factory=list)  # newest first

    @property
    def blocked(self) -> str | None:
        """Why the model cannot be retrained now, in a sentence; ``None`` when it can."""
        if not self.dataset or not self.config:
            return "This model's card does not say which dataset and settings trained it, so it cannot be retrained."
        if not self.newer:
            return f"There is no version of {self.dataset!r} newer than {self.trained_on}."
        return None


def plan_retraining(ws: Workspace, model: ModelVersionInfo) -> RetrainPlan:
    """The retraining plan of ``model``: its dataset, settings, and the newer versions to train on."""
    card = model.card
    label = card.dataset_label or model.dataset_label or ""
    try:
        name, number = datasets.parse_ref(label) if label else ("", None)
    except InvalidInputError:
        name, number = "", None
    algorithm = card.algorithm or model.algorithm
    config = card.config or None
    newer: list[VersionInfo] = []
    if name and config:
        try:
            newer = [v for v in datasets.list_versions(ws, name) if v.version > (number or 0)][::-1]
        except NotFoundError:  # the dataset was deleted since
            newer = []
    return RetrainPlan(model, label, name or None, algorithm, config, newer)


def submit_retraining(ws: Workspace, plan: RetrainPlan, version: VersionInfo) -> str:
    """Start retraining on ``version`` (one of ``plan.newer``); the model keeps its name."""
    if plan.blocked:
        raise InvalidInputError(plan.blocked)
    if version.id not in {v.id for v in plan.newer}:
        raise InvalidInputError(f"{version.label} is not a newer version of {plan.dataset!r} than {plan.trained_on}.")
    return submit_training(ws, version, plan.config or {}, [plan.algorithm], model_name=plan.model.name,
                           title=f"Retrain {plan.model.name} on {version.label}")


def comparison_base(ws: Workspace, new: ModelVersionInfo, current: ModelVersionInfo) -> ModelVersionInfo:
    """What a retrained version is compared with: the production version, else the one it retrains."""
    production = next((v for v in registry.list_versions(ws, new.name) if v.stage == "production"), None)
    return production if production is not None and production.id != new.id else current


@dataclass(frozen=True)
class RetrainOutcome:
    """A retraining's result: the new version, what it was compared with, the numbers, the decision."""

    new: ModelVersionInfo
    base: ModelVersionInfo
    comparison: HoldoutComparison
    promoted: bool
    margin: float | None

    def to_json(self) -> dict[str, Any]:
        return {"new": self.new.label, "base": self.base.label, "promoted": self.promoted, "margin": self.margin,
                "comparison": self.comparison.to_json()}


def retrain_and_decide(ws: Workspace, plan: RetrainPlan, data: VersionInfo, margin: float | None, *,
                       callbacks: Progress | None = None, job_id: str | None = None) -> RetrainOutcome:
    """Train ``plan``'s algorithm and settings on ``data``, compare with production on the common holdout
    of ``data``, and promote when ``margin`` is given and the gain reaches it."""
    if plan.blocked and not plan.config:
        raise InvalidInputError(plan.blocked)
    current = plan.model
    rows = train_version(ws, data, TrainConfig.from_dict(plan.config or {}), [plan.algorithm],
                         model_name=current.name, callbacks=callbacks, job_id=job_id)
    failed = [r.get("error") or "unknown error" for r in rows if r.get("status") != "ok"]
    if failed or not rows:
        raise InvalidInputError(f"Retraining {current.name} on {data.label} failed: {'; '.join(failed)}")
    new = registry.get_version(ws, rows[0]["model"])
    base = comparison_base(ws, new, current)
    comparison = compare_on_holdout(ws, new, base, data)
    promoted = decide(ws, new, comparison, margin)
    return RetrainOutcome(new, base, comparison, promoted is not None, margin)
