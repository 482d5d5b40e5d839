"""``python -m core train --dataset NAME[@VERSION] --target COL [--algorithms a,b] [--tune-trials N] [--json]``."""

from __future__ import annotations

import argparse
import sys

from core.cli.common import open_workspace, print_json, progress_printer
from core.data import datasets
from core.data.target import ProblemKind, detect_problem
from core.ml.config import PROBLEM_KINDS, SplitConfig, TrainConfig, TuningConfig
from core.models.training import train_version
from core.platform.errors import InvalidInputError
from core.platform.progress import Progress

DEFAULTS = {ProblemKind.BINARY: ["logistic_regression", "random_forest", "lightgbm"],
            ProblemKind.MULTICLASS: ["logistic_regression", "random_forest", "lightgbm"],
            ProblemKind.REGRESSION: ["ridge", "random_forest", "lightgbm"], ProblemKind.CLUSTERING: ["kmeans"]}


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser("train", help="train models on a dataset version and register them")
    cmd.add_argument("--dataset", required=True, metavar="NAME[@VERSION]")
    cmd.add_argument("--target", help="target column (default: the dataset's target role; none: clustering)")
    cmd.add_argument("--algorithms", help="comma-separated catalogue keys, e.g. lightgbm,random_forest")
    cmd.add_argument("--problem", choices=PROBLEM_KINDS,
                     help="override the detected problem type")
    cmd.add_argument("--tune-trials", type=int, default=0, help="Optuna trials per algorithm (0: no tuning)")
    cmd.add_argument("--cv", type=int, default=0, help="cross-validation folds (0: none)")
    cmd.add_argument("--seed", type=int, default=0)
    cmd.add_argument("--name", help="model name (default: dataset · target)")
    cmd.add_argument("--json", action="store_true", help="print one JSON object per model")
    cmd.set_defaults(handler=_train)


def _train(args: argparse.Namespace) -> int:
    ws = open_workspace()
    version = datasets.get_version(ws, args.dataset)
    target = args.target or version.target
    if target is not None and target not in version.columns:
        raise InvalidInputError(f"The target column {target!r} is not in {version.label}; "
                                f"its columns are {', '.join(version.columns)}.")
    tuning = TuningConfig(n_trials=args.tune_trials) if args.tune_trials else None
    config = TrainConfig(target=target, problem_kind=args.problem, tuning=tuning, seed=args.seed,
                         split=SplitConfig(cv_folds=args.cv, seed=args.seed))
    algorithms = [a.strip() for a in args.algorithms.split(",") if a.strip()] if args.algorithms else None
    if algorithms is None:
        kind = args.problem or detect_problem(None if target is None else datasets.load_frame(
            ws, version, [target])[target]).kind
        algorithms = DEFAULTS[kind]
    progress = progress_printer() if sys.stderr.isatty() and not args.json else None
    rows = train_version(ws, version, config, algorithms, model_name=args.name,
                         callbacks=Progress.of(progress, None if args.json else print))
    if args.json:
        print_json([{"algorithm": r["algorithm"], "model": r["model"], "status": r["status"], "error": r["error"],
                     "metrics": {k: v for k, v in r["metrics"].items() if not isinstance(v, dict)},
                     "train_seconds": r["train_seconds"]} for r in rows])
    else:
        for r in rows:
            shown = ", ".join(f"{k} {v:.4f}" for k, v in r["metrics"].items() if isinstance(v, float))
            print(f"{r['label']}: {r['model'] or 'failed: ' + (r['error'] or '')}  {shown}")
    return 0 if any(r["status"] == "ok" for r in rows) else 1
