"""AutoML runs: search a dataset version within a budget, register the winner, keep the receipt.

The search is :func:`core.ml.automl.run_automl`; this module adds what needs the registry and the
artifact store.  The receipt (:class:`core.ml.automl.Receipt`) is stored as the artifact
``automl/RUN_ID/receipt.json`` after every trial, so a cancelled, killed or restarted run can be
resumed; the validation predictions of the best trials go beside it (``validation.npz``) so a
resumed search can still ensemble them.  A run started as a job has the job's id as its run id;
the job row holds the growing leaderboard (``ctx.publish``) for the page.
"""

from __future__ import annotations

import io
import json
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from core.data import datasets
from core.data.target import CLASSIFICATION_KINDS
from core.ml.automl import AutoMLConfig, AutoMLResult, Receipt, TrialRecord, replay, run_automl
from core.ml.explain import ShapSummary, feature_importances, shap_summary
from core.ml.fitting import quietly
from core.ml.serialize import dump_model, library_versions, sha256_hex
from core.ml.train import TrainResult
from core.models import registry
from core.models.training import register_result
from core.platform import access, jobs
from core.platform.errors import InvalidInputError, NotFoundError
from core.platform.progress import Progress
from core.platform.workspace import Workspace

__all__ = ["AUTOML_JOB", "automl_job", "load_receipt", "replay_run", "resume_run", "run_on_version", "submit_automl"]

AUTOML_JOB = "automl"
Update = Callable[[dict[str, Any]], None]
SHAP_ROWS = 500  # rows the winner's SHAP summary is computed on (an ensemble's on at most explain.SLOW_ROWS)


def _key(run_id: str, name: str) -> str:
    return f"automl/{run_id}/{name}"


def save_receipt(ws: Workspace, receipt: Receipt) -> None:
    data = json.dumps(receipt.to_dict(), default=str, sort_keys=True).encode("utf-8")
    ws.put_bytes(_key(receipt.run_id, "receipt.json"), data, kind="automl_receipt")


def load_receipt(ws: Workspace, run_id: str) -> Receipt:
    """The stored receipt of ``run_id``.

    Raises
    ------
    NotFoundError
        No AutoML run has that id.
    """
    key = _key(str(run_id), "receipt.json")
    if not ws.has_artifact(key):
        raise NotFoundError(f"No AutoML run {run_id!r} is recorded.",
                            hint="The run id is printed by `python -m core automl` (run_id in --json).")
    return Receipt.from_dict(json.loads(ws.get_bytes(key)))


def _save_predictions(ws: Workspace, run_id: str, predictions: dict[int, np.ndarray]) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, **{str(k): v for k, v in predictions.items()})
    ws.put_bytes(_key(run_id, "validation.npz"), buffer.getvalue(), kind="automl_predictions")


def _load_predictions(ws: Workspace, run_id: str) -> dict[int, np.ndarray]:
    key = _key(run_id, "validation.npz")
    if not ws.has_artifact(key):
        return {}
    with np.load(io.BytesIO(ws.get_bytes(key)), allow_pickle=False) as stored:
        return {int(k): stored[k] for k in stored.files}


def _version_of(ws: Workspace, receipt: Receipt) -> datasets.VersionInfo:
    label = receipt.dataset.get("label", "?")
    try:
        version = datasets.get_version_by_id(ws, int(receipt.dataset["version_id"]))
    except NotFoundError:
        raise NotFoundError(
            f"The dataset version {label} that AutoML run {receipt.run_id} searched was deleted; resuming or "
            "replaying needs the same rows.", hint="Start a new AutoML run on a dataset that exists.") from None
    if version.sha256 != receipt.dataset.get("sha256"):
        raise InvalidInputError(f"The dataset version {label} no longer matches the one AutoML run "
                                f"{receipt.run_id} searched (its sha256 differs).")
    return version


def run_on_version(
    ws: Workspace,
    version: datasets.VersionInfo,
    config: AutoMLConfig,
    *,
    run_id: str | None = None,
    model_name: str | None = None,
    callbacks: Progress | None = None,
    on_update: Update | None = None,
    job_id: str | None = None,
    started: float | None = None,
    previous: Receipt | None = None,
    fail: Callable[[Any], None] | None = None,
    available_memory: int | None = None,
) -> dict[str, Any]:
    """Search ``version`` for ``config.target`` within ``config.budget`` seconds and register the best model.

    Returns the summary the command line prints: ``run_id``, ``best`` (``model``, ``algorithm``,
    ``metrics`` on the test rows, ``validation_metrics``), ``leaderboard``, ``elapsed_seconds``,
    ``excluded`` leak suspects, ``recommendations`` and ``notes``.
    """
    started = time.perf_counter() if started is None else started
    cb = callbacks or Progress()
    run_id = run_id or (previous.run_id if previous else uuid.uuid4().hex[:12])
    config = replace(config, roles={**version.roles, **dict(config.roles)})
    cb.step(0.0, f"Reading {version.label}")
    frame = datasets.load_frame(ws, version)
    dataset = {"label": version.label, "version_id": version.id, "sha256": version.sha256, "n_rows": version.n_rows,
               "name": version.name}

    def on_trial(record: TrialRecord, records: list[TrialRecord], maximise: bool) -> None:
        partial = Receipt.from_dict({**(previous.to_dict() if previous else _empty(run_id, dataset, config)),
                                     "trials": [r.to_dict() for r in records]})
        save_receipt(ws, partial)  # a run killed now can still be resumed
        if on_update is not None:
            on_update({"run_id": run_id, "leaderboard": partial.leaderboard(),
                       "best_over_time": _best_over_time(records, maximise)})

    kept = _load_predictions(ws, run_id) if previous is not None else None
    result = run_automl(frame, config, run_id=run_id, dataset=dataset, callbacks=cb, on_trial=on_trial,
                        previous=previous, started=started, fail=fail, available_memory=available_memory,
                        predictions=kept, screen_key=("automl", version.id, version.sha256, len(frame)))
    name = model_name or registry.default_model_name(version.name, config.target)
    model = register_result(ws, name, _train_result(result, config, started), version, job_id)
    cb.log(f"registered {model.label} ({result.receipt.winner.algorithm})")
    save_receipt(ws, result.receipt)
    _save_predictions(ws, run_id, result.predictions)
    summary = _summary(result, model, time.perf_counter() - started)
    if on_update is not None:
        on_update(summary)
    return summary


def _empty(run_id: str, dataset: dict[str, Any], config: AutoMLConfig) -> dict[str, Any]:
    return {"run_id": run_id, "dataset": dataset, "target": config.target, "kind": "", "metric": config.metric or "",
            "maximise": True, "seed": config.seed, "split": {}, "features": [], "excluded": [],
            "settings": config.to_dict(), "library_versions": library_versions()}


def _best_over_time(records: list[TrialRecord], maximise: bool) -> list[dict[str, float]]:
    points, best = [], None
    for r in records:
        if r.status != "ok" or r.score is None:
            continue
        if best is None or (r.score > best if maximise else r.score < best):
            best = r.score
        points.append({"trial": r.number, "seconds": round(r.finished_at, 3), "best": best})
    return points


def _explanations(result: AutoMLResult, seed: int) -> tuple[dict[str, float], str, ShapSummary | None, list[str]]:
    """Importances and the SHAP summary of the winner, single model or ensemble, as a trained model has them.

    An ensemble's importances are its mean |SHAP| per input column, normalised: one permutation
    pass over the whole ensemble answers both questions.
    """
    prepared, pipeline = result.state.prepared, result.pipeline
    notes: list[str] = []
    importances: dict[str, float] = {}
    method, shap = "none", None
    try:
        shap, _ = quietly(lambda: shap_summary(pipeline, prepared.X_train, prepared.kind, max_rows=SHAP_ROWS,
                                               seed=seed))
    except Exception as exc:  # an explanation failing must not cost the user the model
        notes.append(f"The SHAP summary could not be computed: {type(exc).__name__}: {exc}")
    if result.receipt.winner.is_ensemble:
        total = sum(shap.mean_abs.values()) if shap is not None else 0.0
        if total > 0:
            importances, method = {k: v / total for k, v in shap.mean_abs.items()}, "shap"
        return importances, method, shap, notes
    X_eval = prepared.X_test if len(prepared.X_test) else prepared.X_train
    y_eval = prepared.y_test if len(prepared.X_test) else prepared.y_train
    try:
        (importances, method), _ = quietly(lambda: feature_importances(pipeline, X_eval, y_eval, prepared.kind,
                                                                       max_rows=1000, seed=seed))
    except Exception as exc:
        notes.append(f"Feature importances could not be computed: {type(exc).__name__}: {exc}")
    return importances, method, shap, notes


def _explain_seconds(result: AutoMLResult) -> float:
    """About how long :func:`_explanations` takes: an ensemble's is its permutation states' predictions.

    Two timed predictions (small and ten times bigger) part a call's fixed cost from its cost per
    row; a pass predicts its states in a few big batches.
    """
    if not result.receipt.winner.is_ensemble:
        return 0.0  # native, linear or tree SHAP on a few hundred rows: well under the reserve
    from core.ml.ensemble import BACKGROUND_ROWS, PERMUTATIONS, STATE_ROWS
    from core.ml.explain import SLOW_ROWS

    X = result.state.prepared.X_train
    per_state_row = (len(X.columns) + 1) * BACKGROUND_ROWS
    timed = []
    for batch in (200, 2_000):
        sample = X.iloc[np.random.default_rng(0).integers(0, len(X), batch)]
        started = time.perf_counter()
        quietly(lambda sample=sample: result.pipeline.predict(sample))
        timed.append(time.perf_counter() - started)
    per_row = max(timed[1] - timed[0], 0.0) / 1_800
    fixed = max(timed[0] - 200 * per_row, 0.0)
    rows = min(SLOW_ROWS, len(X))
    calls = 2 * PERMUTATIONS * math.ceil(rows / max(1, STATE_ROWS // per_state_row))
    return 1.2 * (calls * fixed + 2 * PERMUTATIONS * rows * per_state_row * per_row)


def _train_result(result: AutoMLResult, config: AutoMLConfig, run_started: float | None = None) -> TrainResult:
    state, receipt = result.state, result.receipt
    prepared, winner = state.prepared, receipt.winner
    pipeline = result.pipeline
    model_bytes = dump_model(pipeline)
    members = [{"algorithm": c.algorithm, "params": c.params, "imbalance": c.imbalance, "weight": w}
               for c, w in zip(winner.configs, winner.weights, strict=True)]
    label = "AutoML ensemble of " + " + ".join(c.algorithm for c in winner.configs) if winner.is_ensemble \
        else f"AutoML {winner.configs[0].algorithm}"
    notes = [*result.notes, *(f"Left out as a leak suspect: {e['reason']}" for e in receipt.excluded)]
    classes = [c for c in np.asarray(pipeline.classes_).tolist()] if prepared.kind in CLASSIFICATION_KINDS else None
    started = time.perf_counter()
    pipeline.predict(prepared.X_test.iloc[:1000] if len(prepared.X_test) else prepared.X_train.iloc[:1000])
    per_1000 = (time.perf_counter() - started) / max(min(len(prepared.X_test) or len(prepared.X_train), 1000), 1) * 1000
    importances: dict[str, float] = {}
    method, shap = "none", None
    left = math.inf if run_started is None else config.budget - (time.perf_counter() - run_started)
    if _explain_seconds(result) <= left:  # explained inside the budget only
        importances, method, shap, more = _explanations(result, config.seed)
        notes += more
    else:
        notes.append("Not explained on the card: the time budget was spent (per-row explanations are still "
                     "computed when asked for).")
    return TrainResult(
        winner.algorithm, label, prepared.kind, prepared.problem, pipeline=pipeline,
        params={"members": members} if winner.is_ensemble else dict(winner.configs[0].params),
        features=list(prepared.features), feature_types=dict(prepared.types), target=prepared.target,
        classes=classes, split=receipt.split, metrics=result.evaluation.metrics, curves=result.evaluation.curves,
        timings={"train_seconds": float(result.elapsed), "predict_seconds_per_1000": float(per_1000)},
        model_bytes=model_bytes, model_sha256=sha256_hex(model_bytes), model_size_bytes=len(model_bytes),
        notes=notes, warnings=list(prepared.warnings), library_versions=library_versions(),
        importances=importances, importance_method=method, shap=shap,
        config={"automl": {"run_id": receipt.run_id, "budget": config.budget, "metric": receipt.metric,
                           "seed": config.seed, "validation_metrics": winner.val_metrics}, "target": config.target},
        train_frame=prepared.X_train,
    )


def _summary(result: AutoMLResult, model: registry.ModelVersionInfo, elapsed: float) -> dict[str, Any]:
    receipt = result.receipt
    return {
        "run_id": receipt.run_id,
        "best": {"model": f"{model.name}:{model.version}", "algorithm": receipt.winner.algorithm,
                 "metrics": {k.lower(): v for k, v in result.evaluation.metrics.items()},
                 "validation_metrics": {k.lower(): v for k, v in receipt.winner.val_metrics.items()},
                 "members": [{"algorithm": c.algorithm, "weight": w} for c, w in zip(
                     receipt.winner.configs, receipt.winner.weights, strict=True)]},
        "metric": receipt.metric, "leaderboard": receipt.leaderboard(), "elapsed_seconds": round(elapsed, 3),
        "budget_seconds": receipt.sessions[-1]["budget"], "excluded": receipt.excluded,
        "recommendations": receipt.recommendations, "notes": result.notes, "cancelled": result.cancelled,
        "refitted": result.refitted, "best_over_time": _best_over_time(receipt.trials, receipt.maximise),
    }


def resume_run(ws: Workspace, run_id: str, budget: float, **kwargs: Any) -> dict[str, Any]:
    """Continue run ``run_id`` for ``budget`` more seconds: same data, same search, no trial repeated.

    Raises
    ------
    NotFoundError
        No such run, or its dataset version was deleted.
    """
    receipt = load_receipt(ws, run_id)
    version = _version_of(ws, receipt)
    config = replace(AutoMLConfig.from_dict(receipt.settings), budget=float(budget))
    return run_on_version(ws, version, config, previous=receipt, **kwargs)


def replay_run(ws: Workspace, run_id: str, callbacks: Progress | None = None) -> dict[str, Any]:
    """Refit run ``run_id``'s winner from its receipt and compare validation metrics to 1e-9."""
    receipt = load_receipt(ws, run_id)
    version = _version_of(ws, receipt)
    frame = datasets.load_frame(ws, version)
    outcome = replay(frame, receipt, callbacks)
    return {"run_id": run_id, "algorithm": receipt.winner.algorithm if receipt.winner else None, **outcome.to_dict()}


def submit_automl(ws: Workspace, version: datasets.VersionInfo, config: AutoMLConfig, *,
                  model_name: str | None = None, resume: str | None = None, title: str | None = None) -> str:
    """Run AutoML on ``version`` as a background job; returns the job id, which is also the run id.

    ``resume`` names a run to continue (its receipt's settings are kept, ``config.budget`` is the
    time added).  The budget counts from this call.
    """
    params: dict[str, Any] = {"dataset_version_id": version.id, "config": config.to_dict(),
                              "submitted_at": time.time()}
    if model_name:
        params["model_name"] = model_name
    if resume:
        load_receipt(ws, resume)  # an unknown run fails now, not in the job
        params["resume"] = resume
    access.require(ws, "train")
    job_id = jobs.submit(ws, AUTOML_JOB, params, title=title or f"AutoML on {version.label} for {config.budget:g} s")
    access.audit(ws, "train", f"AutoML on {version.label} (job {job_id})")
    return job_id


def automl_job(ctx, dataset_version_id: int, config: dict[str, Any], submitted_at: float | None = None,
               model_name: str | None = None, resume: str | None = None) -> dict[str, Any]:
    """Job body: the run id is the job id (or the resumed run's); the leaderboard is published as it grows."""
    waited = max(time.time() - submitted_at, 0.0) if submitted_at else 0.0
    started = time.perf_counter() - waited
    common = {"model_name": model_name, "callbacks": Progress.of_job(ctx), "job_id": ctx.job_id, "started": started,
              "on_update": lambda partial: ctx.publish(**partial)}
    checked = AutoMLConfig.from_dict(config)
    if resume:
        return resume_run(ctx.ws, resume, checked.budget, **common)
    version = datasets.get_version_by_id(ctx.ws, dataset_version_id)
    return run_on_version(ctx.ws, version, checked, run_id=ctx.job_id, **common)
