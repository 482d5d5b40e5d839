"""``python -m core projects create|list|rename|archive|delete|stats|add-member|remove-member|members|audit``.

The command line acts as ``ATELIER_USER`` (the local owner without sign-in); the checks are core's.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

import pandas as pd

from core.cli.common import open_workspace, print_json, print_table
from core.platform import access, projects
from core.platform.display import format_bytes


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("projects", help="projects, their members and audit trail")
    cmds = group.add_subparsers(dest="projects_command", required=True)

    create = cmds.add_parser("create", help="create a project (admins); you own it")
    create.add_argument("name")
    create.add_argument("--problem-type", choices=projects.PROBLEM_TYPES, default=None)
    create.set_defaults(handler=_create)

    ren = cmds.add_parser("rename", help="give a project another name (owners)")
    ren.add_argument("name")
    ren.add_argument("new_name")
    ren.set_defaults(handler=_rename)

    arc = cmds.add_parser("archive", help="archive a project: readable, unchangeable (owners)")
    arc.add_argument("name")
    arc.add_argument("--restore", action="store_true", help="make an archived project changeable again")
    arc.set_defaults(handler=_archive)

    rm_project = cmds.add_parser("delete", help="delete a project and all it holds (owners)")
    rm_project.add_argument("name")
    rm_project.add_argument("--yes", action="store_true", help="confirm the deletion")
    rm_project.set_defaults(handler=_delete)

    stats = cmds.add_parser("stats", help="what a project holds: datasets, models, jobs, storage used")
    stats.add_argument("name")
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(handler=_stats)

    lst = cmds.add_parser("list", help="the projects you belong to")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=_list)

    add = cmds.add_parser("add-member", help="add a member, or change a member's role (owners)")
    add.add_argument("name")
    add.add_argument("email")
    add.add_argument("--role", required=True, choices=access.ROLES)
    add.set_defaults(handler=_add)

    inv = cmds.add_parser("invite", help="invite an email (owners): it may sign in, and joins with the role")
    inv.add_argument("name")
    inv.add_argument("email")
    inv.add_argument("--role", default="viewer", choices=access.ROLES)
    inv.set_defaults(handler=_invite)

    rm = cmds.add_parser("remove-member", help="remove a member (owners)")
    rm.add_argument("name")
    rm.add_argument("email")
    rm.set_defaults(handler=_remove)

    mem = cmds.add_parser("members", help="a project's members and their roles")
    mem.add_argument("name")
    mem.add_argument("--json", action="store_true")
    mem.set_defaults(handler=_members)

    aud = cmds.add_parser("audit", help="who imported, trained, promoted, rolled back or deleted, and when")
    aud.add_argument("name")
    aud.add_argument("--limit", type=int, default=200)
    aud.add_argument("--json", action="store_true")
    aud.set_defaults(handler=_audit)


def _create(args: argparse.Namespace) -> int:
    info = projects.create_project(open_workspace(), args.name, problem_type=args.problem_type)
    print(f"created project {info.name!r}")
    return 0


def _rename(args: argparse.Namespace) -> int:
    info = projects.rename_project(open_workspace(), args.name, args.new_name)
    print(f"project {args.name!r} is now {info.name!r}")
    return 0


def _archive(args: argparse.Namespace) -> int:
    info = projects.set_archived(open_workspace(), args.name, archived=not args.restore)
    print(f"project {info.name!r} is {'archived' if info.archived else 'changeable again'}")
    return 0


def _delete(args: argparse.Namespace) -> int:
    from core.platform.project_deletion import delete_project

    if not args.yes:
        print(f"error: deleting project {args.name!r} removes its datasets, models, jobs, prediction runs and "
              "files for good; add --yes to confirm.", file=sys.stderr)
        return 1
    gone = delete_project(open_workspace(), args.name)
    print(f"Deleted project {gone.name!r}: {gone.datasets} dataset(s), {gone.models} model(s), {gone.jobs} job(s), "
          f"{gone.files} file(s).")
    return 0


def _stats(args: argparse.Namespace) -> int:
    counted = dataclasses.asdict(projects.statistics(open_workspace(), args.name))
    if args.json:
        print_json(counted)
    else:
        counted["storage_bytes"] = format_bytes(counted["storage_bytes"])
        print_table(pd.DataFrame([counted]))
    return 0


def _list(args: argparse.Namespace) -> int:
    rows = [{"name": p.name, "role": role, "archived": p.archived, "problem_type": p.problem_type or ""}
            for p, role in projects.list_projects(open_workspace())]
    if args.json:
        print_json(rows)
    elif rows:
        print_table(pd.DataFrame(rows))
    else:
        print("You belong to no project yet; ask an owner to add you.")
    return 0


def _add(args: argparse.Namespace) -> int:
    member = projects.add_member(open_workspace(), args.name, args.email, args.role)
    print(f"{member.email} is a {member.role} in project {args.name!r}")
    return 0


def _invite(args: argparse.Namespace) -> int:
    from core.platform.sign_in import invite

    member = invite(open_workspace(), args.name, args.email, args.role)
    print(f"invited {member.email} into project {args.name!r} as {member.role}; they join at their first sign-in")
    return 0


def _remove(args: argparse.Namespace) -> int:
    projects.remove_member(open_workspace(), args.name, args.email)
    print(f"removed {args.email} from project {args.name!r}")
    return 0


def _members(args: argparse.Namespace) -> int:
    rows = [{"email": m.email, "role": m.role} for m in projects.members(open_workspace(), args.name)]
    if args.json:
        print_json(rows)
    else:
        print_table(pd.DataFrame(rows, columns=["email", "role"]))
    return 0


def _audit(args: argparse.Namespace) -> int:
    rows = [{"at": e.at.isoformat(timespec="seconds"), "who": e.actor, "action": e.action, "object": e.object}
            for e in projects.audit_events(open_workspace(), args.name, limit=args.limit)]
    if args.json:
        print_json(rows)
    elif rows:
        print_table(pd.DataFrame(rows))
    else:
        print(f"Nothing recorded in project {args.name!r} yet.")
    return 0
