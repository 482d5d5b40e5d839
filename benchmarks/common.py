"""Shared pieces of the benchmarks: timing in fresh processes and table output."""

from __future__ import annotations

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
