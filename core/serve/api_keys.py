"""API keys of the HTTP prediction API: created, listed, revoked and checked.

A key is ``atl_`` and 43 random URL-safe characters, shown once when it is created; the metadata
store keeps only its sha256 (a random key of 256 bits needs no slow hash: nothing can be guessed
from its digest) and its first characters, so that a person can tell keys apart.  Keys are global
until projects exist; the table has a ``project`` column for then.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError as DBIntegrityError

from core.platform.errors import ConflictError, InvalidInputError, NotFoundError
from core.platform.metadata.models import ApiKey, utcnow
from core.platform.workspace import Workspace

__all__ = ["ApiKeyInfo", "CreatedKey", "active_hashes", "create_key", "hash_key", "list_keys", "revoke_key"]

PREFIX = "atl_"
SHOWN_CHARS = 8  # of the key, after the prefix, kept to tell keys apart
NAME_MAX = 100


@dataclass(frozen=True)
class ApiKeyInfo:
    """One API key as plain data (never the key itself)."""

    id: int
    name: str
    prefix: str
    project: str | None
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class CreatedKey:
    """A new key: ``key`` is shown once and never stored."""

    info: ApiKeyInfo
    key: str


def _info(row: ApiKey) -> ApiKeyInfo:
    return ApiKeyInfo(row.id, row.name, row.prefix, row.project, row.created_at, row.revoked_at)


def hash_key(key: str) -> str:
    """The stored form of ``key``: its sha256, in hex."""
    return hashlib.sha256(key.strip().encode("utf-8")).hexdigest()


def _name(name: str) -> str:
    cleaned = " ".join(str(name or "").split())
    if not cleaned:
        raise InvalidInputError("An API key needs a name, such as the program that will use it.")
    if len(cleaned) > NAME_MAX:
        raise InvalidInputError(f"The API key name is {len(cleaned)} characters long; the limit is {NAME_MAX}.")
    return cleaned


def create_key(ws: Workspace, name: str) -> CreatedKey:
    """Create an API key named ``name``; the key is in the result, and only there."""
    name = _name(name)
    with ws.db.session() as s:
        taken = s.scalar(select(ApiKey.id).where(ApiKey.name == name, ApiKey.revoked_at.is_(None)))
        if taken is not None:
            raise ConflictError(f"An active API key is already named {name!r}.",
                                hint="Choose another name, or revoke that key first.")
    key = PREFIX + secrets.token_urlsafe(32)
    try:
        with ws.db.session() as s:
            row = ApiKey(name=name, prefix=key[: len(PREFIX) + SHOWN_CHARS], key_hash=hash_key(key))
            s.add(row)
            s.flush()
            return CreatedKey(_info(row), key)
    except DBIntegrityError as exc:  # pragma: no cover - two equal 256-bit keys
        raise ConflictError("The new key clashed with an existing one.", hint="Try again.") from exc


def list_keys(ws: Workspace, *, include_revoked: bool = False) -> list[ApiKeyInfo]:
    """The API keys, oldest first (active ones only unless ``include_revoked``)."""
    query = select(ApiKey).order_by(ApiKey.id)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    with ws.db.session() as s:
        return [_info(row) for row in s.scalars(query)]


def revoke_key(ws: Workspace, name_or_prefix: str) -> ApiKeyInfo:
    """Revoke the active key with this name (or whose shown prefix this is); it stops working at once."""
    wanted = " ".join(str(name_or_prefix or "").split())
    with ws.db.session() as s:
        rows = list(s.scalars(select(ApiKey).where(ApiKey.revoked_at.is_(None))))
        found = [r for r in rows if r.name == wanted] or [r for r in rows if wanted and r.prefix.startswith(wanted)]
        if not found:
            known = ", ".join(repr(r.name) for r in rows[:8])
            raise NotFoundError(f"There is no active API key named {wanted!r}.",
                                hint=f"Active keys: {known}." if known else "No API key is active.")
        if len(found) > 1:
            raise ConflictError(f"{len(found)} active keys start with {wanted!r}: give the key's name instead.")
        row = found[0]
        row.revoked_at = utcnow()
        s.flush()
        return _info(row)


def active_hashes(ws: Workspace) -> tuple[frozenset[str], bool]:
    """The digests of every active key (what a server checks a request's key against), and whether
    any key was ever created: revoking the last key must not open the server to everyone."""
    with ws.db.session() as s:
        rows = s.execute(select(ApiKey.key_hash, ApiKey.revoked_at)).all()
    return frozenset(h for h, revoked in rows if revoked is None), bool(rows)


def matches(key: str, hashes: frozenset[str]) -> bool:
    """Whether ``key`` is one of the active keys, compared in constant time."""
    digest = hash_key(key)
    return any(hmac.compare_digest(digest, h) for h in hashes)
