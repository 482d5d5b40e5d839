"""Small pieces shared by the command groups."""

from __future__ import annotations

import json
import sys
from typing import Any

import pandas as pd

from core.platform.workspace import Workspace


def open_workspace() -> Workspace:
    from core.platform import jobs

    ws = Workspace.open()
    jobs.mark_interrupted(ws)
    return ws


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, default=str)
    sys.stdout.write("\n")


def print_table(frame: pd.DataFrame) -> None:
    with pd.option_context("display.max_rows", 500, "display.max_columns", 50, "display.width", 160):
        print(frame.to_string(index=False))


def progress_printer(prefix: str = ""):
    """A progress callback that redraws one line on stderr."""
    def report(fraction: float, message: str) -> None:
        sys.stderr.write(f"\r{prefix}{fraction * 100:5.1f}%  {message[:70]:<70}")
        sys.stderr.flush()
        if fraction >= 1:
            sys.stderr.write("\n")
    return report
