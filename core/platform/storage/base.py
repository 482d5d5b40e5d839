"""The artifact store contract: four primitives per backend, checksums and errors written once.

Each store implements ``_put_file``, ``_get_file``, ``_delete`` and ``_list``; checksums,
atomicity rules and the translation of vendor errors live in :class:`ArtifactStore`.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from core.platform.errors import IntegrityError, InvalidInputError, NotFoundError, StorageError

CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class ArtifactRef:
    """What metadata records about a stored artifact."""

    key: str
    sha256: str
    size_bytes: int


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def check_key(key: str) -> str:
    parts = PurePosixPath(key).parts
    if not key or key.startswith("/") or ".." in parts:
        raise InvalidInputError(f"Artifact key {key!r} is not a relative path inside the store.")
    return key


class ArtifactStore(ABC):
    """Base class: byte and file level access with sha256 checks."""

    url: str

    # -- primitives -----------------------------------------------------
    @abstractmethod
    def _put_file(self, key: str, path: Path) -> None: ...

    @abstractmethod
    def _get_file(self, key: str, dest: Path) -> None: ...

    @abstractmethod
    def _delete(self, key: str) -> None: ...

    @abstractmethod
    def _list(self, prefix: str) -> list[str]: ...

    def check(self) -> None:
        """Raise StorageError if the store cannot be written and read back."""
        probe = f"_health/{os.getpid()}-{os.urandom(4).hex()}"
        self.put_bytes(probe, b"ok")
        self.delete(probe)

    # -- shared logic ---------------------------------------------------
    def put_file(self, key: str, path: Path) -> ArtifactRef:
        """Store a local file under ``key``; readers never see a partial file."""
        check_key(key)
        path = Path(path)
        sha = sha256_file(path)
        self._guard(lambda: self._put_file(key, path), f"write {key!r}")
        return ArtifactRef(key, sha, path.stat().st_size)

    def put_bytes(self, key: str, data: bytes) -> ArtifactRef:
        with tempfile.TemporaryDirectory(prefix="atelier-put-") as tmp:
            path = Path(tmp) / "blob"
            path.write_bytes(data)
            return self.put_file(key, path)

    def get_file(self, key: str, dest: Path, sha256: str | None = None) -> Path:
        """Copy the artifact to ``dest``; verify its checksum when given."""
        check_key(key)
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        self._guard(lambda: self._get_file(key, dest), f"read {key!r}")
        if sha256 is not None:
            actual = sha256_file(dest)
            if actual != sha256:
                dest.unlink(missing_ok=True)
                raise IntegrityError(
                    f"The stored file {key!r} does not match its recorded checksum "
                    f"(expected {sha256[:12]}…, found {actual[:12]}…): it was changed or damaged after it was saved.",
                    hint="Refusing to use it. Re-import the data or retrain the model.",
                )
        return dest

    def get_bytes(self, key: str, sha256: str | None = None) -> bytes:
        with tempfile.TemporaryDirectory(prefix="atelier-get-") as tmp:
            return self.get_file(key, Path(tmp) / "blob", sha256).read_bytes()

    def delete(self, key: str) -> None:
        self._guard(lambda: self._delete(check_key(key)), f"delete {key!r}")

    def list(self, prefix: str = "") -> list[str]:
        return self._guard(lambda: sorted(self._list(prefix)), f"list {prefix!r}")

    def exists(self, key: str) -> bool:
        return key in self.list(key)

    def _guard(self, action, what: str):
        try:
            return action()
        except (NotFoundError, StorageError, IntegrityError, InvalidInputError):
            raise
        except FileNotFoundError as exc:
            raise NotFoundError(f"The artifact store at {self.url} has no file for {what[5:]}.") from exc
        except Exception as exc:  # vendor errors are translated here, at the boundary
            raise StorageError(
                f"The artifact store at {self.url} could not {what}: {exc}",
                hint="Check ATELIER_ARTIFACTS_URL, the credentials and that the server is reachable.",
            ) from exc
