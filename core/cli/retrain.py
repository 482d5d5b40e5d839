"""``python -m core retrain NAME [--on DATASET@V] [--promote-if-better 0.005] [--json]`` and
``python -m core retrain check [--json]`` (the retraining policies acted on now, ``core.serve.retrain_check``).

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
from core.models import registry
from core.platform.errors import InvalidInputError
from core.platform.progress import Progress
from core.serve.retrain import plan_retraining, retrain_and_decide

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
    cmd.add_argument("name", help="the model (its production version, else its latest, is retrained); "
                                  "'check' acts on every retraining policy instead")
    cmd.add_argument("--on", metavar="DATASET@VERSION", help="the dataset version to train on (default: newest)")
    cmd.add_argument("--promote-if-better", type=_margin, metavar="MARGIN",
                     help="promote when the new version beats production by at least this on the holdout")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(handler=_retrain)


def _retrain(args: argparse.Namespace) -> int:
    ws = open_workspace()
    if args.name == "check":
        return _check(ws, args)
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
    outcome = retrain_and_decide(ws, plan, data, args.promote_if_better, callbacks=Progress.of(progress))
    new, base, comparison, promoted = outcome.new, outcome.base, outcome.comparison, outcome.promoted
    if args.json:
        print_json(outcome.to_json())
        return 0
    print(f"Trained {new.label} on {data.label}. {comparison.describe()}.")
    if promoted:
        print(f"Promoted {new.label} to production (gain {comparison.gain:+.4f} >= {args.promote_if_better:g}).")
    elif args.promote_if_better is None:
        print(f"{base.label} stays in production; promote with: python -m core models promote {new.name} "
              f"{new.version}")
    else:
        print(f"{base.label} stays in production: the gain {comparison.gain:+.4f} is below "
              f"{args.promote_if_better:g}.")
    return 0


def _check(ws, args: argparse.Namespace) -> int:
    """Every policy that fired: a retraining job started, or the reason it was skipped."""
    from core.serve.retrain_check import check_policies

    if args.on or args.promote_if_better is not None:
        raise InvalidInputError("`retrain check` follows each model's policy: --on and --promote-if-better are "
                                "for retraining one model by hand.")
    decisions = check_policies(ws)
    if args.json:
        print_json([d.to_json() for d in decisions])
    elif not decisions:
        print("No retraining policy fired: nothing to do.")
    for d in decisions if not args.json else []:
        print(f"{d.name}: {d.message}")
    return 0
