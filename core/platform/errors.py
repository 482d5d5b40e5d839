"""Every error a user can see.

Each class carries a message a person can act on and, where useful, a hint.
Each also inherits the builtin it specialises, so ``except ValueError`` in a
caller still works.  Pages show ``str(err)`` and ``err.hint``; the CLI prints
them to stderr and exits non-zero.  Anything *not* an ``AtelierError`` is a bug.
"""

from __future__ import annotations


class AtelierError(Exception):
    """Base class: ``message`` says what went wrong, ``hint`` what to do."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message

    def user_text(self) -> str:
        """Message and hint as one paragraph, for a terminal or a log."""
        return f"{self.message}\n{self.hint}" if self.hint else self.message


class InvalidInputError(AtelierError, ValueError):
    """The user's file, name, parameter or choice cannot be used as given."""


class NotFoundError(AtelierError, LookupError):
    """A dataset, version, model or job that does not exist."""


class ConflictError(AtelierError, ValueError):
    """The action clashes with what is stored (a name taken, a stage rule)."""


class PermissionDeniedError(AtelierError, PermissionError):
    """The acting user's role in the project does not allow the action."""


class StorageError(AtelierError, OSError):
    """The artifact store or the metadata database cannot be used."""


class IntegrityError(AtelierError, ValueError):
    """Stored bytes do not match their recorded checksum or are untrusted."""


class ResourceError(AtelierError, MemoryError):
    """The work would not fit in the memory or time available."""


class JobCancelledError(AtelierError):
    """Raised inside a background job when the user asked it to stop."""
