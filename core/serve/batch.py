"""Batch scoring: a whole file, validated, scored and written chunk by chunk in one pass.

Every input is validated against the model's reference statistics (``core.serve.validation``),
converted to the training types, then scored by the model's ``Scorer`` (``core.serve.scoring``),
which builds the model's input once and asks the estimator once.  Parquet is streamed (only the
model's columns are read), so a million rows never sit in memory at once; the run's summary and
drift are gathered on the way, and the output is a prediction run in the artifact store and the
registry.  The next chunk is read, and the last one written, on threads beside the scoring (both
are pyarrow work that leaves the GIL), so a core is not idle while the other converts or scores.
Large LightGBM batches score through the model's compiled trees (``core.serve.compiled_trees``)
when the machine can build them.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from core.data.sources.input_chunks import CHUNK_ROWS, InputFile, check_input_file
from core.data.target import ProblemKind
from core.models import registry
from core.models.registry import ModelVersionInfo
from core.platform import access, jobs
from core.platform.cores import free_cores
from core.platform.errors import InvalidInputError
from core.platform.progress import ProgressFn
from core.platform.storage import keys
from core.platform.workspace import Workspace
from core.serve import prediction_runs
from core.serve.compiled_trees import CHECK_ROWS, CompiledTrees, compiled_trees
from core.serve.drift import DRIFT_ROWS, detect_drift
from core.serve.loaded import LoadedModel
from core.serve.outputs import output_table
from core.serve.row_ids import carried_columns
from core.serve.validation import ValidationReport, validate_and_coerce

__all__ = ["BATCH_JOB", "predict_file", "run_of_job", "submit_batch", "validate_file"]



def validate_file(model: LoadedModel, path: Path, chunk_rows: int = CHUNK_ROWS) -> ValidationReport:
    """Validate a whole file against the model's schema, chunk by chunk."""
    source = InputFile.open(check_input_file(path))
    only = source.columns_to_read(model.features)
    reports = [validate_and_coerce(model.reference, chunk, file_columns=source.columns)[0]
               for chunk in source.chunks(chunk_rows, only) if len(chunk)]
    if not reports:
        raise InvalidInputError(f"{Path(path).name} has no rows to score.")
    return _merged(reports)


def _merged(reports: list[ValidationReport]) -> ValidationReport:
    return reports[0].merge(*reports[1:]) if len(reports) > 1 else reports[0]


def _certainly_blocked(report: ValidationReport, total_rows: int) -> bool:
    """Whether the issues found so far block the whole file, whatever its other rows hold."""
    for issue in report.errors:
        if issue.kind != "type_not_coercible":  # a missing or repeated column: in every chunk
            return True
        if issue.count > report.max_unparseable * total_rows:  # too many unreadable values even if no more come
            return True
    return False


def predict_file(
    ws: Workspace,
    model: LoadedModel,
    path: Path,
    *,
    contributions: bool = False,
    keep_columns: bool = False,
    progress: ProgressFn | None = None,
    check_cancelled: Callable[[], None] | None = None,
    source: str = "",
    job_id: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> prediction_runs.PredictionRunInfo:
    """Score a file in chunks, store the output Parquet and record a prediction run.

    One pass: each chunk is validated, converted, scored and written before
    the next is read.  A chunk that shows the file cannot be scored (a
    missing column, too many unreadable values) stops the scoring; the rest
    is only validated, so that the error lists the same problems, with the
    same counts, as ``validate_file``.  Nothing is stored or recorded then.

    The output starts with the rows' id columns (the training dataset's ``id``
    role, when the file has them), or with every input column when
    ``keep_columns``, so that it joins back to the rows it scored.
    """
    report_progress = progress or (lambda _f, _m: None)
    check = check_cancelled or (lambda: None)
    reference = model.reference
    scorer = model.scorer
    contributions = contributions and model.kind != "clustering"
    data = InputFile.open(check_input_file(path))
    ids, only = carried_columns(ws, model, data, keep_columns)
    trees = _trees(ws, model, data.rows)
    threads = free_cores()  # LightGBM's own predictor: the cores free now, not all of them (core.platform.cores)
    started = time.perf_counter()
    reports: list[ValidationReport] = []
    tally = _Tally(model.kind)
    drift = _DriftSample(reference)
    rows = 0
    ws.settings.staging_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ws.settings.staging_dir) as tmp:
        out_path = Path(tmp) / "predictions.parquet"
        writer: pq.ParquetWriter | None = None
        chunks = _read_ahead(chunk for chunk in data.chunks(chunk_rows, only) if len(chunk))
        writing: Future | None = None  # the previous chunk's write: at most one in flight, so the output stays in order
        try:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="write-behind") as behind:
                for chunk in chunks:
                    check()
                    report, X = validate_and_coerce(reference, chunk, file_columns=data.columns)
                    reports.append(report)
                    if X is None or _certainly_blocked(_merged(reports), data.rows):
                        break
                    if trees is not None and rows == 0 and \
                            not trees.matches(scorer.model, scorer.model_input(X.iloc[:CHECK_ROWS])):
                        trees = None
                    scores = scorer.score(X, trees=trees, threads=threads)
                    table = output_table(scorer, chunk if keep_columns else chunk[ids] if ids else None, X,
                                         scores, contributions)
                    if writer is None:
                        writer = pq.ParquetWriter(out_path, table.schema, compression="zstd")
                    if writing is not None:
                        writing.result()  # raises what the write raised
                    writing = behind.submit(_write, writer, table, tally, scores.prediction, drift, X)
                    rows += len(chunk)
                    del chunk, X, scores, table  # three chunks in memory at most: being read, scored, written
                    report_progress(min(0.95, rows / data.rows if data.rows else 0.5), f"Scored {rows:,} rows")
                if writing is not None:
                    writing.result()
            for chunk in chunks:  # only when the loop stopped early: the rest is checked, not scored
                check()
                reports.append(validate_and_coerce(reference, chunk, file_columns=data.columns)[0])
        finally:
            chunks.close()
            if writer is not None:
                writer.close()
        if not reports:
            raise InvalidInputError(f"{Path(path).name} has no rows to score.")
        validation = _merged(reports)
        validation.raise_for_errors()
        summary = tally.summary(rows, time.perf_counter() - started, validation)
        drift_share = None
        report = drift.report()
        if report is not None:
            drift_share, summary["drift"] = report.share_drifted, report.to_json()
        report_progress(0.97, "Storing the predictions")
        key = keys.in_project(access.project_id(ws), keys.prediction_output(model.version.name, model.version.version,
                                                                            int(time.time() * 1000)))
        key = key.replace(" ", "_")
        ws.put_file(key, out_path, kind="predictions")
    return prediction_runs.record(
        ws, model.version, source=source or Path(path).name, n_rows=rows, artifact_key=key, summary=summary,
        drift_share=drift_share, job_id=job_id,
    )


_END = object()


def _read_ahead(chunks: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """``chunks``, each next one read on a thread while the caller works on the one it was given."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="read-ahead") as ahead:
        pending = ahead.submit(next, chunks, _END)
        while (chunk := pending.result()) is not _END:
            pending = ahead.submit(next, chunks, _END)
            yield chunk


def _write(writer: pq.ParquetWriter, table: Any, tally: _Tally, prediction: np.ndarray, drift: _DriftSample,
           X: pd.DataFrame) -> None:
    """One chunk's output written, and its predictions and rows added to the run's summary and drift sample."""
    writer.write_table(table.cast(writer.schema))
    tally.add(prediction)
    drift.add(X)


def _trees(ws: Workspace, model: LoadedModel, rows: int) -> CompiledTrees | None:
    """The model's compiled trees for a batch of ``rows`` rows, or ``None`` (LightGBM scores it)."""
    if not model.scorer.lightgbm or model.kind == ProblemKind.CLUSTERING:
        return None
    return compiled_trees(ws.settings.home / "cache" / "trees", model.version.sha256 or "", model.scorer.model,
                          rows=rows)


class _Tally:
    """The run's summary, gathered chunk by chunk: the class mix, or the mean and spread of the predictions."""

    def __init__(self, kind: str) -> None:
        self.classes = kind != ProblemKind.REGRESSION
        self.counts: dict[str, int] = {}  # by the label's text, in order of first appearance
        self.n, self.mean, self.m2 = 0, 0.0, 0.0

    def add(self, prediction: np.ndarray) -> None:
        if self.classes:
            for label, count in pd.Series(prediction).value_counts(sort=False, dropna=False).items():
                self.counts[str(label)] = self.counts.get(str(label), 0) + int(count)
            return
        values = np.asarray(prediction, dtype=np.float64)
        values = values[~np.isnan(values)]
        if not len(values):
            return
        # Chan et al.'s update: the chunk's mean and squared deviations folded into the running ones.
        n, mean = len(values), float(values.mean())
        m2 = float(((values - mean) ** 2).sum())
        delta, total = mean - self.mean, self.n + n
        self.mean += delta * n / total
        self.m2 += m2 + delta * delta * self.n * n / total
        self.n = total

    def summary(self, rows: int, seconds: float, validation: ValidationReport) -> dict[str, Any]:
        summary: dict[str, Any] = {"rows": rows, "seconds": round(seconds, 3),
                                   "warnings": [i.message for i in validation.warnings]}
        if self.classes:
            # as value_counts(normalize=True): counts sorted (ties in order of appearance), then shares
            shares = pd.Series(self.counts, dtype=np.int64).sort_values(ascending=False).head(20) / rows
            summary["class_mix"] = {str(k): float(v) for k, v in shares.items()}
        else:
            # as pandas' mean() and std() of the output column: missing predictions left out
            summary["mean"] = self.mean if self.n else float("nan")
            spread = float(np.sqrt(self.m2 / (self.n - 1))) if self.n > 1 else float("nan")
            summary["std"] = spread if rows > 1 else 0.0
        return summary


class _DriftSample:
    """The first ``DRIFT_ROWS`` converted rows, tested for drift as soon as they are in."""

    def __init__(self, reference: dict) -> None:
        self.reference = reference
        self.parts: list[pd.DataFrame] = []
        self.taken = 0
        self.result: Any = None

    def add(self, X: pd.DataFrame) -> None:
        if self.result is not None or self.taken >= DRIFT_ROWS:
            return
        part = X.iloc[: DRIFT_ROWS - self.taken]
        self.parts.append(part if self.taken + len(X) >= DRIFT_ROWS else part.copy())
        self.taken += len(part)
        if self.taken >= DRIFT_ROWS:
            self._test()

    def _test(self) -> None:
        frame = pd.concat(self.parts, ignore_index=True) if len(self.parts) > 1 else self.parts[0]
        self.result, self.parts = detect_drift(self.reference, frame), []

    def report(self) -> Any:
        if self.result is None and self.parts:
            self._test()
        return self.result


BATCH_JOB = "predict_batch"


def submit_batch(ws: Workspace, version: ModelVersionInfo, path: Path, *, contributions: bool = False,
                 keep_columns: bool = False, source: str = "", discard: bool = False) -> str:
    """Score the file at ``path`` with ``version`` as a background job; returns the job id.

    ``discard``: the file is a staged upload, removed when the job ends.
    """
    params = {"model": version.label, "path": str(path), "contributions": contributions,
              "keep_columns": keep_columns, "source": source or Path(path).name, "discard": discard}
    return jobs.submit(ws, BATCH_JOB, params, title=f"Score {source or Path(path).name} with {version.label}")


def run_of_job(ws: Workspace, job: jobs.JobInfo) -> prediction_runs.PredictionRunInfo | None:
    """The prediction run a finished batch job recorded, or ``None`` when it is no longer stored."""
    name = registry.parse_ref(job.params["model"])[0]
    run_id = job.result.get("run_id")
    return next((r for r in prediction_runs.list_runs(ws, name) if r.id == run_id), None)
