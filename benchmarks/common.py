"""Shared pieces of the benchmarks: timing in fresh processes and table output."""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_measured(code: str, *, env: dict[str, str] | None = None) -> dict:
    """Run ``code`` in a fresh interpreter; it must print one JSON object last.

    The child's own peak RSS (``VmHWM`` in /proc/self/status, in bytes) is added
    as ``peak_bytes`` so every candidate's memory is measured the same way.
    ``ru_maxrss`` would not do: on Linux a child inherits its parent's
    high-water mark across exec, so a benchmark parent holding a big frame
    would inflate every child's number.
    """
    wrapper = textwrap.dedent("""
        import json, re, sys
        sys.path.insert(0, {root!r})
        __result = {{}}
        exec(compile({code!r}, "<bench>", "exec"))
        with open("/proc/self/status") as status:
            __kb = int(re.search(r"VmHWM:\\s+(\\d+)", status.read()).group(1))
        __result["peak_bytes"] = __kb * 1024
        print(json.dumps(__result))
    """).format(root=str(ROOT), code=textwrap.dedent(code))
    done = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, env=env, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


_START = "import time as __time\n__t, __c = __time.perf_counter(), __time.process_time()\n"
_STOP = "__result['seconds'] = __time.perf_counter() - __t\n__result['cpu'] = __time.process_time() - __c\n"


def run_timed(setup: str, timed: str, after: str = "", *, env: dict[str, str] | None = None) -> dict:
    """:func:`run_measured` on ``setup``, ``timed`` and ``after`` in one fresh interpreter, with the
    wall and CPU seconds of ``timed`` alone as ``seconds`` and ``cpu`` (``after`` records results
    in ``__result`` outside the clock)."""
    return run_measured(
        "\n".join([textwrap.dedent(setup), _START, textwrap.dedent(timed), _STOP, textwrap.dedent(after)]), env=env
    )


def size_parser(rows: int, quick_rows: int, description: str | None = None) -> argparse.ArgumentParser:
    """The flags every benchmark takes: ``--rows``, ``--repeat`` and ``--quick`` (fewer rows, one run)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rows", type=int, default=rows)
    parser.add_argument("--repeat", type=int, default=3, help="runs per candidate; the median is reported")
    parser.add_argument("--quick", action="store_true", help=f"{quick_rows:,} rows, one run")
    parser.set_defaults(quick_rows=quick_rows)
    return parser


def parse_sized(parser: argparse.ArgumentParser, argv: list[str] | None = None) -> argparse.Namespace:
    """Parse, with ``--quick`` replacing the rows and the repeats."""
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.repeat = min(args.rows, args.quick_rows), 1
    return args


def median(values: list[float]) -> float:
    return statistics.median(values)


def markdown_table(rows: list[dict]) -> str:
    if not rows:
        return "(no rows)"
    headers = list(rows[0])
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(r[h]) for h in headers) + " |" for r in rows]
    return "\n".join(lines)


def mb(n: float) -> str:
    return f"{n / 1024 / 1024:,.0f} MB"
