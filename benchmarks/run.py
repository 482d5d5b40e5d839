"""Run every benchmark (or the ones named) and print its table:  python -m benchmarks.run [NAME…] [--quick]

Each bench_*.py is a script of its own (runnable alone, same flags); this
runs them one after another so a single command gives every number.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    names = {script.stem.removeprefix("bench_") for script in HERE.glob("bench_*.py")}
    # Leading bench names pick benchmarks; everything else (flags and their values) goes to each.
    only = []
    while argv and argv[0] in names:
        only.append(argv.pop(0))
    flags = argv
    failed = []
    for script in sorted(HERE.glob("bench_*.py")):
        if only and script.stem.removeprefix("bench_") not in only:
            continue
        print(f"\n## {script.stem}\n", flush=True)
        code = subprocess.call([sys.executable, "-m", f"benchmarks.{script.stem}", *flags], cwd=HERE.parent)
        if code:
            failed.append(script.stem)
    if failed:
        print(f"\nFailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
