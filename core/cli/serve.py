"""``python -m core serve [--host] [--port] [--workers]`` and ``python -m core serve keys create|list|revoke``."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator

from core.cli.common import open_workspace, print_json, print_table
from core.platform.errors import InvalidInputError
from core.serve import api_keys
from core.serve.deployment import DEFAULT_HOST, DEFAULT_PORT, base_url


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a whole number from 1 to 65535; got {text!r}")
    return int(text)


def _workers(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"--workers is a whole number from 1 up; got {text!r}")
    return int(text)


def register(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("serve", help="serve production models over HTTP; manage API keys")
    group.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    group.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    group.add_argument("--workers", type=_workers, default=1, help="worker processes (default 1)")
    group.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    group.set_defaults(handler=_serve)
    cmds = group.add_subparsers(dest="serve_command")
    keys = cmds.add_parser("keys", help="API keys of the HTTP API")
    kcmds = keys.add_subparsers(dest="keys_command", required=True)
    create = kcmds.add_parser("create", help="create a key (shown once)")
    create.add_argument("name", help="who or what will use the key")
    create.set_defaults(handler=_create)
    lst = kcmds.add_parser("list", help="list keys (never the keys themselves)")
    lst.add_argument("--all", action="store_true", help="revoked keys too")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(handler=_list)
    revoke = kcmds.add_parser("revoke", help="revoke a key by name (or by its shown prefix)")
    revoke.add_argument("name")
    revoke.set_defaults(handler=_revoke)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    ws = open_workspace()  # fails here, with its message, when the settings or the database are wrong
    ws.db.dispose()
    _check_address(args.host, args.port)
    print(f"Serving production models at {base_url(args.host, args.port)} (API docs at /docs); "
          "Ctrl+C stops.", file=sys.stderr)
    with _shared_metrics(args.workers):
        uvicorn.run("core.serve.api.app:create_app", factory=True, host=args.host, port=args.port,
                    workers=args.workers, log_level=args.log_level, access_log=False)
    return 0


@contextlib.contextmanager
def _shared_metrics(workers: int) -> Iterator[None]:
    """With several workers, a folder they all count into (``core.serve.api.metrics``), emptied before they
    start and removed after they stop; a folder already named by ``PROMETHEUS_MULTIPROC_DIR`` is used as is."""
    import os
    import shutil
    import tempfile

    from core.serve.api.metrics import MULTIPROC_ENV

    if workers < 2 or os.environ.get(MULTIPROC_ENV):
        yield
        return
    folder = tempfile.mkdtemp(prefix="atelier-serve-metrics-")
    os.environ[MULTIPROC_ENV] = folder  # the workers inherit it and import prometheus_client after
    try:
        yield
    finally:
        os.environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(folder, ignore_errors=True)


def _check_address(host: str, port: int) -> None:
    """Refuse, with a message, an address taken or not this machine's (uvicorn would only log it)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(infos[0][4])
    except OSError as exc:  # the port is taken, or the address is not this machine's
        raise InvalidInputError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}.",
                                hint="Choose another --port, or stop what is using it.") from exc


def _create(args: argparse.Namespace) -> int:
    created = api_keys.create_key(open_workspace(), args.name)
    print(f"Created API key {created.info.name!r}. Copy it now: it is shown only this once.", file=sys.stderr)
    print(created.key)
    return 0


def _list(args: argparse.Namespace) -> int:
    keys = api_keys.list_keys(open_workspace(), include_revoked=args.all)
    if args.json:
        print_json([{"name": k.name, "prefix": k.prefix, "created_at": k.created_at, "revoked_at": k.revoked_at}
                    for k in keys])
    elif not keys:
        print("No API keys: the API answers without one. Create one with: python -m core serve keys create NAME")
    else:
        import pandas as pd

        print_table(pd.DataFrame([{"name": k.name, "starts with": k.prefix + "…",
                                   "created": f"{k.created_at:%Y-%m-%d %H:%M}",
                                   "revoked": f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else ""}
                                  for k in keys]))
    return 0


def _revoke(args: argparse.Namespace) -> int:
    info = api_keys.revoke_key(open_workspace(), args.name)
    print(f"Revoked API key {info.name!r} ({info.prefix}…); requests with it are refused from now on.")
    return 0


__all__ = ["register"]
