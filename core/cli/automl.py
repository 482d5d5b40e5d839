"""``python -m core automl``: search within a budget, resume a run, replay its winner.

    python -m core automl --dataset NAME[@VERSION] --target COL --budget SECONDS [--metric M] [--seed S] [--json]
    python -m core automl resume RUN_ID --budget SECONDS [--json]
    python -m core automl replay RUN_ID [--json]
"""

from __future__ import annotations

import argparse
import sys
import time

from core.cli.common import open_workspace, print_json, progress_printer
from core.data import datasets
from core.ml.automl import AutoMLConfig
from core.models.automl_runs import replay_run, resume_run, run_on_version
from core.platform.errors import InvalidInputError
from core.platform.progress import Progress


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser("automl", help="find the best model within a time budget; resume or replay a run")
    cmd.add_argument("action", nargs="?", choices=("resume", "replay"), help="resume or replay an earlier run")
    cmd.add_argument("run_id", nargs="?", help="the run to resume or replay")
    cmd.add_argument("--dataset", metavar="NAME[@VERSION]")
    cmd.add_argument("--target", help="target column (default: the dataset's target role)")
    cmd.add_argument("--budget", type=float, help="seconds from start to the registered best model")
    cmd.add_argument("--metric", help="metric to optimise (default: roc_auc, log_loss or rmse)")
    cmd.add_argument("--seed", type=int, default=0)
    cmd.add_argument("--keep-suspects", action="store_true", help="keep features the leakage screen suspects")
    cmd.add_argument("--name", help="model name (default: dataset-target)")
    cmd.add_argument("--json", action="store_true", help="print one JSON object")
    cmd.set_defaults(handler=_automl)


def _automl(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    ws = open_workspace()
    progress = progress_printer() if sys.stderr.isatty() and not args.json else None
    cb = Progress.of(progress, None if args.json else print)
    if args.action == "replay":
        if not args.run_id:
            raise InvalidInputError("Name the run to replay: python -m core automl replay RUN_ID.")
        out = replay_run(ws, args.run_id, cb)
        if args.json:
            print_json(out)
        else:
            print(f"run {out['run_id']}: {'reproduced' if out['reproduced'] else 'NOT reproduced'} "
                  f"(largest difference {out['largest_difference']:.3g})")
        return 0 if out["reproduced"] else 1
    if args.budget is None:
        raise InvalidInputError("Give a time budget in seconds: --budget 60.")
    if args.action == "resume":
        if not args.run_id:
            raise InvalidInputError("Name the run to resume: python -m core automl resume RUN_ID --budget SECONDS.")
        out = resume_run(ws, args.run_id, args.budget, callbacks=cb, started=started, model_name=args.name)
    else:
        if not args.dataset:
            raise InvalidInputError("Name the dataset: --dataset NAME[@VERSION].")
        version = datasets.get_version(ws, args.dataset)
        target = args.target or version.target
        if target is None or target not in version.columns:
            raise InvalidInputError(f"Choose a target column of {version.label} with --target; its columns are "
                                    f"{', '.join(version.columns)}.")
        config = AutoMLConfig(target=target, budget=args.budget, metric=args.metric, seed=args.seed,
                              keep_suspects=args.keep_suspects)
        out = run_on_version(ws, version, config, callbacks=cb, started=started, model_name=args.name)
    out["elapsed_seconds"] = round(time.perf_counter() - started, 3)
    if args.json:
        print_json(out)
    else:
        best = out["best"]
        shown = ", ".join(f"{k} {v:.4f}" for k, v in best["metrics"].items() if isinstance(v, float))
        print(f"run {out['run_id']}: {best['model']} ({best['algorithm']}) in {out['elapsed_seconds']:.1f} s; "
              f"test {shown}")
        for row in out["leaderboard"][:10]:
            print(f"  {row['trial']:>3} {row['algorithm']:<24} {row['status']:<8} {row['score']} {row['seconds']} s")
    return 0
