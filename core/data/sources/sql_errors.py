"""A database driver's exception as an Atelier error whose message says what to fix.

Shared by both SQL readers (SQLAlchemy rows and the PostgreSQL Arrow path): the drivers word
their failures differently, so errors are recognised by what their first line says.  The
password is masked wherever the driver echoes it.
"""

from __future__ import annotations

import re

from core.data.sources.sql_check import BOUNDARY_NOTE
from core.platform.errors import AtelierError, InvalidInputError, ResourceError, StorageError

__all__ = ["arrow_errors", "translate"]

# ADBC prefixes its messages with a status code and the library ("IO: [libpq] Failed to connect: …",
# "INVALID_ARGUMENT: [libpq] Failed to execute query: could not begin COPY: ERROR:  …", and while
# reading "[libpq] Execution error [PGRES_FATAL_ERROR]: ERROR:  …").
_ADBC_PREFIX = re.compile(r"^(?:[A-Z_]+: )?(?:\[libpq\] )?(?:Failed to [a-z ]+: |Execution error \[[A-Z_]+\]: )?"
                          r"(?:could not begin COPY: )?(?:ERROR:\s+)?")


def _from_adbc(exc: BaseException) -> bool:
    return isinstance(exc, arrow_errors()) or type(exc).__module__.startswith("pyarrow")


def arrow_errors() -> tuple[type[BaseException], ...]:
    """The exception classes of the ADBC driver manager, when it is installed (else none)."""
    try:
        from adbc_driver_manager import Error
    except ImportError:
        return ()
    return (Error,)


def first_line(exc: BaseException, secret: str | None) -> str:
    """The first line of the driver's message, without ADBC's prefix, the password masked."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    if _from_adbc(orig):
        text = _ADBC_PREFIX.sub("", text)
    if secret:
        text = text.replace(secret, "***")
    return text.rstrip(".")


def translate(exc: BaseException, *, where: str, password_secret: str | None, secret: str | None,
              rows: int = 0) -> AtelierError:
    """A driver's exception as a message that says what to fix (never the password).

    ``where`` is the URL without its password; ``rows`` how many rows had arrived (a connection
    lost after some rows is reported as such).
    """
    from sqlalchemy.exc import DBAPIError, ProgrammingError

    message = first_line(exc, secret)
    low = message.lower()
    adbc = _from_adbc(exc)
    if any(s in low for s in ("password authentication failed", "access denied for user", "authentication failed",
                              "no password supplied", "password is required")) \
            or re.search(r'role "[^"]*" does not exist', low):
        return InvalidInputError(
            f"The database at {where} refused the login: {message}.",
            hint=(f"Check the user name in the URL and the password in the secret {password_secret!r}."
                  if password_secret else "Check the user name, and name the secret that holds the password."),
        )
    if any(s in low for s in ("statement timeout", "max_statement_time", "maximum statement execution time",
                              "interrupted", "query execution was interrupted")):
        return ResourceError(
            f"The query ran longer than the statement timeout and was stopped by the database: {message}.",
            hint="Raise the statement timeout, or make the query cheaper (filter rows, select fewer columns).",
        )
    if any(s in low for s in ("read-only transaction", "read only transaction", "readonly database",
                              "query_only", "read_only")):
        return InvalidInputError(
            f"The database refused a write: {message}.",
            hint="Only reading queries can be imported. " + BOUNDARY_NOTE,
        )
    if rows and any(s in low for s in ("closed the connection", "lost connection", "terminating connection",
                                       "server has gone away", "connection reset", "consuming input failed",
                                       "connection is closed", "admin_shutdown")):
        return StorageError(
            f"The connection to {where} was lost after {rows:,} rows: {message}. Nothing was saved.",
            hint="Check that the database is up, then import again.",
        )
    if any(s in low for s in ("timeout expired", "timed out", "can't connect", "connection refused",
                              "could not connect", "could not translate host name", "name or service not known",
                              "no route to host", "connection to server", "unable to open database",
                              "network is unreachable", "closed the connection", "lost connection")):
        return StorageError(
            f"The database at {where} cannot be reached: {message}.",
            hint="Check the host, port and database name, that the server runs and accepts connections from "
            "this machine (firewall, allow-list), and that the URL's driver matches the server.",
        )
    if any(s in low for s in ("no such column", "no such table", "unknown column", "doesn't exist", "syntax")):
        return InvalidInputError(f"The database refused the query: {message}.",
                                 hint="Fix the SQL; try it in your database's own client first.")
    if "does not exist" in low or "unknown database" in low:
        return InvalidInputError(f"The database at {where} says: {message}.",
                                 hint="Check the database, schema, table and column names.")
    refused = isinstance(exc, ProgrammingError) or (adbc and type(exc).__name__ == "ProgrammingError")
    if refused or (isinstance(exc, DBAPIError) and "syntax" in low):
        return InvalidInputError(f"The database refused the query: {message}.",
                                 hint="Fix the SQL; try it in your database's own client first.")
    if isinstance(exc, DBAPIError) or adbc:
        return StorageError(f"The database at {where} reported an error: {message}.")
    return StorageError(f"Reading from {where} failed: {message}.")
