"""``python -m core train --dataset NAME[@VERSION] --target COL [--features a,b | --exclude c,d] [--algorithms a,b]
[--tune-trials N] [--json]``.

Without ``--features`` the features are the Train page's default (:func:`core.ml.problem.select_features`:
every column but the target and those whose role is id, datetime or ignore), and the run prints the
page's warnings (:func:`core.ml.problem.feature_warnings`, the shared leakage screen included) to
stderr, with ``--json`` too.  Suspects are warned about, not dropped: as on the page, the screen is a
heuristic and the choice stays the user's (``--exclude boat,body``).
"""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from core.cli.common import open_workspace, print_json, progress_printer
from core.data import datasets
from core.data.target import ProblemKind, detect_problem
from core.ml.config import PROBLEM_KINDS, SplitConfig, TrainConfig, TuningConfig
from core.ml.problem import select_features
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
    cmd.add_argument("--features", help="comma-separated feature columns (default: the Train page's choice)")
    cmd.add_argument("--exclude", help="comma-separated columns to leave out of the default features")
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
    features = _features(version, target, args.features, args.exclude)
    advice = "" if args.features or args.exclude else " (leave some out with --exclude, or choose them with --features)"
    print(f"Features ({len(features)}): {', '.join(features)}{advice}", file=sys.stderr)
    tuning = TuningConfig(n_trials=args.tune_trials) if args.tune_trials else None
    config = TrainConfig(target=target, features=features, problem_kind=args.problem, tuning=tuning,
                         seed=args.seed, split=SplitConfig(cv_folds=args.cv, seed=args.seed))
    algorithms = [a.strip() for a in args.algorithms.split(",") if a.strip()] if args.algorithms else None
    if algorithms is None:
        kind = args.problem or detect_problem(None if target is None else datasets.load_frame(
            ws, version, [target])[target]).kind
        algorithms = DEFAULTS[kind]
    progress = progress_printer() if sys.stderr.isatty() and not args.json else None
    rows = train_version(ws, version, config, algorithms, model_name=args.name,
                         callbacks=Progress.of(progress, _log_printer(args.json)))
    if args.json:
        print_json([{"algorithm": r["algorithm"], "model": r["model"], "status": r["status"], "error": r["error"],
                     "metrics": {k: v for k, v in r["metrics"].items() if not isinstance(v, dict)},
                     "train_seconds": r["train_seconds"]} for r in rows])
    else:
        for r in rows:
            shown = ", ".join(f"{k} {v:.4f}" for k, v in r["metrics"].items() if isinstance(v, float))
            print(f"{r['label']}: {r['model'] or 'failed: ' + (r['error'] or '')}  {shown}")
    return 0 if any(r["status"] == "ok" for r in rows) else 1


def _names(text: str | None) -> list[str]:
    return [n.strip() for n in (text or "").split(",") if n.strip()]


def _features(version: datasets.VersionInfo, target: str | None, features: str | None,
              exclude: str | None) -> list[str]:
    """The run's features: ``--features``, or the Train page's default less ``--exclude``."""
    if features and exclude:
        raise InvalidInputError("Give either --features or --exclude, not both: --features already names every "
                                "column the model uses.")
    columns = pd.DataFrame(columns=version.columns)  # select_features needs the names only
    chosen = select_features(columns, target, _names(features) or None, version.roles)
    left_out = _names(exclude)
    unknown = [c for c in left_out if c not in version.columns]
    if unknown:
        raise InvalidInputError(f"--exclude names {unknown[0]!r}, which is not a column of {version.label}; "
                                f"its columns are {', '.join(version.columns)}.")
    kept = [c for c in chosen if c not in left_out]
    if not kept:
        raise InvalidInputError(f"--exclude leaves no feature: the default features were {', '.join(chosen)}.",
                                hint="Exclude fewer columns, or name the features with --features.")
    return kept


def _log_printer(json_output: bool):
    """Log lines to stdout (not with --json); the page's feature warnings always to stderr."""
    def log(line: str) -> None:
        if line.startswith("warning: "):
            print(line, file=sys.stderr)
        elif not json_output:
            print(line)
    return log
