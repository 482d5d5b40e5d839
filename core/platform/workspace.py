"""The workspace: settings, artifact store and metadata database together.

Every operation in ``core`` takes a :class:`Workspace`.  It also owns the one
rule about artifacts: each stored file's sha256 goes into the ``artifacts``
table when written and is checked when read back.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select

from core.platform.config import Settings
from core.platform.errors import IntegrityError, NotFoundError
from core.platform.metadata import Database
from core.platform.metadata.models import Artifact
from core.platform.storage import ArtifactRef, ArtifactStore, LocalArtifactStore, open_store, sha256_file


@dataclass
class Workspace:
    # Who acts and in which project come from settings.user / settings.project (ATELIER_USER,
    # ATELIER_PROJECT), resolved and checked on each call by core.platform.access.
    settings: Settings
    store: ArtifactStore
    db: Database

    @classmethod
    def open(cls, settings: Settings | None = None, *, migrate: bool = True) -> Workspace:
        """Open the configured store and database, creating the schema if needed."""
        settings = settings or Settings.load()
        settings.home.mkdir(parents=True, exist_ok=True)
        db = Database(settings.database_url, pooler=settings.database_pooler)
        if migrate:
            db.upgrade()
        return cls(settings, open_store(settings), db)

    def check(self) -> dict[str, str]:
        """Test both connections; returns 'ok' or the reason for each."""
        status = {}
        for name, probe in (("database", self.db.check), ("artifacts", self.store.check)):
            try:
                probe()
                status[name] = "ok"
            except Exception as exc:  # shown on the Settings page, never raised
                status[name] = str(exc)
        return status

    # -- artifacts with recorded checksums ---------------------------------
    def put_file(self, key: str, path: Path, kind: str) -> ArtifactRef:
        ref = self.store.put_file(key, path)
        self._record(ref, kind)
        return ref

    def put_bytes(self, key: str, data: bytes, kind: str) -> ArtifactRef:
        ref = self.store.put_bytes(key, data)
        self._record(ref, kind)
        return ref

    def _record(self, ref: ArtifactRef, kind: str) -> None:
        with self.db.session() as s:
            s.merge(Artifact(key=ref.key, sha256=ref.sha256, size_bytes=ref.size_bytes, kind=kind))

    def artifact(self, key: str) -> ArtifactRef:
        with self.db.session() as s:
            row = s.get(Artifact, key)
            if row is None:
                raise NotFoundError(f"No artifact {key!r} is recorded in the metadata store.")
            return ArtifactRef(row.key, row.sha256, row.size_bytes)

    def has_artifact(self, key: str) -> bool:
        with self.db.session() as s:
            return s.get(Artifact, key) is not None

    def get_bytes(self, key: str) -> bytes:
        """The artifact's bytes, verified against the recorded checksum."""
        ref = self.artifact(key)
        data = self.store.get_bytes(key, ref.sha256)
        return data

    def local_path(self, key: str) -> Path:
        """A local, verified file for the artifact.

        Local stores are read in place (verified once per process and size);
        remote ones are downloaded into a cache named by the checksum, so a
        second read costs nothing.
        """
        ref = self.artifact(key)
        if isinstance(self.store, LocalArtifactStore):
            path = self.store.local_path(key)
            _verify_once(path, ref.sha256)
            return path
        cache = self.settings.home / "cache" / ref.sha256
        if cache.is_file():
            return cache
        cache.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache.parent) as tmp:
            part = self.store.get_file(key, Path(tmp) / "part", ref.sha256)
            part.replace(cache)
        return cache

    def delete_artifact(self, key: str) -> None:
        self.store.delete(key)
        with self.db.session() as s:
            s.execute(delete(Artifact).where(Artifact.key == key))

    def artifact_keys(self, prefix: str = "") -> list[str]:
        with self.db.session() as s:
            return list(s.scalars(select(Artifact.key).where(Artifact.key.startswith(prefix))))


_VERIFIED: dict[tuple[str, int, float], str] = {}


def _verify_once(path: Path, sha256: str) -> None:
    stat = path.stat()
    token = (str(path), stat.st_size, stat.st_mtime)
    if _VERIFIED.get(token) == sha256:
        return
    actual = sha256_file(path)
    if actual != sha256:
        raise IntegrityError(
            f"The stored file {path.name!r} does not match its recorded checksum: it was changed after it was saved.",
            hint="Refusing to use it. Re-import the data or retrain the model.",
        )
    _VERIFIED[token] = sha256


__all__ = ["Workspace"]
