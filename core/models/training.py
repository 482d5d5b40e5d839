"""Training runs: train several algorithms on a dataset version and register each model.

This is the glue between the catalogue, ``core.ml`` and the registry.  Each
finished model is registered at once (with its card and reference
statistics), so cancelling a run keeps the models already trained; the
results table is published to the job row as it grows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from core.data import datasets
from core.ml.config import TrainConfig
from core.ml.train import TrainResult, train_many
from core.ml.train_dask import train_many_partitioned, uses_cluster
from core.models import registry
from core.models.card import CardDataset, ModelCard
from core.models.training_stats import build_reference
from core.platform import access, jobs, parts
from core.platform.compute import executor_for
from core.platform.errors import AtelierError
from core.platform.progress import Progress
from core.platform.workspace import Workspace

ResultHook = Callable[[list[dict[str, Any]]], None]


def result_row(result: TrainResult, model: registry.ModelVersionInfo | None) -> dict[str, Any]:
    """One line of the live results table (plain JSON)."""
    return {
        "algorithm": result.algorithm, "label": result.label, "status": result.status, "error": result.error,
        "model": model.label if model else None, "model_name": model.name if model else None,
        "version": model.version if model else None, "metrics": result.metrics,
        "train_seconds": result.timings.get("train_seconds"), "total_seconds": result.timings.get("total_seconds"),
        "estimated_seconds": result.timings.get("estimated_seconds"), "notes": result.notes[-5:],
    }


def model_card(result: TrainResult, version: datasets.VersionInfo) -> ModelCard:
    """Everything said about a model: the result, its data's reference statistics, provenance."""
    return replace(ModelCard.from_dict(result.to_dict()),
                   dataset=CardDataset(label=version.label, version_id=version.id, sha256=version.sha256),
                   reference=result.reference or build_reference(result.train_frame, result.features))


def register_result(ws: Workspace, name: str, result: TrainResult, version: datasets.VersionInfo,
                    job_id: str | None = None) -> registry.ModelVersionInfo:
    metrics = {**result.metrics, "cv": result.cv} if result.cv else dict(result.metrics)
    per_1k = result.timings.get("predict_seconds_per_1000")
    return registry.register_version(
        ws, name, model_bytes=result.model_bytes, algorithm=result.algorithm, problem_type=result.kind,
        target=result.target, dataset_version_id=version.id, dataset_label=version.label, metrics=metrics,
        card=model_card(result, version), train_seconds=result.timings.get("train_seconds", 0.0),
        predict_ms_per_1k=None if per_1k is None else per_1k * 1000, job_id=job_id,
    )


def train_version(
    ws: Workspace,
    version: datasets.VersionInfo,
    config: TrainConfig,
    algorithms: Sequence[str],
    *,
    model_name: str | None = None,
    callbacks: Progress | None = None,
    on_results: ResultHook | None = None,
    job_id: str | None = None,
    estimates: Mapping[str, Mapping[str, float]] | None = None,
) -> list[dict[str, Any]]:
    """Train ``algorithms`` on ``version`` and register every model that fits.

    ``estimates`` (``{algorithm: {"seconds": …, "raw_seconds": …}}``, what the page showed) go into each
    model's timings as ``estimated_seconds``, so the estimate shows beside the time taken ever after.  One
    that was still running at Train and joined the job later (``core.models.estimate_history.add_estimate``)
    is read from the job when its algorithm finishes.

    One algorithm failing is recorded in its row and the others go on;
    cancelling stops the run and keeps the models registered so far.
    """
    access.require(ws, "train")
    cb = callbacks or Progress()
    config = replace(config, roles={**version.roles, **dict(config.roles)},
                     use_gpu=config.use_gpu or ws.settings.use_gpu)
    name = model_name or registry.default_model_name(version.name, config.target)
    executor = executor_for(ws.settings)
    on_cluster = uses_cluster(config, executor, rows=version.n_rows,
                              partitioned=parts.is_partitioned(version.artifact_key))
    rows: list[dict[str, Any]] = []

    def save(result: TrainResult) -> None:
        model = None
        estimated = (estimates or {}).get(result.algorithm) or _late_estimate(ws, job_id, result.algorithm)
        if estimated.get("seconds") is not None:
            result.timings["estimated_seconds"] = float(estimated["seconds"])
        if result.ok:
            try:
                model = register_result(ws, name, result, version, job_id)
                cb.log(f"{result.label}: registered {model.label}")
            except AtelierError as exc:  # the model was trained but could not be stored: say so in its row
                result = replace(result, status="failed", error=f"Trained, but not saved: {exc}")
                cb.log(result.error)
        rows.append(result_row(result, model))
        if on_results:
            on_results(rows)

    if on_cluster:  # by part on the cluster (LightGBM/XGBoost on every row, the others on a sample)
        cb.log(f"Training on the Dask cluster from {version.label}'s Parquet parts")
        train_many_partitioned(datasets.parquet_files(ws, version), executor, config, algorithms,
                               progress=cb.progress, log=cb.log, check_cancelled=cb.check_cancelled, on_result=save)
    else:
        cb.step(0.0, f"Reading {version.label}")
        frame = datasets.load_frame(ws, version)
        train_many(frame, config, algorithms, progress=cb.progress, log=cb.log, check_cancelled=cb.check_cancelled,
                   on_result=save, executor=executor if executor.distributed else None,
                   describe_rows=lambda rows: build_reference(rows, list(rows.columns)))
    saved = ", ".join(str(r["model"]) for r in rows if r.get("model"))
    access.audit(ws, "train", f"{', '.join(algorithms)} on {version.label}" + (f": {saved}" if saved else ""))
    return rows


def _late_estimate(ws: Workspace, job_id: str | None, algorithm: str) -> Mapping[str, float]:
    """The estimate that joined the job after it was submitted, if one has by now."""
    if job_id is None:
        return {}
    try:
        return (jobs.get(ws, job_id).params.get("estimates") or {}).get(algorithm) or {}
    except AtelierError:  # the job's row cannot be read: the model keeps no estimate, nothing worse
        return {}


TRAIN_JOB = "train"


def submit_training(ws: Workspace, version: datasets.VersionInfo, config: TrainConfig | Mapping[str, Any],
                    algorithms: Sequence[str], *, model_name: str | None = None, title: str | None = None,
                    estimates: Mapping[str, Mapping[str, float]] | None = None) -> str:
    """Train ``algorithms`` on ``version`` as a background job; returns the job id.

    ``config`` is checked here (a bad one fails now, not in the job); each model is registered
    as ``model_name`` or the default ``dataset-target`` name.
    """
    checked = config if isinstance(config, TrainConfig) else TrainConfig.from_dict(config)
    params: dict[str, Any] = {"dataset_version_id": version.id, "config": checked.to_dict(),
                              "algorithms": list(algorithms)}
    if model_name:
        params["model_name"] = model_name
    if estimates:  # kept with the job: the time taken is compared with them after a reload, and they calibrate
        params["estimates"] = {k: {n: float(v) for n, v in e.items() if v is not None} for k, e in estimates.items()}
    access.require(ws, "train")  # fail now, in the page; registering each model checks again
    return jobs.submit(ws, TRAIN_JOB, params, title=title or f"Train {len(algorithms)} model(s) on {version.label}")


def train_job(ctx, dataset_version_id: int, config: dict[str, Any], algorithms: list[str],
              model_name: str | None = None, estimates: dict[str, dict[str, float]] | None = None) -> dict[str, Any]:
    """Job body for the Train page."""
    version = datasets.get_version_by_id(ctx.ws, dataset_version_id)
    rows = train_version(
        ctx.ws, version, TrainConfig.from_dict(config), algorithms, model_name=model_name,
        callbacks=Progress.of_job(ctx),
        on_results=lambda r: ctx.publish(results=r), job_id=ctx.job_id, estimates=estimates,
    )
    return {"results": rows}
