"""A folder on this machine as the artifact store (the embedded default)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath

from core.platform.errors import NotFoundError
from core.platform.storage.base import ArtifactStore, check_key


class LocalArtifactStore(ArtifactStore):
    """A folder on this machine; writes go to a temp file, then ``os.replace``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.url = self.root.as_uri()

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*PurePosixPath(key).parts)

    def local_path(self, key: str) -> Path:
        """The file itself (no copy): local stores can be read in place."""
        path = self._path(check_key(key))
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
