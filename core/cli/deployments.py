"""``python -m core models route NAME --challenger V --share 0.1 | --shadow V | --clear`` and
``python -m core models deployments``: A/B and shadow traffic of the HTTP API (``core.serve.routing``)."""

from __future__ import annotations

import argparse

import pandas as pd

from core.cli.common import open_workspace, print_json, print_table
from core.platform.errors import InvalidInputError
from core.serve import routing

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


def _deployments(args: argparse.Namespace) -> int:
    served = routing.deployments(open_workspace())
    if args.json:
        print_json([{"name": d.name, "production": d.production, "algorithm": d.algorithm, **d.route.to_json()}
                    for d in served])
    elif not served:
        print("No model is served: promote a version first (python -m core models promote NAME VERSION).")
    else:
        print_table(pd.DataFrame([{
            "name": d.name, "production": f"v{d.production}", "algorithm": d.algorithm,
            "challenger": f"v{d.route.challenger} ({d.route.share:.0%})" if d.route.challenger else "",
            "shadow": f"v{d.route.shadow}" if d.route.shadow else "",
        } for d in served]))
    return 0
