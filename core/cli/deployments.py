"""``python -m core models route NAME --challenger V --share 0.1 | --shadow V | --clear``,
``python -m core models deployments``: A/B and shadow traffic of the HTTP API (``core.serve.routing``), and
``python -m core models policy NAME [--drift-windows N] [--on-new-data] [--every-hours H] [--min-gain X] |
--clear``: when a served model retrains itself (``core.serve.retrain_policy``)."""

from __future__ import annotations

import argparse

import pandas as pd

from core.cli.common import open_workspace, print_json, print_table
from core.platform.errors import InvalidInputError
from core.serve import retrain_policy, routing

__all__ = ["register"]


def _version(text: str) -> int:
    digits = text.strip().lower().removeprefix("v")
    if not digits.isdigit() or int(digits) < 1:
        raise argparse.ArgumentTypeError(f"a model version is a whole number from 1 up, such as 3; got {text!r}")
    return int(digits)


def _share(text: str) -> float:
    try:
        value = float(text.strip().removesuffix("%")) / (100 if text.strip().endswith("%") else 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a share is a fraction such as 0.1 (or 10%); got {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"a share is above 0 and at most 1, such as 0.1; got {text!r}")
    return value


def _count(text: str) -> int:
    if not text.strip().isdigit() or not 1 <= int(text) <= retrain_policy.MAX_WINDOWS:
        raise argparse.ArgumentTypeError(f"a number of windows is a whole number from 1 to "
                                         f"{retrain_policy.MAX_WINDOWS}, such as 3; got {text!r}")
    return int(text)


def _number(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{what} is a number; got {text!r}") from None


def _hours(text: str) -> float:
    value = _number(text, "--every-hours")
    if not 0 < value <= retrain_policy.MAX_HOURS:
        raise argparse.ArgumentTypeError(f"--every-hours is above 0 and at most {retrain_policy.MAX_HOURS}; "
                                         f"got {text!r}")
    return value


def _gain(text: str) -> float:
    value = _number(text, "--min-gain")
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"--min-gain is 0 or more and below 1, such as 0.005; got {text!r}")
    return value


def register(cmds: argparse._SubParsersAction) -> None:
    """Add ``route`` and ``deployments`` to the ``models`` command group."""
    route = cmds.add_parser("route", help="send a share of a model's requests to a challenger, or mirror them "
                                          "to a shadow version")
    route.add_argument("name")
    route.add_argument("--challenger", type=_version, help="the version that answers --share of the requests")
    route.add_argument("--share", type=_share, help="share of requests for the challenger, such as 0.1")
    route.add_argument("--shadow", type=_version, help="a version scored on every request, never returned")
    route.add_argument("--clear", action="store_true", help="production answers every request again")
    route.set_defaults(handler=_route)

    policy = cmds.add_parser("policy", help="when a served model retrains itself: drift, new data, a schedule; "
                                            "shown when given no option")
    policy.add_argument("name")
    policy.add_argument("--drift-windows", type=_count, metavar="N",
                        help="retrain when drift is flagged on N monitoring windows in a row")
    policy.add_argument("--on-new-data", action="store_true",
                        help="retrain when a newer version of the model's dataset appears")
    policy.add_argument("--every-hours", type=_hours, metavar="H", help="retrain every H hours")
    policy.add_argument("--min-gain", type=_gain, default=0.0, metavar="X",
                        help="promote the new version when better by at least X on a common holdout (default 0)")
    policy.add_argument("--clear", action="store_true", help="remove the policy")
    policy.add_argument("--json", action="store_true")
    policy.set_defaults(handler=_policy)

    dep = cmds.add_parser("deployments", help="the models the API serves: versions and routing")
    dep.add_argument("--json", action="store_true")
    dep.set_defaults(handler=_deployments)


def _route(args: argparse.Namespace) -> int:
    ws = open_workspace()
    if args.clear:
        if args.challenger or args.shadow or args.share:
            raise InvalidInputError("--clear removes the whole route: give it alone.")
        before = routing.clear_route(ws, args.name)
        was = f" (was: {before.describe()})" if before.active else ""
        print(f"{args.name!r}: production answers every request{was}.")
        return 0
    if args.challenger is not None and args.share is None:
        raise InvalidInputError("--challenger needs --share, the fraction of requests it answers, such as 0.1.")
    route = routing.set_route(ws, args.name, challenger=args.challenger, share=args.share, shadow=args.shadow)
    print(f"{route.name!r}: {route.describe()}; the server follows within ATELIER_SERVE_REFRESH_MS.")
    return 0


def _policy(args: argparse.Namespace) -> int:
    ws = open_workspace()
    given = args.drift_windows or args.on_new_data or args.every_hours
    if args.clear:
        if given:
            raise InvalidInputError("--clear removes the whole policy: give it alone.")
        removed = retrain_policy.clear_policy(ws, args.name)
        print(f"{args.name!r}: no retraining policy" + (" any more." if removed else " (it had none)."))
        return 0
    if given:
        policy = retrain_policy.set_policy(ws, args.name, drift_windows=args.drift_windows,
                                           on_new_data=args.on_new_data, every_hours=args.every_hours,
                                           min_gain=args.min_gain)
    else:
        policy = retrain_policy.get_policy(ws, args.name)
    if args.json:
        print_json(policy.to_json() if policy else {"model": args.name, "description": "no retraining policy"})
    elif policy is None:
        print(f"{args.name!r} has no retraining policy. Set one with: python -m core models policy {args.name} "
              "--drift-windows 3 --on-new-data --min-gain 0.005")
    else:
        print(f"{policy.name!r}: {policy.describe()}. The API checks after each monitoring window; "
              "`python -m core retrain check` checks now.")
    return 0


def _deployments(args: argparse.Namespace) -> int:
    ws = open_workspace()
    served = routing.deployments(ws)
    policies = {p.name: p for p in retrain_policy.list_policies(ws, {d.name for d in served})} if served else {}
    if args.json:
        print_json([{"name": d.name, "production": d.production, "algorithm": d.algorithm, **d.route.to_json(),
                     "retrain_policy": policies[d.name].to_json() if d.name in policies else None} for d in served])
    elif not served:
        print("No model is served: promote a version first (python -m core models promote NAME VERSION).")
    else:
        print_table(pd.DataFrame([{
            "name": d.name, "production": f"v{d.production}", "algorithm": d.algorithm,
            "challenger": f"v{d.route.challenger} ({d.route.share:.0%})" if d.route.challenger else "",
            "shadow": f"v{d.route.shadow}" if d.route.shadow else "",
            "retrain policy": _short(policies.get(d.name)),
        } for d in served]))
    return 0


def _short(policy: retrain_policy.PolicyInfo | None) -> str:
    if policy is None:
        return ""
    parts = [f"drift x{policy.drift_windows}" if policy.drift_windows else "",
             "new data" if policy.on_new_data else "", f"every {policy.every_hours:g} h" if policy.every_hours else ""]
    return ", ".join(p for p in parts if p) + f"; gain >= {policy.min_gain:g}"
