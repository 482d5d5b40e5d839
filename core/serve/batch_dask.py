"""Batch scoring by partition: Parquet pieces scored as tasks of an executor, output stored as parts.

With a cluster (``ATELIER_DASK_SCHEDULER``, through :func:`core.platform.compute.executor_for`)
a Parquet input, one file or a folder of parts, is cut into pieces of whole row groups (about
``chunk_rows`` rows each).  Each piece is one task: the worker reads it, validates and converts it
(``validate_and_coerce``), scores it on one thread (the scheduler already runs a task per worker
thread) and writes its output part beside the run's staging folder.  The model goes to the workers
once (scattered with the task settings).  The client merges the pieces' validation reports into
one, their class counts or running means into the run's summary, and the first ``DRIFT_ROWS``
converted rows into the drift test, so the run records what :func:`core.serve.batch.predict_file`
records for the same file.  Progress counts completed pieces.  A failed piece cancels the rest and
nothing is stored; only when every piece is in are the parts and their manifest stored and the
run recorded.  The staging folder (under ``ATELIER_HOME``) must be shared with the workers, as the
cluster's jobs already require.

Without a cluster, or for inputs other than Parquet, :func:`score_file` is ``predict_file``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from core.data.ingest import discard_staged
from core.data.sources.input_chunks import CHUNK_ROWS, InputFile, check_input_file
from core.platform import access, parts
from core.platform.compute import Executor, TaskFailed, executor_for, task_folder
from core.platform.errors import AtelierError, InvalidInputError
from core.platform.progress import ProgressFn
from core.platform.storage import keys
from core.platform.workspace import Workspace
from core.serve import prediction_runs
from core.serve.batch import _merged, _Tally, _trees, predict_file
from core.serve.compiled_trees import CHECK_ROWS, CompiledTrees
from core.serve.drift import DRIFT_ROWS, detect_drift
from core.serve.loaded import LoadedModel, load_model
from core.serve.outputs import output_table
from core.serve.row_ids import carried_columns
from core.serve.validation import ValidationReport, validate_and_coerce

__all__ = ["batch_predict_job", "parquet_inputs", "predict_partitioned", "score_file"]


def parquet_inputs(path: Path) -> list[Path] | None:
    """The Parquet files of ``path`` (a ``.parquet`` file, or a folder of them), or ``None`` for other inputs."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() == ".parquet" and p.is_file())
        if not files:
            raise InvalidInputError(f"The folder {path.name!r} holds no .parquet parts to score.")
        return files
    return [path] if path.suffix.lower() == ".parquet" else None


def score_file(ws: Workspace, model: LoadedModel, path: Path, *, executor: Executor | None = None,
               **options: Any) -> prediction_runs.PredictionRunInfo:
    """Score ``path`` by partition on a cluster executor, else in this process (``predict_file``)."""
    executor = executor or executor_for(ws.settings)
    files = parquet_inputs(path) if executor.distributed else None
    if files is None:
        return predict_file(ws, model, check_input_file(path), **options)
    return predict_partitioned(ws, model, files, executor=executor, **options)


@dataclass(frozen=True)
class _Piece:
    index: int
    path: str
    row_groups: list[int]
    rows: int
    drift_rows: int  # how many of its converted rows the drift test needs


@dataclass(frozen=True)
class _Shared:
    model: LoadedModel
    only: list[str] | None
    file_columns: list[Any]
    ids: list[str]
    keep_columns: bool
    contributions: bool
    out_dir: str
    trees: tuple[str, str] | None = None  # (library path, model checksum) of compiled trees built beforehand


@dataclass
class _Result:
    index: int
    report: ValidationReport
    rows: int
    tally: _Tally | None
    drift_head: pd.DataFrame | None
    out: str | None


def _footer(path: Path) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(path)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise InvalidInputError(f"The Parquet part {Path(path).name!r} cannot be read: {exc}",
                                hint="Nothing was scored. Replace or remove that part.") from exc


def _pieces(files: list[Path], chunk_rows: int) -> list[_Piece]:
    pieces: list[_Piece] = []
    before = 0
    for f in files:
        meta = _footer(f).metadata
        group: list[int] = []
        rows = 0
        for g in range(meta.num_row_groups):
            n = meta.row_group(g).num_rows
            if group and rows + n > chunk_rows:
                pieces.append(_Piece(len(pieces), str(f), group, rows, max(0, min(rows, DRIFT_ROWS - before))))
                before += rows
                group, rows = [], 0
            if n:
                group.append(g)
                rows += n
        if group:
            pieces.append(_Piece(len(pieces), str(f), group, rows, max(0, min(rows, DRIFT_ROWS - before))))
            before += rows
    return pieces


def _score_piece(piece: _Piece, shared: _Shared) -> _Result:
    """One task: read, validate, convert and score a piece, write its output part."""
    model = shared.model
    chunk = pq.ParquetFile(piece.path).read_row_groups(piece.row_groups, columns=shared.only) \
        .to_pandas(split_blocks=True)
    report, X = validate_and_coerce(model.reference, chunk, file_columns=shared.file_columns)
    if X is None or report.errors:
        return _Result(piece.index, report, 0, None, None, None)
    scorer = model.scorer
    scores = scorer.score(X, trees=_worker_trees(shared, scorer, X), threads=1)
    extra = chunk if shared.keep_columns else chunk[shared.ids] if shared.ids else None
    table = output_table(scorer, extra, X, scores, shared.contributions)
    out = str(Path(shared.out_dir) / f"part-{piece.index:05d}.parquet")
    pq.write_table(table, out, compression="zstd")
    tally = _Tally(model.kind)
    tally.add(scores.prediction)
    head = X.iloc[: piece.drift_rows].copy() if piece.drift_rows else None
    return _Result(piece.index, report, len(chunk), tally, head, out)


_TREES: dict[str, CompiledTrees | None] = {}  # per worker process: loaded once, checked once


def _worker_trees(shared: _Shared, scorer, X: pd.DataFrame) -> CompiledTrees | None:
    """The compiled trees the client built, loaded on one thread, if they give LightGBM's numbers here."""
    if shared.trees is None:
        return None
    path, key = shared.trees
    if path not in _TREES:
        try:
            trees: CompiledTrees | None = CompiledTrees(Path(path), key, threads=1)
        except Exception:  # not loadable on this worker (another machine, no tl2cgen): LightGBM scores
            trees = None
        if trees is not None and not trees.matches(scorer.model, scorer.model_input(X.iloc[:CHECK_ROWS])):
            trees = None
        _TREES[path] = trees
    return _TREES[path]


def _merged_tally(kind: str, tallies: list[_Tally]) -> _Tally:
    """The pieces' tallies folded in piece order (first appearance of a class, Chan's update of the mean)."""
    total = _Tally(kind)
    for t in tallies:
        if total.classes:
            for label, count in t.counts.items():
                total.counts[label] = total.counts.get(label, 0) + count
        elif t.n:
            delta, n = t.mean - total.mean, total.n + t.n
            total.mean += delta * t.n / n
            total.m2 += t.m2 + delta * delta * total.n * t.n / n
            total.n = n
    return total


def predict_partitioned(
    ws: Workspace,
    model: LoadedModel,
    files: list[Path],
    *,
    executor: Executor,
    contributions: bool = False,
    keep_columns: bool = False,
    progress: ProgressFn | None = None,
    check_cancelled: Callable[[], None] | None = None,
    source: str = "",
    job_id: str | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> prediction_runs.PredictionRunInfo:
    """Score Parquet ``files`` piece by piece on ``executor``; store the output as parts, record the run."""
    report_progress = progress or (lambda _f, _m: None)
    reference = model.reference
    contributions = contributions and model.kind != "clustering"
    first = _footer(files[0]).schema_arrow
    opened = InputFile.open(files[0])
    file_columns = opened.columns
    for f in files[1:]:
        if _footer(f).schema_arrow.names != first.names:
            raise InvalidInputError(f"The Parquet part {f.name!r} has other columns than {files[0].name!r}.",
                                    hint="Every part of one input must have the same columns.")
    ids, only = carried_columns(ws, model, opened, keep_columns)
    pieces = _pieces(files, chunk_rows)
    name = source or files[0].name
    if not pieces:
        raise InvalidInputError(f"{name} has no rows to score.")
    started = time.perf_counter()
    with task_folder(ws.settings.staging_dir) as tmp:  # removed even while cancelled tasks still write
        trees = _trees(ws, model, sum(p.rows for p in pieces))  # built here once when the batch pays for it
        shared = _Shared(model, only, file_columns, ids, keep_columns, contributions, tmp,
                         (str(trees.path), trees.key) if trees is not None else None)
        report_progress(0.02, f"Scoring {len(pieces)} partitions on the cluster")
        try:
            results: list[_Result] = executor.map(
                _score_piece, pieces, shared=shared, check=check_cancelled,
                on_done=lambda k, n: report_progress(min(0.95, 0.95 * k / n), f"Scored {k} of {n} partitions"))
        except TaskFailed as failed:
            piece = pieces[failed.index]
            if isinstance(failed.error, AtelierError):
                raise failed.error from failed
            raise InvalidInputError(
                f"Partition {piece.index + 1} of {len(pieces)} ({Path(piece.path).name}, row groups "
                f"{piece.row_groups[0]}–{piece.row_groups[-1]}) could not be scored: {failed.error}",
                hint="Nothing was stored. Check that part of the input, or score it without the cluster.",
            ) from failed.error
        validation = _merged([r.report for r in results])
        validation.raise_for_errors()
        rows = sum(r.rows for r in results)
        summary = _merged_tally(model.kind, [r.tally for r in results if r.tally is not None]) \
            .summary(rows, time.perf_counter() - started, validation)
        summary["partitions"] = len(pieces)
        heads = [r.drift_head for r in results if r.drift_head is not None and len(r.drift_head)]
        drift_share = None
        if heads:
            drift = detect_drift(reference, pd.concat(heads, ignore_index=True) if len(heads) > 1 else heads[0])
            drift_share, summary["drift"] = drift.share_drifted, drift.to_json()
        report_progress(0.97, "Storing the predictions")
        key = keys.in_project(access.project_id(ws), keys.prediction_output(model.version.name, model.version.version,
                                                                            int(time.time() * 1000)))
        key = key.replace(" ", "_").removesuffix(".parquet") + parts.MANIFEST_SUFFIX
        outputs = [r for r in results if r.out is not None]
        parts.put_parts(ws, key, [Path(r.out) for r in outputs], [r.rows for r in outputs], "predictions")
    return prediction_runs.record(
        ws, model.version, source=name, n_rows=rows, artifact_key=key, summary=summary,
        drift_share=drift_share, job_id=job_id,
    )


def batch_predict_job(ctx, model: str, path: str, contributions: bool = False, keep_columns: bool = False,
                      source: str = "", discard: bool = True) -> dict[str, Any]:
    """Job body (kind ``predict_batch``): score a staged file with ``model``, by partition on a cluster."""
    try:
        loaded = load_model(ctx.ws, model)
        ctx.log(f"Scoring {source or Path(path).name} with {loaded.version.label}")
        run = score_file(ctx.ws, loaded, Path(path), contributions=contributions, keep_columns=keep_columns,
                         progress=ctx.progress, check_cancelled=ctx.check_cancelled, source=source,
                         job_id=ctx.job_id)
    finally:
        if discard:
            discard_staged(Path(path), ctx.ws.settings)
    ctx.log(f"Scored {run.n_rows:,} rows" + (f" in {run.summary['partitions']} partitions"
                                             if "partitions" in run.summary else ""))
    return {"run_id": run.id, "artifact_key": run.artifact_key, "rows": run.n_rows}
