"""Which model version a page opens on: production, else the best by the task's primary metric.

A *task* is a dataset and a target (the problem kind with it); ranking versions of unrelated
tasks together is meaningless, so :func:`best_first` keeps each task's versions together, the
task worked on last first.  Within a task the production version leads, then the others from
best to worst by the primary metric (ROC AUC for binary, macro F1 for multiclass, RMSE for
regression, silhouette for clustering), versions without that score last, newest first on ties.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from core.ml.fitting import DEFAULT_METRIC
from core.models.leaderboard import metric_direction

__all__ = ["best_first", "best_version", "choose_task", "in_task", "primary_metric", "primary_score", "task_label",
           "task_of_version", "tasks"]


def primary_metric(kind: str) -> str | None:
    """The metric a task of this problem kind is judged by, or ``None`` for an unknown kind."""
    return DEFAULT_METRIC.get(kind)


def primary_score(version: Any) -> float | None:
    """The version's test score on its primary metric (else the cross-validation mean), or ``None``."""
    metric = primary_metric(version.problem_type)
    if metric is None:
        return None
    metrics = version.metrics or {}
    value = metrics.get(metric)
    if not isinstance(value, int | float) or isinstance(value, bool):
        summary = (metrics.get("cv") or {}).get(metric)
        value = summary.get("mean") if isinstance(summary, dict) else None
    if not isinstance(value, int | float) or isinstance(value, bool) or math.isnan(float(value)):
        return None
    return float(value)


def task_of_version(version: Any) -> tuple[str, str, str]:
    """``(dataset name, target, problem kind)``: versions that can be ranked against each other."""
    dataset = (version.dataset_label or "").rpartition("@")[0] or version.dataset_label or ""
    return dataset, str(version.target or ""), version.problem_type


def best_first(versions: Sequence[Any]) -> list[Any]:
    """``versions`` ordered for a picker: by task (latest worked on first), then production, then best score."""
    task_order = {task: i for i, task in enumerate(tasks(versions))}

    def key(v: Any) -> tuple:
        score = primary_score(v)
        metric = primary_metric(v.problem_type)
        signed = -math.inf if score is None else score if metric_direction(metric or "") != "min" else -score
        return (task_order[task_of_version(v)], v.stage != "production", -signed, -v.created_at.timestamp(),
                -v.version)

    return sorted(versions, key=key)


def best_version(versions: Sequence[Any]) -> Any | None:
    """The version a picker starts on (:func:`best_first`'s first), or ``None`` when there is none."""
    ranked = best_first(versions)
    return ranked[0] if ranked else None


def tasks(versions: Sequence[Any]) -> list[tuple[str, str, str]]:
    """Every task of ``versions``, the one with the newest version first."""
    newest: dict[tuple[str, str, str], Any] = {}
    for v in versions:
        task = task_of_version(v)
        newest[task] = max(newest.get(task, v.created_at), v.created_at)
    return [task for task, _ in sorted(newest.items(), key=lambda kv: kv[1], reverse=True)]


def task_label(task: tuple[str, str, str]) -> str:
    """``"titanic · survived (binary)"``; a clustering task has no target."""
    dataset, target, kind = task
    return f"{dataset} · {target} ({kind})" if target else f"{dataset} ({kind})"


def in_task(versions: Sequence[Any], task: tuple[str, str, str]) -> list[Any]:
    """The versions of one task, in the order given."""
    return [v for v in versions if task_of_version(v) == tuple(task)]


def choose_task(versions: Sequence[Any], *, model: tuple[str, int | None] | None = None,
                dataset: str | None = None, target: str | None = None) -> tuple[str, str, str] | None:
    """The task a page scoped to one task opens on: the one last worked on.

    ``dataset`` (and its ``target`` when known) is the dataset last used; ``model`` the
    ``(name, version)`` last chosen.  Either picks the newest task that matches; otherwise the
    task of the newest version.  ``None`` when there are no versions.
    """
    known = tasks(versions)
    if not known:
        return None
    if dataset:
        matching = [t for t in known if t[0] == dataset and (not target or t[1] == target)] or \
            [t for t in known if t[0] == dataset]
        if matching:
            return matching[0]
    if model:
        name, number = model
        chosen = [v for v in versions if v.name == name and (number is None or v.version == number)]
        if chosen:
            return task_of_version(chosen[-1])
    return known[0]
