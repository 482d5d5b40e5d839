"""``python -m core train --dataset NAME[@VERSION] --target COL [--features a,b | --exclude c,d] [--algorithms a,b]
[--tune-trials N] [--json]``.

Without ``--features`` the features are the Train page's default, computed on the same sample of the
version the page uses (:data:`core.data.datasets.QUICK_SAMPLE_ROWS` rows):
:func:`core.ml.problem.select_features` with ``drop_text=True`` (every column but the target, those
whose role is id, datetime or ignore, and free text).  The shared leakage screen
(:func:`core.eda.leakage.screen_leakage`, the one behind the page's warnings) then leaves its
suspects out, as AutoML does, and says so on stderr with the page's sentence: a terminal user has no
multiselect to notice a warning next to (titanic's ``boat`` and ``body`` gave 0.97 accuracy).
``--keep-suspects`` keeps them (still warned about); ``--features`` is taken as given, warnings only.
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
    cmd.add_argument("--keep-suspects", action="store_true",
                     help="keep default features the leakage screen suspects (left out otherwise)")
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
    features = _features(ws, version, target, args.features, args.exclude, keep_suspects=args.keep_suspects)
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


def _features(ws, version: datasets.VersionInfo, target: str | None, features: str | None,
              exclude: str | None, *, keep_suspects: bool = False) -> list[str]:
    """The run's features: ``--features``, or the Train page's default less leak suspects and ``--exclude``."""
    if features and exclude:
        raise InvalidInputError("Give either --features or --exclude, not both: --features already names every "
                                "column the model uses.")
    if features:
        return select_features(pd.DataFrame(columns=version.columns), target, _names(features), version.roles)
    sample = datasets.sample_rows(datasets.load_frame(ws, version))  # the page's sample: same choice, same screen
    chosen = select_features(sample, target, None, version.roles, drop_text=True)
    left_out = _names(exclude)
    suspects = [] if keep_suspects else _leak_suspects(sample, target, [c for c in chosen if c not in left_out])
    for check in suspects:
        print(f"warning: left out as a leak suspect (keep it with --keep-suspects): {check.short_message}",
              file=sys.stderr)
    left_out += [str(check.feature) for check in suspects]
    unknown = [c for c in left_out if c not in version.columns]
    if unknown:
        raise InvalidInputError(f"--exclude names {unknown[0]!r}, which is not a column of {version.label}; "
                                f"its columns are {', '.join(version.columns)}.")
    kept = [c for c in chosen if c not in left_out]
    if not kept:
        raise InvalidInputError(f"--exclude leaves no feature: the default features were {', '.join(chosen)}.",
                                hint="Exclude fewer columns, or name the features with --features.")
    return kept


def _leak_suspects(sample: pd.DataFrame, target: str | None, features: list[str]) -> list:
    """The screen's suspects among ``features`` (none without a target, or for clustering)."""
    from core.eda.leakage import MIN_ROWS, screen_leakage

    if target is None or int(sample[target].notna().sum()) < MIN_ROWS:
        return []
    kind = detect_problem(sample[target]).kind
    if kind == ProblemKind.CLUSTERING:
        return []
    return [check for check in screen_leakage(sample, target, kind, features) if check.suspect]


def _log_printer(json_output: bool):
    """Log lines to stdout (not with --json); the page's feature warnings always to stderr."""
    def log(line: str) -> None:
        if line.startswith("warning: "):
            print(line, file=sys.stderr)
        elif not json_output:
            print(line)
    return log
