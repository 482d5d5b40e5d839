"""Running ``python -m core …`` from tests: in a real subprocess, or through the same ``main`` in this process.

A subprocess costs about two seconds of imports here, so each command family keeps a few subprocess checks (the
exit code and the terminal a user sees, no traceback) and runs its many other cases in-process, where ``main``
parses the same arguments and turns the same errors into the same messages and exit codes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _clean_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """This environment without any ATELIER_ setting of the test run, pointed at ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATELIER_")}
    return env | {"ATELIER_HOME": str(home)} | (extra or {})


def cli(home: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``python -m core ARGS`` in a subprocess on the workspace at ``home``."""
    return subprocess.run([sys.executable, "-m", "core", *args], capture_output=True, text=True,
                          env=_clean_env(home, env), cwd=ROOT)


@dataclass(frozen=True)
class Ran:
    """What a command left: the same three fields as a finished subprocess."""

    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli_here(monkeypatch, capsys):
    """``run(home, *args)``: the command line through ``core.cli.main`` in this process.

    The environment is the subprocess's (no ATELIER_ setting but the home) and is restored afterwards: a
    command such as ``--project`` writes to ``os.environ`` for the jobs it starts.
    """
    from core.cli import main

    saved = dict(os.environ)

    def run(home: Path, *args: str, env: dict[str, str] | None = None) -> Ran:
        for name in [k for k in os.environ if k.startswith("ATELIER_")]:
            monkeypatch.delenv(name)
        for name, value in {"ATELIER_HOME": str(home), **(env or {})}.items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()  # what the test printed before is not the command's
        try:
            code = main(list(args))
        except SystemExit as exit_:  # argparse refuses a usage error as the terminal would
            code = exit_.code if isinstance(exit_.code, int) else 1
        out = capsys.readouterr()
        return Ran(code, out.out, out.err)

    yield run
    os.environ.clear()
    os.environ.update(saved)
