"""``python -m core models list|show|history|promote|stage|rollback|delete`` (and ``route``, ``deployments``:
``core.cli.deployments``)."""

from __future__ import annotations

import argparse
from dataclasses import asdict, fields

import pandas as pd

from core.cli import deployments
from core.cli.common import open_workspace, print_json, print_table
from core.models import registry
from core.models.leaderboard import flatten_metrics, metric_direction
from core.platform.workspace import Workspace

# The score shown in the text listing: the first of these a version has.
KEY_METRICS = ("roc_auc", "accuracy", "f1", "r2", "rmse", "mae", "silhouette")


def _version_number(text: str) -> int:
    digits = text.strip().lower().removeprefix("v")
    if not digits.isdigit() or int(digits) < 1:
        raise argparse.ArgumentTypeError(f"a model version is a whole number from 1 up, such as 3; got {text!r}")
    return int(digits)


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("models", help="list model versions, promote, roll back")
    cmds = group.add_subparsers(dest="models_command", required=True)

    lst = cmds.add_parser("list", help="list model versions")
    lst.add_argument("--name", help="only the versions of this model")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=_list)

    show = cmds.add_parser("show", help="show one version: card and metrics")
    show.add_argument("ref", metavar="REF", help="NAME, NAME@production, NAME@staging or NAME:VERSION")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_show)

    hist = cmds.add_parser("history", help="stage changes of a model, newest first")
    hist.add_argument("name")
    hist.add_argument("--json", action="store_true")
    hist.set_defaults(handler=_history)

    pro = cmds.add_parser("promote", help="make a version the production version")
    pro.add_argument("name")
    pro.add_argument("version", type=_version_number)
    pro.add_argument("--note", default="")
    pro.set_defaults(handler=_promote)

    stage = cmds.add_parser("stage", help="move a version to staging, archived or none")
    stage.add_argument("name")
    stage.add_argument("version", type=_version_number)
    stage.add_argument("stage", choices=registry.STAGES)
    stage.add_argument("--note", default="")
    stage.set_defaults(handler=_stage)

    back = cmds.add_parser("rollback", help="put the previous production version back")
    back.add_argument("name")
    back.add_argument("--note", default="")
    back.set_defaults(handler=_rollback)

    rm = cmds.add_parser("delete", help="delete a model version and its file")
    rm.add_argument("name")
    rm.add_argument("version", type=_version_number)
    rm.add_argument("--yes", action="store_true", help="confirm deleting the production version")
    rm.set_defaults(handler=_delete)

    deployments.register(cmds)


def _key_metric(metrics: dict) -> str:
    flat = {k: v for k, v in flatten_metrics(metrics).items() if isinstance(v, float)}
    for name in KEY_METRICS:
        if name in flat:
            return f"{name} {flat[name]:.3f}"
    scored = [k for k in flat if metric_direction(k)]
    return f"{scored[0]} {flat[scored[0]]:.3f}" if scored else ""


def _as_json(mv: registry.ModelVersionInfo, *, card: bool) -> dict:
    data = {f.name: getattr(mv, f.name) for f in fields(mv)}
    data["ref"] = mv.label
    if card:
        data["card"] = mv.card.to_dict()  # the stored JSON, not the dataclass's fields
    else:
        data.pop("card")
    return data


def _list(args: argparse.Namespace) -> int:
    versions = registry.list_versions(open_workspace(), args.name)
    if args.json:
        print_json([_as_json(mv, card=False) for mv in versions])
    elif not versions:
        print("No models yet: train one first (python -m core train --dataset NAME --target COLUMN).")
    else:
        print_table(pd.DataFrame([
            {"name": mv.name, "version": mv.version, "stage": mv.stage, "algorithm": mv.algorithm,
             "problem type": mv.problem_type, "dataset": mv.dataset_label, "score": _key_metric(mv.metrics),
             "created": f"{mv.created_at:%Y-%m-%d %H:%M}"} for mv in versions
        ]))
    return 0


def _show(args: argparse.Namespace) -> int:
    mv = registry.get_version(open_workspace(), args.ref)
    if args.json:
        print_json(_as_json(mv, card=True))
        return 0
    print(f"{mv.label} [{mv.stage}]: {mv.algorithm}, {mv.problem_type}"
          f"{f' of {mv.target!r}' if mv.target else ''}, trained on {mv.dataset_label or 'an unknown dataset'} "
          f"in {mv.train_seconds:.1f} s, created {mv.created_at:%Y-%m-%d %H:%M}")
    flat = {k: v for k, v in flatten_metrics(mv.metrics).items() if not k.endswith(("_mean", "_std"))}
    if flat:
        print_table(pd.DataFrame({"metric": list(flat), "value": [
            f"{v:.4f}" if isinstance(v, float) else v for v in flat.values()]}))
    return 0


def _history(args: argparse.Namespace) -> int:
    moves = registry.history(open_workspace(), args.name)
    if args.json:
        print_json([asdict(t) for t in moves])
    elif not moves:
        print(f"Model {args.name!r} has no stage changes yet.")
    else:
        print_table(pd.DataFrame([
            {"when": f"{t.at:%Y-%m-%d %H:%M:%S}", "version": t.version, "from": t.from_stage, "to": t.to_stage,
             "note": t.note} for t in moves
        ]))
    return 0


def _promote(args: argparse.Namespace) -> int:
    ws = open_workspace()
    before = _production(ws, args.name)
    mv = registry.promote(ws, args.name, args.version, args.note)
    replaced = f" (v{before} archived)" if before is not None else ""
    print(f"Promoted {mv.label} to production{replaced}.")
    return 0


def _stage(args: argparse.Namespace) -> int:
    mv = registry.set_stage(open_workspace(), args.name, args.version, args.stage, args.note)
    print(f"{mv.label} is now at stage {mv.stage!r}.")
    return 0


def _rollback(args: argparse.Namespace) -> int:
    ws = open_workspace()
    before = _production(ws, args.name)
    mv = registry.rollback(ws, args.name, args.note)
    print(f"Rolled back {mv.name!r}: v{mv.version} is in production again (v{before} archived).")
    return 0


def _delete(args: argparse.Namespace) -> int:
    mv = registry.delete_version(open_workspace(), args.name, args.version, confirm_production=args.yes)
    print(f"Deleted {mv.label} (it was at stage {mv.stage!r}); its history is kept.")
    return 0


def _production(ws: Workspace, name: str) -> int | None:
    current = [mv.version for mv in registry.list_versions(ws, name) if mv.stage == "production"]
    return current[0] if current else None


__all__ = ["register"]
