"""``python -m core datasets import|list|show|delete``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from core.cli.common import open_workspace, print_json, print_table, progress_printer
from core.data import datasets
from core.platform.errors import InvalidInputError


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

    sql = cmds.add_parser("import-sql", help="import a SQL table or one SELECT query as a dataset version")
    sql.add_argument("url", help="SQLAlchemy URL, e.g. postgresql+psycopg://user@host:5432/db")
    what = sql.add_mutually_exclusive_group(required=True)
    what.add_argument("--table", help="table or view (schema.table works too)")
    what.add_argument("--query", help="one SELECT or WITH query")
    sql.add_argument("--name", required=True)
    sql.add_argument("--schema")
    sql.add_argument("--password-secret", help="environment variable or secrets key holding the password")
    sql.add_argument("--row-cap", type=int, default=None, help="refuse results with more rows than this")
    sql.add_argument("--timeout", type=float, default=None, help="statement timeout in seconds")
    sql.add_argument("--new-version", action="store_true", help="add a version when the name exists")
    sql.set_defaults(handler=_import_sql)

    s3 = cmds.add_parser("import-s3", help="import an S3/R2/MinIO object (or a prefix/ of Parquet parts)")
    s3.add_argument("url", metavar="s3://bucket/key")
    s3.add_argument("--name", required=True)
    s3.add_argument("--endpoint-url", help="R2 or MinIO endpoint (default: ATELIER_S3_ENDPOINT_URL, else AWS)")
    s3.add_argument("--region", help="bucket region (default: ATELIER_S3_REGION)")
    s3.add_argument("--member", help="file inside a .zip object")
    s3.add_argument("--new-version", action="store_true", help="add a version when the name exists")
    s3.set_defaults(handler=_import_s3)

    kg = cmds.add_parser("import-kaggle", help="import a file of a Kaggle dataset or competition")
    kg.add_argument("handle", metavar="OWNER/SLUG[/versions/N] | competitions/NAME")
    kg.add_argument("--file", action="append",
                    help="the file to import (default: the only table file); repeat it to import several files, "
                    "each as its own dataset")
    kg.add_argument("--member", help="file inside a .zip (one --file only)")
    kg.add_argument("--name", required=True, action="append",
                    help="the dataset name; with several --file, one --name per file or one to prefix them all")
    kg.add_argument("--new-version", action="store_true", help="add a version when the name exists")
    kg.set_defaults(handler=_import_kaggle)

    kgf = cmds.add_parser("kaggle-files", help="list the files of a Kaggle dataset or competition, with sizes")
    kgf.add_argument("handle", metavar="OWNER/SLUG[/versions/N] | competitions/NAME")
    kgf.add_argument("--json", action="store_true")
    kgf.set_defaults(handler=_kaggle_files)

    _register_transforms(cmds)

    refresh = cmds.add_parser("refresh", help="pull a dataset's source again as its next version")
    refresh.add_argument("ref", metavar="NAME[@VERSION]")
    refresh.set_defaults(handler=_refresh)

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


def _import_sql(args: argparse.Namespace) -> int:
    from core.data.remote import import_remote, sql_source
    from core.data.sources.sql import DEFAULT_ROW_CAP, DEFAULT_STATEMENT_TIMEOUT_S

    url, options = sql_source(
        args.url, table=args.table, schema=args.schema, query=args.query, password_secret=args.password_secret,
        row_cap=args.row_cap or DEFAULT_ROW_CAP, statement_timeout_s=args.timeout or DEFAULT_STATEMENT_TIMEOUT_S,
    )
    version = import_remote(open_workspace(), url, args.name, options=options,
                            if_exists="new_version" if args.new_version else "error",
                            progress=progress_printer() if sys.stderr.isatty() else None)
    print(f"Imported {args.table or 'the query'} as {version.label}: {version.n_rows:,} rows × "
          f"{version.n_columns} columns.")
    return 0


def _import_s3(args: argparse.Namespace) -> int:
    from core.data.remote import import_remote, s3_source

    ws = open_workspace()
    url, options = s3_source(args.url, endpoint_url=args.endpoint_url or ws.settings.s3_endpoint_url,
                             region=args.region or ws.settings.s3_region, member=args.member)
    version = import_remote(ws, url, args.name, options=options,
                            if_exists="new_version" if args.new_version else "error",
                            progress=progress_printer() if sys.stderr.isatty() else None)
    print(f"Imported {args.url} as {version.label}: {version.n_rows:,} rows × {version.n_columns} columns.")
    return 0


def _register_transforms(cmds: argparse._SubParsersAction) -> None:
    join = cmds.add_parser("join", help="join two dataset versions into a new dataset version")
    join.add_argument("left", metavar="LEFT[@VERSION]")
    join.add_argument("right", metavar="RIGHT[@VERSION]")
    join.add_argument("--on", required=True, help="key column(s), comma-separated")
    join.add_argument("--how", choices=["inner", "left"], default="inner")
    join.add_argument("--name", required=True)
    join.add_argument("--max-rows", type=int, default=None, help="refuse a result with more rows than this")
    join.add_argument("--new-version", action="store_true", help="add a version when the name exists")
    join.set_defaults(handler=_join)

    flt = cmds.add_parser("filter", help="keep the rows that meet conditions, as a new dataset version")
    flt.add_argument("ref", metavar="NAME[@VERSION]")
    flt.add_argument("--where", action="append", default=[],
                     help='a condition such as "age >= 3", "embarked in S,C", "cabin is missing" (repeatable)')
    flt.add_argument("--any", action="store_true", help="keep rows meeting any condition (default: all)")
    flt.add_argument("--drop", action="append", default=[], help="a column to remove (repeatable)")
    flt.add_argument("--name", required=True)
    flt.add_argument("--new-version", action="store_true", help="add a version when the name exists")
    flt.set_defaults(handler=_filter)


def _if_exists(args: argparse.Namespace, *sources: str) -> str:
    same = any(datasets.parse_ref(s)[0] == args.name.strip() for s in sources)
    return "new_version" if args.new_version or same else "error"


def _join(args: argparse.Namespace) -> int:
    from core.data import transform

    ws = open_workspace()
    left, right = datasets.get_version(ws, args.left), datasets.get_version(ws, args.right)
    on = [k.strip() for k in args.on.split(",") if k.strip()]
    version = transform.join_versions(
        ws, left, right, on, args.name, how=args.how, max_rows=args.max_rows or transform.DEFAULT_MAX_ROWS,
        if_exists=_if_exists(args, args.left, args.right), progress=progress_printer() if sys.stderr.isatty() else None)
    for warning in version.provenance.get("warnings", []):
        print(f"warning: {warning}", file=sys.stderr)
    print(f"Joined {left.label} and {right.label} as {version.label}: {version.n_rows:,} rows × "
          f"{version.n_columns} columns.")
    return 0


def _filter(args: argparse.Namespace) -> int:
    from core.data import transform

    conditions = [transform.parse_where(w) for w in args.where]  # a bad one stops here, before any reading
    ws = open_workspace()
    source = datasets.get_version(ws, args.ref)
    version = transform.filter_version(
        ws, source, conditions, args.name, combine="or" if args.any else "and", drop=args.drop,
        if_exists=_if_exists(args, args.ref), progress=progress_printer() if sys.stderr.isatty() else None)
    print(f"Filtered {source.label} as {version.label}: {version.n_rows:,} of {source.n_rows:,} rows × "
          f"{version.n_columns} columns.")
    return 0


def _import_kaggle(args: argparse.Namespace) -> int:
    from core.data.remote import import_kaggle_files, import_remote, kaggle_source

    def said(version) -> None:
        prov = version.provenance
        where = f"{prov.get('file')} of {prov.get('handle')}"
        where += f" (version {prov['version']})" if prov.get("version") else ""
        print(f"Imported {where} as {version.label}: {version.n_rows:,} rows × {version.n_columns} columns.",
              flush=True)

    files = args.file or []
    progress = progress_printer() if sys.stderr.isatty() else None
    if len(files) > 1:
        if args.member:
            raise InvalidInputError("--member names a file inside one zip; it cannot go with several --file.",
                                    hint="Import the zip on its own with --file and --member.")
        import_kaggle_files(open_workspace(), args.handle, files, args.name, new_version=args.new_version,
                            progress=progress, on_saved=said)
        return 0
    if len(args.name) != 1:
        raise InvalidInputError(f"One file is imported, so one --name is needed, not {len(args.name)}.")
    url, options = kaggle_source(args.handle, file=files[0] if files else None, member=args.member)
    said(import_remote(open_workspace(), url, args.name[0], options=options,
                       if_exists="new_version" if args.new_version else "error", progress=progress))
    return 0


def _kaggle_files(args: argparse.Namespace) -> int:
    from core.data.sources.kaggle import list_files

    ref, version, files = list_files(args.handle, home=open_workspace().settings.home)
    if args.json:
        print_json({"handle": ref.handle, "version": version, "files": [f.__dict__ for f in files]})
    else:
        print(f"{ref.handle}" + (f" version {version}" if version else "") + f": {len(files)} files")
        print_table(pd.DataFrame([{"file": f.name, "size": f.size_text, "table": "yes" if f.is_table else ""}
                                  for f in files]))
    return 0


def _refresh(args: argparse.Namespace) -> int:
    from core.data.remote import refresh_version

    version = refresh_version(open_workspace(), args.ref, progress=progress_printer() if sys.stderr.isatty() else None)
    print(f"Refreshed as {version.label}: {version.n_rows:,} rows × {version.n_columns} columns.")
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
    stored = f", stored in {version.provenance['parts']} Parquet parts" if version.provenance.get("parts") else ""
    print(f"{version.label}: {version.n_rows:,} rows × {version.n_columns} columns{stored}, "
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
