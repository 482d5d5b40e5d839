"""API keys of the HTTP prediction API: created, listed, revoked and checked.

A key is ``atl_`` and 43 random URL-safe characters, shown once when it is created; the metadata
store keeps only its sha256 (a random key of 256 bits needs no slow hash: nothing can be guessed
from its digest) and its first characters, so that a person can tell keys apart.

A key belongs to the project it was created in, and a server accepts only the keys of the project it
serves: a key of another project is "not valid" there, as a mistyped one.  Keys from before
projects belong to the default project.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError as DBIntegrityError

from core.platform import access
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


def _info(row: ApiKey, project: str | None) -> ApiKeyInfo:
    return ApiKeyInfo(row.id, row.name, row.prefix, project, row.created_at, row.revoked_at)


def _mine(ws: Workspace):
    """A filter on the keys of the workspace's project."""
    return access.in_project(ApiKey.project_id, ws)


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
    project = access.current_project(ws)
    access.require(ws, "promote", project)  # a key serves the project's models: who deploys them makes it
    with ws.db.session() as s:
        taken = s.scalar(select(ApiKey.id).where(ApiKey.name == name, ApiKey.revoked_at.is_(None), _mine(ws)))
        if taken is not None:
            raise ConflictError(f"An active API key is already named {name!r}.",
                                hint="Choose another name, or revoke that key first.")
    key = PREFIX + secrets.token_urlsafe(32)
    try:
        with ws.db.session() as s:
            row = ApiKey(name=name, prefix=key[: len(PREFIX) + SHOWN_CHARS], key_hash=hash_key(key),
                         project_id=project.id)
            s.add(row)
            s.flush()
            created = CreatedKey(_info(row, project.name), key)
    except DBIntegrityError as exc:  # pragma: no cover - two equal 256-bit keys
        raise ConflictError("The new key clashed with an existing one.", hint="Try again.") from exc
    access.audit(ws, "create_api_key", f"{name} ({created.info.prefix}…)", project=project)
    return created


def list_keys(ws: Workspace, *, include_revoked: bool = False) -> list[ApiKeyInfo]:
    """The project's API keys, oldest first (active ones only unless ``include_revoked``)."""
    project = access.current_project(ws)
    query = select(ApiKey).where(_mine(ws)).order_by(ApiKey.id)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    with ws.db.session() as s:
        return [_info(row, project.name) for row in s.scalars(query)]


def revoke_key(ws: Workspace, name_or_prefix: str) -> ApiKeyInfo:
    """Revoke the active key with this name (or whose shown prefix this is); it stops working at once."""
    wanted = " ".join(str(name_or_prefix or "").split())
    project = access.current_project(ws)
    access.require(ws, "promote", project)
    with ws.db.session() as s:
        rows = list(s.scalars(select(ApiKey).where(ApiKey.revoked_at.is_(None), _mine(ws))))
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
        revoked = _info(row, project.name)
    access.audit(ws, "revoke_api_key", f"{revoked.name} ({revoked.prefix}…)", project=project)
    return revoked


def active_hashes(ws: Workspace) -> tuple[frozenset[str], bool]:
    """The digests of the project's active keys (what a server checks a request's key against), and
    whether any key of it was ever created: revoking the last key must not open the server to everyone."""
    with ws.db.session() as s:
        rows = s.execute(select(ApiKey.key_hash, ApiKey.revoked_at).where(_mine(ws))).all()
    return frozenset(h for h, revoked in rows if revoked is None), bool(rows)


def matches(key: str, hashes: frozenset[str]) -> bool:
    """Whether ``key`` is one of the active keys, compared in constant time."""
    digest = hash_key(key)
    return any(hmac.compare_digest(digest, h) for h in hashes)
