"""``python -m core datasets import|list|show|delete``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from core.cli.common import open_workspace, print_json, print_table, progress_printer
from core.data import datasets


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("datasets", help="import, list, show and delete datasets")
    cmds = group.add_subparsers(dest="datasets_command", required=True)

    imp = cmds.add_parser("import", help="import a file as a dataset version")
    imp.add_argument("file", type=Path)
    imp.add_argument("--name", required=True)
    imp.add_argument("--new-version", action="store_true", help="add a version when the name exists")
    imp.add_argument("--sheet", help="Excel sheet to read")
    imp.add_argument("--delimiter", help="CSV delimiter (detected when left out)")
    imp.add_argument("--encoding", help="text encoding (detected when left out)")
    imp.set_defaults(handler=_import)

    lst = cmds.add_parser("list", help="list datasets")
    lst.add_argument("--search", default="")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=_list)

    show = cmds.add_parser("show", help="show a dataset version: schema, roles, quality")
    show.add_argument("ref", metavar="NAME[@VERSION]")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_show)

    rm = cmds.add_parser("delete", help="delete a dataset and all its versions")
    rm.add_argument("name")
    rm.add_argument("--yes", action="store_true", help="confirm the deletion")
    rm.set_defaults(handler=_delete)


def _import(args: argparse.Namespace) -> int:
    from core.data.ingest import import_file

    ws = open_workspace()
    options = {k: v for k, v in {"sheet": args.sheet, "delimiter": args.delimiter, "encoding": args.encoding}.items()
               if v}
    version = import_file(
        ws, args.file, args.name, options=options, if_exists="new_version" if args.new_version else "error",
        original_name=args.file.name, progress=progress_printer() if sys.stderr.isatty() else None,
    )
    print(f"Imported {args.file.name} as {version.label}: {version.n_rows:,} rows × {version.n_columns} columns.")
    return 0


def _list(args: argparse.Namespace) -> int:
    rows = datasets.list_datasets(open_workspace(), args.search)
    if args.json:
        print_json([r.__dict__ for r in rows])
    elif not rows:
        print("No datasets yet. Import one with: python -m core datasets import FILE --name NAME")
    else:
        print_table(pd.DataFrame([
            {"name": r.name, "rows": r.n_rows, "columns": r.n_columns, "latest version": r.latest_version,
             "versions": r.versions, "created": f"{r.created_at:%Y-%m-%d %H:%M}"} for r in rows
        ]))
    return 0


def _show(args: argparse.Namespace) -> int:
    version = datasets.get_version(open_workspace(), args.ref)
    if args.json:
        print_json(version.__dict__)
        return 0
    print(f"{version.label}: {version.n_rows:,} rows × {version.n_columns} columns, "
          f"created {version.created_at:%Y-%m-%d %H:%M}; {version.note}")
    print_table(pd.DataFrame([
        {"column": c["name"], "type": c.get("logical_type", ""), "role": version.roles.get(c["name"], "feature"),
         "missing": c.get("n_missing", "")} for c in version.schema
    ]))
    issues = version.quality.get("issues", [])
    if issues:
        print("\nQuality:")
        for issue in issues:
            where = f"[{issue['column']}] " if issue.get("column") else ""
            print(f"- {where}{issue['detail']} → {issue['suggestion']}")
    return 0


def _delete(args: argparse.Namespace) -> int:
    if not args.yes:
        print(f"error: deleting {args.name!r} removes every version; add --yes to confirm.", file=sys.stderr)
        return 1
    count = datasets.delete_dataset(open_workspace(), args.name)
    print(f"Deleted dataset {args.name!r} ({count} version(s)).")
    return 0
