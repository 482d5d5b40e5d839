"""What scoring hands back: prediction columns for scored rows, and a run's stored output as a file.

The output of a row is its ``prediction``, one ``probability_<class>`` column per class for
classifiers and, when asked, its top contributions; a batch writes its input columns first when
the user keeps them.  A stored run is copied out as Parquet or CSV.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from core.data.sources.input_chunks import CHUNK_ROWS
from core.ml.explain import top_contributions
from core.platform import parts
from core.platform.errors import InvalidInputError
from core.platform.workspace import Workspace
from core.serve.loaded import LoadedModel
from core.serve.prediction_runs import PredictionRunInfo
from core.serve.scoring import Scorer, Scores

__all__ = ["output_bytes", "output_table", "prediction_columns", "score_frame", "write_output"]


def score_frame(model: LoadedModel, X: pd.DataFrame, *, contributions: bool = False) -> pd.DataFrame:
    """Predictions (and class probabilities) for rows already coerced to the training types."""
    scorer = model.scorer
    scores = scorer.score(X)
    return prediction_columns(scorer, X, scores, contributions and model.kind != "clustering")


def prediction_columns(scorer: Scorer, X: pd.DataFrame, scores: Scores, contributions: bool) -> pd.DataFrame:
    columns = {"prediction": scores.prediction}
    if scores.proba is not None:
        columns.update({f"probability_{label}": scores.proba[:, i] for i, label in enumerate(scorer.classes)})
    out = pd.DataFrame(columns, index=X.index)
    if contributions:
        out = out.join(top_contributions(scorer.contributions(X, scores), 3))
    return out


def output_table(scorer: Scorer, chunk: pd.DataFrame | None, X: pd.DataFrame, scores: Scores,
           contributions: bool) -> pa.Table:
    """A chunk's output rows: ``chunk``'s own columns when given, then the predictions."""
    scored = prediction_columns(scorer, X, scores, contributions)
    if chunk is not None:
        scored = pd.concat([chunk.reset_index(drop=True), scored.reset_index(drop=True)], axis=1)
    return pa.Table.from_pandas(scored.reset_index(drop=True), preserve_index=False)


def write_output(ws: Workspace, run: PredictionRunInfo, target: Path) -> Path:
    """Copy a prediction run's output to ``target`` as Parquet or CSV (by extension)."""
    sources = parts.local_files(ws, run.artifact_key)  # one file, or the parts of a run scored by partition
    target = Path(target)
    if target.suffix.lower() == ".parquet":
        pq.write_table(pq.read_table(sources if len(sources) > 1 else sources[0]), target)
    elif target.suffix.lower() in (".csv", ".txt"):
        import pyarrow.csv as pcsv

        with pcsv.CSVWriter(target, pq.read_schema(sources[0])) as writer:
            for source in sources:
                for batch in pq.ParquetFile(source).iter_batches(batch_size=CHUNK_ROWS):
                    writer.write_batch(batch)
    else:
        raise InvalidInputError(f"Cannot write predictions as {target.suffix!r}: use .csv or .parquet.")
    return target


def output_bytes(ws: Workspace, run: PredictionRunInfo, fmt: str) -> bytes:
    """A prediction run's output as ``"csv"`` or ``"parquet"`` bytes (for a download button)."""
    fmt = str(fmt).lower().lstrip(".")
    if fmt not in ("csv", "parquet"):
        raise InvalidInputError(f"Predictions can be downloaded as csv or parquet; got {fmt!r}.")
    if not run.artifact_key:
        raise InvalidInputError(f"Prediction run {run.id} has no stored output.")
    ws.settings.staging_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ws.settings.staging_dir) as tmp:
        return write_output(ws, run, Path(tmp) / f"predictions.{fmt}").read_bytes()
