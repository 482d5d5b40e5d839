"""Partitioned Parquet in the artifact store: many part files behind one manifest artifact.

A partitioned artifact is a small JSON manifest stored under a key ending in
:data:`MANIFEST_SUFFIX`; it lists its parts (each an ordinary artifact with its own sha256) in
row order.  Metadata records the manifest's key and checksum exactly as for a single file, so a
dataset version or a prediction run can point at either.  :func:`local_files` is the one reader:
one verified local path for a single file, the parts' paths, in order, for a manifest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from core.platform.errors import IntegrityError
from core.platform.storage import ArtifactRef, sha256_file
from core.platform.workspace import Workspace

__all__ = ["MANIFEST_SUFFIX", "delete", "is_partitioned", "local_files", "manifest", "parts_digest", "put_parts"]

MANIFEST_SUFFIX = ".parts.json"
_FORMAT = "atelier-parts/1"


def is_partitioned(key: str) -> bool:
    return key.endswith(MANIFEST_SUFFIX)


def parts_digest(shas: Sequence[str]) -> str:
    """A digest naming a list of parts by their checksums, in order."""
    return hashlib.sha256("\n".join(shas).encode()).hexdigest()


def put_parts(ws: Workspace, manifest_key: str, files: Sequence[Path], rows: Sequence[int], kind: str,
              part_key=None) -> ArtifactRef:
    """Store ``files`` as the parts of ``manifest_key`` (in order), then the manifest; returns its ref.

    ``part_key(i, sha256)`` names the i-th part (default: beside the manifest).  The manifest is
    written last, so a failure midway leaves no manifest, and readers see nothing.
    """
    if not is_partitioned(manifest_key):
        raise ValueError(f"a manifest key ends in {MANIFEST_SUFFIX}: {manifest_key!r}")
    base = manifest_key[: -len(MANIFEST_SUFFIX)]
    entries, stored = [], []
    try:
        for i, (path, n) in enumerate(zip(files, rows, strict=True)):
            sha = sha256_file(path)
            key = part_key(i, sha) if part_key else f"{base}/part-{i:05d}.parquet"
            if ws.has_artifact(key):
                ref = ws.artifact(key)
            else:
                ref = ws.put_file(key, path, kind=kind)
                stored.append(key)
            entries.append({"key": ref.key, "sha256": ref.sha256, "size_bytes": ref.size_bytes, "rows": int(n)})
        body = {"format": _FORMAT, "rows": int(sum(rows)), "parts": entries}
        return ws.put_bytes(manifest_key, json.dumps(body, indent=1).encode(), kind=kind)
    except BaseException:
        for key in stored:  # no half output: the parts this call stored go with it
            try:
                ws.delete_artifact(key)
            except Exception:  # noqa: S110 - the original error matters more
                pass
        raise


def manifest(ws: Workspace, key: str) -> dict:
    body = json.loads(ws.get_bytes(key))
    if body.get("format") != _FORMAT:
        raise IntegrityError(f"The stored manifest {key!r} is not a list of Parquet parts.",
                             hint="Re-import the data.")
    return body


def local_files(ws: Workspace, key: str) -> list[Path]:
    """Verified local Parquet files of the artifact, in row order (one, or its parts)."""
    if not is_partitioned(key):
        return [ws.local_path(key)]
    return [ws.local_path(p["key"]) for p in manifest(ws, key)["parts"]]


def delete(ws: Workspace, key: str) -> None:
    """Delete the artifact; for a manifest, its parts first (parts shared with another manifest stay)."""
    if is_partitioned(key) and ws.has_artifact(key):
        mine = [p["key"] for p in manifest(ws, key)["parts"]]
        ws.delete_artifact(key)
        still_used = set()
        for other in ws.artifact_keys():
            if is_partitioned(other) and other != key:
                still_used.update(p["key"] for p in manifest(ws, other)["parts"])
        for part in mine:
            if part not in still_used:
                ws.delete_artifact(part)
        return
    ws.delete_artifact(key)
