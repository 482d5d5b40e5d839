"""``python -m core retrain NAME [--on DATASET@V] [--promote-if-better 0.005] [--json]``.

Trains the model's algorithm with its settings (``core.serve.retrain``) on the newest version of
its dataset (or ``--on``), compares the new version with the production one on a common holdout
(``core.serve.retrain_compare``), and promotes it when ``--promote-if-better`` is given and the gain
reaches it; otherwise the production version stays and the numbers are printed.
"""

from __future__ import annotations

import argparse
import sys

from core.cli.common import open_workspace, print_json, progress_printer
from core.data import datasets
from core.ml.config import TrainConfig
from core.models import registry
from core.models.training import train_version
from core.platform.errors import InvalidInputError
from core.platform.progress import Progress
from core.serve.retrain import comparison_base, plan_retraining
from core.serve.retrain_compare import compare_on_holdout, decide

__all__ = ["register"]


def _margin(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"the margin is a number such as 0.005; got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"the margin is 0 or more; got {text!r}")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser("retrain", help="retrain a model on its dataset's newest version, compare, maybe promote")
    cmd.add_argument("name", help="the model (its production version, else its latest, is retrained)")
    cmd.add_argument("--on", metavar="DATASET@VERSION", help="the dataset version to train on (default: newest)")
    cmd.add_argument("--promote-if-better", type=_margin, metavar="MARGIN",
                     help="promote when the new version beats production by at least this on the holdout")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_retrain)


def _retrain(args: argparse.Namespace) -> int:
    ws = open_workspace()
    current = registry.get_version(ws, args.name)
    plan = plan_retraining(ws, current)
    if plan.blocked:
        raise InvalidInputError(plan.blocked, hint="Add a newer version of the dataset (python -m core datasets "
                                "import ... --new-version), then retrain." if plan.dataset and plan.config else None)
    data = plan.newer[0] if args.on is None else datasets.get_version(ws, args.on)
    if data.id not in {v.id for v in plan.newer}:
        raise InvalidInputError(f"{data.label} is not a newer version of {plan.dataset!r} than {plan.trained_on}.",
                                hint="Choose one of " + ", ".join(v.label for v in plan.newer[:5]) + ".")
    progress = progress_printer("retrain ") if sys.stderr.isatty() and not args.json else None
    rows = train_version(ws, data, TrainConfig.from_dict(plan.config or {}), [plan.algorithm],
                         model_name=current.name, callbacks=Progress.of(progress))
    failed = [r.get("error") or "unknown error" for r in rows if r.get("status") != "ok"]
    if failed or not rows:
        raise InvalidInputError(f"Retraining {current.name} on {data.label} failed: {'; '.join(failed)}")
    new = registry.get_version(ws, rows[0]["model"])
    base = comparison_base(ws, new, current)
    comparison = compare_on_holdout(ws, new, base, data)
    promoted = decide(ws, new, comparison, args.promote_if_better)
    if args.json:
        print_json({"new": new.label, "base": base.label, "promoted": promoted is not None,
                    "margin": args.promote_if_better, "comparison": comparison.to_json()})
        return 0
    print(f"Trained {new.label} on {data.label}. {comparison.describe()}.")
    if promoted is not None:
        print(f"Promoted {new.label} to production (gain {comparison.gain:+.4f} >= {args.promote_if_better:g}).")
    elif args.promote_if_better is None:
        print(f"{base.label} stays in production; promote with: python -m core models promote {new.name} "
              f"{new.version}")
    else:
        print(f"{base.label} stays in production: the gain {comparison.gain:+.4f} is below "
              f"{args.promote_if_better:g}.")
    return 0
