"""Artifact stores: where dataset files, models, reports and prediction
outputs live.  Chosen by URL scheme (``file://…`` or ``s3://bucket/prefix``).

Each store implements four primitives (``_put_file``, ``_get_file``,
``_delete``, ``_list``); checksums, atomicity rules and error translation are
written once in :class:`ArtifactStore`.  Nothing above this module sees boto3.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit
from urllib.request import url2pathname

from core.config import Settings
from core.errors import IntegrityError, InvalidInputError, NotFoundError, StorageError

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


def _check_key(key: str) -> str:
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
        _check_key(key)
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
        _check_key(key)
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
        self._guard(lambda: self._delete(_check_key(key)), f"delete {key!r}")

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


class LocalArtifactStore(ArtifactStore):
    """A folder on this machine; writes go to a temp file, then ``os.replace``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.url = self.root.as_uri()

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*PurePosixPath(key).parts)

    def local_path(self, key: str) -> Path:
        """The file itself (no copy): local stores can be read in place."""
        path = self._path(_check_key(key))
        if not path.is_file():
            raise NotFoundError(f"The artifact store at {self.url} has no file for {key!r}.")
        return path

    def _put_file(self, key: str, path: Path) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        os.close(fd)
        try:
            shutil.copyfile(path, tmp)
            os.replace(tmp, target)
        finally:
            Path(tmp).unlink(missing_ok=True)

    def _get_file(self, key: str, dest: Path) -> None:
        shutil.copyfile(self._path(key), dest)

    def _delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def _list(self, prefix: str) -> list[str]:
        if not self.root.exists():
            return []
        keys = (p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file())
        return [k for k in keys if k.startswith(prefix) and not PurePosixPath(k).name.startswith(".tmp-")]


class S3ArtifactStore(ArtifactStore):
    """AWS S3, Cloudflare R2 or MinIO.  A single PUT is atomic to readers."""

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None, region: str | None = None):
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.url = f"s3://{bucket}/{self.prefix}".rstrip("/")
        options: dict[str, object] = {"retries": {"max_attempts": 3, "mode": "standard"}, "connect_timeout": 5}
        if endpoint_url:
            # R2 and MinIO reject the default checksums boto3 >= 1.36 sends.
            options |= {
                "request_checksum_calculation": "when_required",
                "response_checksum_validation": "when_required",
                "s3": {"addressing_style": "path"},
            }
            self.url += f" (endpoint {endpoint_url})"
        self._client = boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region or None, config=Config(**options)
        )

    def _full(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _put_file(self, key: str, path: Path) -> None:
        self._client.upload_file(str(path), self.bucket, self._full(key))

    def _get_file(self, key: str, dest: Path) -> None:
        from botocore.exceptions import ClientError

        try:
            self._client.download_file(self.bucket, self._full(key), str(dest))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey"}:
                raise FileNotFoundError(key) from exc
            raise

    def _delete(self, key: str) -> None:
        self._client.delete_object(Bucket=self.bucket, Key=self._full(key))

    def _list(self, prefix: str) -> list[str]:
        strip = len(self.prefix) + 1 if self.prefix else 0
        keys: list[str] = []
        pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self._full(prefix))
        for page in pages:
            keys.extend(obj["Key"][strip:] for obj in page.get("Contents", []))
        return keys


def _local_from_url(url: str, settings: Settings) -> ArtifactStore:
    parts = urlsplit(url)
    return LocalArtifactStore(Path(url2pathname(parts.path)) if parts.path else settings.home / "artifacts")


def _s3_from_url(url: str, settings: Settings) -> ArtifactStore:
    parts = urlsplit(url)
    if not parts.netloc:
        raise InvalidInputError(f"The artifact URL {url!r} names no bucket.", hint="Use s3://bucket/optional/prefix.")
    return S3ArtifactStore(parts.netloc, parts.path, settings.s3_endpoint_url, settings.s3_region)


STORES = {"file": _local_from_url, "s3": _s3_from_url}


def open_store(settings: Settings) -> ArtifactStore:
    """The artifact store named by ``settings.artifacts_url``."""
    scheme = urlsplit(settings.artifacts_url).scheme or "file"
    if scheme not in STORES:
        raise InvalidInputError(
            f"Unknown artifact store scheme {scheme!r} in ATELIER_ARTIFACTS_URL.",
            hint=f"Use one of: {', '.join(s + '://' for s in STORES)}.",
        )
    return STORES[scheme](settings.artifacts_url, settings)
