"""The command line: the same operations and messages as the pages.

Each command group lives in its own module with a ``register(subparsers)``
function; :func:`main` turns every ``AtelierError`` into its message on
stderr and a non-zero exit, and anything unexpected into a short message with
a reference (the traceback goes to the log file, never to the terminal).

:func:`run` is the program's entry (``python -m core``): it keeps libraries' own chatter
(deprecation warnings, matplotlib's style-file notes) off the terminal, then calls :func:`main`.
A closed pipe (``python -m core models list | head``) ends the command quietly with status 141,
as it ends any Unix tool that the reader stopped listening to.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import traceback
import uuid

from core.platform.errors import AtelierError

CLOSED_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a tool whose reader closed the pipe
_OWN_LOGGERS = ("core", "atelier")
GROUPS = ("core.cli.datasets", "core.cli.eda", "core.cli.train", "core.cli.automl", "core.cli.models",
          "core.cli.predict", "core.cli.serve", "core.cli.retrain", "core.cli.projects")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description="Atelier without a browser.")
    parser.add_argument("--project", dest="global_project", metavar="NAME",
                        help="work in this project (default: ATELIER_PROJECT, else the default project)")
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
    if getattr(args, "global_project", None):
        os.environ["ATELIER_PROJECT"] = args.global_project  # read by Settings.load, and passed on to jobs
    try:
        code = int(args.handler(args) or 0)
        sys.stdout.flush()  # a reader that went away is noticed here, not at interpreter exit
        return code
    except BrokenPipeError:
        _silence_stdout()
        return CLOSED_PIPE
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


def run() -> int:
    """``python -m core``: :func:`main` with the terminal kept for Atelier's own messages."""
    quiet_terminal()
    return main()


def quiet_terminal() -> None:
    """Keep libraries' warnings and log notes off the terminal; Atelier's own and real errors still show.

    Deprecation and future warnings are ignored, other Python warnings go through logging, and the
    one stderr handler shows records from Atelier's loggers at WARNING and above but a library's only
    at ERROR and above (matplotlib logs its style files' pyparsing deprecations as warnings).
    """
    import warnings

    for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
        warnings.filterwarnings("ignore", category=category)
    logging.captureWarnings(True)
    root = logging.getLogger()
    if not any(getattr(h, "_atelier_terminal", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler.addFilter(_shown_on_terminal)
        handler._atelier_terminal = True  # type: ignore[attr-defined]
        root.addHandler(handler)


def _shown_on_terminal(record: logging.LogRecord) -> bool:
    if record.name == "atelier.cli":
        return False  # the unexpected-error traceback: for cli.log, the user has the reference
    own = record.name.split(".", 1)[0] in _OWN_LOGGERS
    return record.levelno >= (logging.WARNING if own else logging.ERROR)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush does not fail a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file descriptor (a test's captured stdout)
        pass


def _log_to_file(ref: str) -> None:
    try:
        from core.platform.config import Settings

        logs = Settings.load().home / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / "cli.log", "a", encoding="utf-8") as fh:
            fh.write(f"[ref {ref}]\n{traceback.format_exc()}\n")
    except Exception:  # the log is best effort; the user already has the reference
        logging.getLogger("atelier.cli").debug("could not write cli.log", exc_info=True)
