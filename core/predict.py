"""Predictions from a stored model: one row for the form, or a whole file as a job.

Every input is validated against the model's reference statistics first
(``core.validation``), then coerced to the training types, then scored.
Batches are read and scored in chunks and written as they go, so a million
rows never sit in memory twice; the output is a prediction run in the
artifact store and the registry.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core import registry
from core.errors import InvalidInputError
from core.monitoring import check_input_file
from core.registry import ModelVersionInfo
from core.validation import ValidationReport, coerce_batch, validate_batch
from core.workspace import Workspace

CHUNK_ROWS = 100_000
DRIFT_SAMPLE_ROWS = 200_000
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class LoadedModel:
    """A stored model version, verified and loaded, with what scoring needs."""

    version: ModelVersionInfo
    pipeline: Any

    @property
    def card(self) -> dict[str, Any]:
        return self.version.card

    @property
    def reference(self) -> dict[str, Any]:
        reference = self.card.get("reference")
        if not reference:
            raise InvalidInputError(
                f"Model {self.version.label} has no reference statistics, so its input cannot be validated.",
                hint="Retrain it with this version of Atelier.",
            )
        return reference

    @property
    def features(self) -> list[str]:
        return list(self.card.get("features", []))

    @property
    def kind(self) -> str:
        return self.version.problem_type

    @property
    def classes(self) -> list[Any]:
        return list(self.card.get("classes") or [])


_LOADED: dict[tuple[str, int, str], LoadedModel] = {}
_LOADED_MAX = 8


def load_model(ws: Workspace, ref: str | ModelVersionInfo) -> LoadedModel:
    """Load the version named by ``ref``; kept per process, keyed by its checksum."""
    version = registry.get_version(ws, ref) if isinstance(ref, str) else ref
    if version.artifact_key is None or version.sha256 is None:
        raise InvalidInputError(f"Model {version.label} has no stored file.")
    key = (ws.settings.database_url, version.id, version.sha256)
    if key not in _LOADED:
        if len(_LOADED) >= _LOADED_MAX:
            _LOADED.pop(next(iter(_LOADED)))
        _LOADED[key] = LoadedModel(version, registry.load_pipeline(ws, version))
    else:  # the stage may have changed since it was loaded
        _LOADED[key] = LoadedModel(version, _LOADED[key].pipeline)
    return _LOADED[key]


# -- scoring -----------------------------------------------------------------------------------
def score_frame(model: LoadedModel, X: pd.DataFrame, *, contributions: bool = False) -> pd.DataFrame:
    """Predictions (and class probabilities) for rows already coerced to the training types."""
    pipeline = model.pipeline
    out = pd.DataFrame(index=X.index)
    out["prediction"] = pipeline.predict(X)
    if model.kind in ("binary", "multiclass") and hasattr(pipeline, "predict_proba"):
        proba = pipeline.predict_proba(X)
        for i, label in enumerate(pipeline.classes_):
            out[f"probability_{label}"] = proba[:, i]
    if contributions and model.kind != "clustering":
        from core.ml.explain import explain_rows, top_contributions

        out = out.join(top_contributions(explain_rows(pipeline, X), 3))
    return out


@dataclass(frozen=True)
class RowPrediction:
    prediction: Any
    probabilities: dict[str, float]
    contributions: pd.Series | None  # per input feature, largest first
    base_value: float | None
    explained_class: Any
    report: ValidationReport


def predict_one(model: LoadedModel, values: dict[str, Any], *, explain: bool = True) -> RowPrediction:
    """Score one row given as ``{feature: value}`` (the Predict page's form)."""
    frame = pd.DataFrame([{f: values.get(f) for f in model.features}])
    report = validate_batch(model.reference, frame)
    report.raise_for_errors()
    X = coerce_batch(model.reference, frame, report)
    scored = score_frame(model, X)
    probabilities = {c.removeprefix("probability_"): float(scored[c].iloc[0])
                     for c in scored.columns if c.startswith("probability_")}
    contributions = base = explained = None
    if explain and model.kind != "clustering":
        from core.ml.explain import BASE_COLUMN, CLASS_COLUMN, explain_rows

        explained_rows = explain_rows(model.pipeline, X)
        row = explained_rows.iloc[0]
        base = float(row[BASE_COLUMN])
        explained = row.get(CLASS_COLUMN)
        values_only = row.drop([c for c in (BASE_COLUMN, CLASS_COLUMN) if c in row.index]).astype(float)
        contributions = values_only.reindex(values_only.abs().sort_values(ascending=False).index)
    return RowPrediction(_plain(scored["prediction"].iloc[0]), probabilities, contributions, base, explained, report)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


# -- batches -----------------------------------------------------------------------------------
def iter_input(path: Path, chunk_rows: int = CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """The input file in chunks: Parquet is streamed; other formats are read once, then sliced."""
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        reader = pq.ParquetFile(path)
        for batch in reader.iter_batches(batch_size=chunk_rows):
            yield batch.to_pandas()
        return
    from core.sources.files import read_table

    table = read_table(path).table
    for start in range(0, table.num_rows, chunk_rows):
        yield table.slice(start, chunk_rows).to_pandas()


def count_rows(path: Path) -> int | None:
    if Path(path).suffix.lower() == ".parquet":
        return pq.ParquetFile(path).metadata.num_rows
    return None


def validate_file(model: LoadedModel, path: Path, chunk_rows: int = CHUNK_ROWS) -> ValidationReport:
    """Validate a whole file against the model's schema, chunk by chunk."""
    check_input_file(path)
    reports = [validate_batch(model.reference, chunk) for chunk in iter_input(path, chunk_rows) if len(chunk)]
    if not reports:
        raise InvalidInputError(f"{Path(path).name} has no rows to score.")
    return reports[0].merge(*reports[1:]) if len(reports) > 1 else reports[0]


def predict_file(
    ws: Workspace,
    model: LoadedModel,
    path: Path,
    *,
    contributions: bool = False,
    keep_columns: bool = False,
    progress: Progress | None = None,
    check_cancelled: Callable[[], None] | None = None,
    source: str = "",
    job_id: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> registry.PredictionRunInfo:
    """Score a file in chunks, store the output Parquet and record a prediction run."""
    report_progress = progress or (lambda _f, _m: None)
    check = check_cancelled or (lambda: None)
    total = count_rows(path)
    reference = model.reference
    validation = validate_file(model, path, chunk_rows)
    validation.raise_for_errors()
    started = time.perf_counter()
    rows = 0
    drift_sample: list[pd.DataFrame] = []
    sampled = 0
    ws.settings.staging_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ws.settings.staging_dir) as tmp:
        out_path = Path(tmp) / "predictions.parquet"
        writer: pq.ParquetWriter | None = None
        try:
            for chunk in iter_input(path, chunk_rows):
                check()
                X = coerce_batch(reference, chunk, validation)
                scored = score_frame(model, X, contributions=contributions)
                if keep_columns:
                    scored = pd.concat([chunk.reset_index(drop=True), scored.reset_index(drop=True)], axis=1)
                table = pa.Table.from_pandas(scored.reset_index(drop=True), preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(out_path, table.schema, compression="zstd")
                writer.write_table(table.cast(writer.schema))
                rows += len(chunk)
                if sampled < DRIFT_SAMPLE_ROWS:
                    drift_sample.append(X.iloc[: DRIFT_SAMPLE_ROWS - sampled])
                    sampled += len(drift_sample[-1])
                fraction = rows / total if total else 0.5
                report_progress(min(0.95, fraction), f"Scored {rows:,} rows")
        finally:
            if writer is not None:
                writer.close()
        if rows == 0:
            raise InvalidInputError(f"{Path(path).name} has no rows to score.")
        summary = _summary(model, out_path, rows, time.perf_counter() - started, validation)
        drift_share = None
        if drift_sample:
            from core.drift import detect_drift

            drift = detect_drift(reference, pd.concat(drift_sample, ignore_index=True))
            drift_share, summary["drift"] = drift.share_drifted, drift.to_json()
        report_progress(0.97, "Storing the predictions")
        key = f"predictions/{model.version.name}/v{model.version.version}/{int(time.time() * 1000)}.parquet"
        key = key.replace(" ", "_")
        ws.put_file(key, out_path, kind="predictions")
    return registry.record_prediction_run(
        ws, model.version, source=source or Path(path).name, n_rows=rows, artifact_key=key, summary=summary,
        drift_share=drift_share, job_id=job_id,
    )


def _summary(model: LoadedModel, out_path: Path, rows: int, seconds: float, validation: ValidationReport) -> dict:
    predictions = pq.read_table(out_path, columns=["prediction"]).column(0).to_pandas()
    summary: dict[str, Any] = {"rows": rows, "seconds": round(seconds, 3),
                               "warnings": [i.message for i in validation.warnings]}
    if model.kind in ("binary", "multiclass", "clustering"):
        shares = predictions.astype(str).value_counts(normalize=True).head(20)
        summary["class_mix"] = {str(k): float(v) for k, v in shares.items()}
    else:
        summary["mean"] = float(predictions.mean())
        summary["std"] = float(predictions.std()) if rows > 1 else 0.0
    return summary


def batch_predict_job(ctx, model: str, path: str, contributions: bool = False, keep_columns: bool = False,
                      source: str = "", discard: bool = True) -> dict[str, Any]:
    """Job body: score a staged file with ``model`` (a registry reference)."""
    from core.imports import discard_staged

    try:
        loaded = load_model(ctx.ws, model)
        ctx.log(f"Scoring {source or Path(path).name} with {loaded.version.label}")
        run = predict_file(ctx.ws, loaded, Path(path), contributions=contributions, keep_columns=keep_columns,
                           progress=ctx.progress, check_cancelled=ctx.check_cancelled, source=source,
                           job_id=ctx.job_id)
    finally:
        if discard:
            discard_staged(Path(path), ctx.ws.settings)
    ctx.log(f"Scored {run.n_rows:,} rows")
    return {"run_id": run.id, "artifact_key": run.artifact_key, "rows": run.n_rows}


def write_output(ws: Workspace, run: registry.PredictionRunInfo, target: Path) -> Path:
    """Copy a prediction run's output to ``target`` as Parquet or CSV (by extension)."""
    source = ws.local_path(run.artifact_key)
    target = Path(target)
    if target.suffix.lower() == ".parquet":
        pq.write_table(pq.read_table(source), target)
    elif target.suffix.lower() in (".csv", ".txt"):
        import pyarrow.csv as pcsv

        with pcsv.CSVWriter(target, pq.read_schema(source)) as writer:
            for batch in pq.ParquetFile(source).iter_batches(batch_size=CHUNK_ROWS):
                writer.write_batch(batch)
    else:
        raise InvalidInputError(f"Cannot write predictions as {target.suffix!r}: use .csv or .parquet.")
    return target
