"""``python -m core predict`` and ``python -m core drift``: score a file, or check it for drift.

``predict --model REF --input FILE --output FILE [--with-inputs]`` writes one row per input
row, in input order, as CSV or Parquet by the output's extension, starting with the rows' id
columns (or every input column with ``--with-inputs``); it runs in
this process (no job) and draws progress on stderr only when that is a
terminal.  ``drift --model REF --input FILE [--json]`` compares the file with
the model's training data; ``--json`` prints ``DriftReport.to_json()``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from core.cli.common import open_workspace, print_json, print_table, progress_printer
from core.data.sources.input_chunks import check_input_file
from core.models import registry
from core.platform.errors import InvalidInputError
from core.serve.drift import drift_of_file

OUTPUT_SUFFIXES = (".csv", ".parquet")
_REF_HELP = "NAME (production, else latest), NAME@production, NAME@staging or NAME:VERSION"


def register(sub: argparse._SubParsersAction) -> None:
    pred = sub.add_parser("predict", help="score a file with a stored model")
    pred.add_argument("--model", required=True, metavar="REF", help=_REF_HELP)
    pred.add_argument("--input", required=True, type=Path, metavar="FILE",
                      help="CSV, TSV, Excel, Parquet, JSON or JSON Lines")
    pred.add_argument("--output", required=True, type=Path, metavar="FILE", help="a .csv or .parquet file to write")
    pred.add_argument("--contributions", action="store_true", help="add each row's top-3 feature contributions")
    pred.add_argument("--with-inputs", "--keep-columns", dest="keep_columns", action="store_true",
                      help="copy every input column into the output (without it, the output starts with the "
                      "rows' id columns, those with the id role in the training dataset)")
    pred.set_defaults(handler=_predict)

    drift = sub.add_parser("drift", help="compare a file with a model's training data")
    drift.add_argument("--model", required=True, metavar="REF", help=_REF_HELP)
    drift.add_argument("--input", required=True, type=Path, metavar="FILE",
                       help="CSV, TSV, Excel, Parquet, JSON or JSON Lines")
    drift.add_argument("--json", action="store_true", help="print the report as JSON")
    drift.set_defaults(handler=_drift)


def _check_output(path: Path) -> Path:
    if path.suffix.lower() not in OUTPUT_SUFFIXES:
        raise InvalidInputError(f"Cannot write predictions to {path.name!r}: the output must end in .csv or .parquet.",
                                hint="For example --output predictions.parquet.")
    if path.is_dir():
        raise InvalidInputError(f"The output {str(path)!r} is a folder; name a file inside it.")
    if not path.parent.exists():
        raise InvalidInputError(f"The folder {str(path.parent)!r} of the output does not exist.",
                                hint="Create it first, or write the output elsewhere.")
    return path


def _predict(args: argparse.Namespace) -> int:
    from core.serve.batch_dask import score_file
    from core.serve.loaded import load_model
    from core.serve.outputs import write_output

    source = check_input_file(args.input)
    target = _check_output(args.output)
    ws = open_workspace()
    model = load_model(ws, args.model)
    progress = progress_printer(f"{model.version.label}: ") if sys.stderr.isatty() else None
    # by partition on the cluster when ATELIER_DASK_SCHEDULER is set (a Parquet input), else in this process
    run = score_file(ws, model, source, contributions=args.contributions, keep_columns=args.keep_columns,
                     progress=progress, source=source.name)
    if progress is not None:
        progress(1.0, "Writing the output")
    write_output(ws, run, target)
    for warning in run.summary.get("warnings", []):
        print(f"warning: {warning}", file=sys.stderr)
    print(f"Scored {run.n_rows:,} rows of {source.name} with {model.version.label}; wrote {target}.")
    return 0


def _drift(args: argparse.Namespace) -> int:
    source = check_input_file(args.input)
    mv = registry.get_version(open_workspace(), args.model)
    reference = mv.card.reference
    if not reference:
        raise InvalidInputError(f"Model {mv.label} has no reference statistics, so drift cannot be measured.",
                                hint="Retrain it with this version of Atelier.")
    report = drift_of_file(reference, source)
    if args.json:
        print_json(report.to_json())
        return 0
    print(f"{report.verdict} ({report.share_drifted:.0%} of tested features drifted) in {report.n_rows:,} rows of "
          f"{source.name} against {mv.label}.")
    table = report.to_frame()[["feature", "test", "statistic", "p_value", "psi", "drifted"]]
    print_table(table.map(lambda v: f"{v:.4g}" if isinstance(v, float) and not pd.isna(v) else v))
    return 0


__all__ = ["register"]
