"""``python -m core eda NAME[@VERSION]`` and ``python -m core profile NAME[@VERSION] --output FILE.html``.

``eda`` prints the overview the EDA page shows (rows, columns, memory, types, missing cells,
duplicates, one line per column, the notes).  ``profile`` writes the version's ydata-profiling
report: the stored one when the page or an earlier command made it, otherwise it makes one here,
stores it for next time and writes it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.cli.common import open_workspace, progress_printer
from core.data import datasets
from core.platform.errors import InvalidInputError


def register(sub: argparse._SubParsersAction) -> None:
    eda = sub.add_parser("eda", help="print a dataset version's overview: rows, columns, per-column statistics")
    eda.add_argument("ref", metavar="NAME[@VERSION]")
    eda.set_defaults(handler=_eda)

    profile = sub.add_parser("profile", help="write a dataset version's profiling report (HTML)")
    profile.add_argument("ref", metavar="NAME[@VERSION]")
    profile.add_argument("--output", "-o", required=True, type=Path, metavar="FILE.html",
                         help="where to write the report")
    profile.add_argument("--refresh", action="store_true", help="make a new report even when one is stored")
    profile.set_defaults(handler=_profile)


def _eda(args: argparse.Namespace) -> int:
    from core.eda import format_overview
    from core.eda.overview_parts import version_overview

    ws = open_workspace()
    version = datasets.get_version(ws, args.ref)
    overview = version_overview(ws, version)  # merged by part for a partitioned (or big, clustered) version
    print(f"{version.label}: {version.note or 'no note'}")
    print(format_overview(overview))
    return 0


def _profile(args: argparse.Namespace) -> int:
    from core.eda.reports import ensure_report

    output: Path = args.output
    if output.is_dir():
        raise InvalidInputError(f"The output {str(output)!r} is a folder; give a file name such as report.html.")
    if not output.parent.is_dir():
        raise InvalidInputError(f"The folder {str(output.parent)!r} for the report does not exist.",
                                hint="Create it first, or write the report somewhere else.")
    ws = open_workspace()
    version = datasets.get_version(ws, args.ref)
    html, info, reused = ensure_report(
        ws, version, refresh=args.refresh, progress=progress_printer() if sys.stderr.isatty() else None,
    )
    try:
        output.write_bytes(html)
    except OSError as exc:
        raise InvalidInputError(f"The report could not be written to {str(output)!r}: {exc.strerror or exc}.",
                                hint="Choose a file you can write to.") from exc
    how = "the stored report" if reused else "a new report (stored for next time)"
    print(f"Wrote {how} of {version.label} to {output} ({len(html):,} bytes).")
    if info is not None:
        print(info.describe())
    return 0
