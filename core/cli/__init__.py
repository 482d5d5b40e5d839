"""The command line: the same operations and messages as the pages.

Each command group lives in its own module with a ``register(subparsers)``
function; :func:`main` turns every ``AtelierError`` into its message on
stderr and a non-zero exit, and anything unexpected into a short message with
a reference (the traceback goes to the log file, never to the terminal).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import traceback
import uuid

from core.platform.errors import AtelierError

GROUPS = ("core.cli.datasets", "core.cli.eda", "core.cli.train", "core.cli.models", "core.cli.predict")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description="Atelier without a browser.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in GROUPS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # a command group not built yet
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except AtelierError as exc:
        print(f"error: {exc.user_text()}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception:
        ref = uuid.uuid4().hex[:8]
        logging.getLogger("atelier.cli").error("ref %s\n%s", ref, traceback.format_exc())
        _log_to_file(ref)
        print(f"error: something went wrong (reference {ref}); details are in the Atelier log.", file=sys.stderr)
        return 1


def _log_to_file(ref: str) -> None:
    try:
        from core.platform.config import Settings

        logs = Settings.load().home / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / "cli.log", "a", encoding="utf-8") as fh:
            fh.write(f"[ref {ref}]\n{traceback.format_exc()}\n")
    except Exception:  # the log is best effort; the user already has the reference
        logging.getLogger("atelier.cli").debug("could not write cli.log", exc_info=True)
