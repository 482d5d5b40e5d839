"""Artifact stores: where dataset files, models, reports and prediction outputs live.

Chosen by URL scheme (``file://…`` or ``s3://bucket/prefix``) through :data:`STORES`; an unknown
scheme fails and lists the known ones.  ``base`` holds the contract, ``local`` and ``s3`` the
backends, ``keys`` the one layout of keys inside a store.  Nothing above this package sees boto3.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from core.platform.config import Settings
from core.platform.errors import InvalidInputError
from core.platform.storage.base import ArtifactRef, ArtifactStore, sha256_file
from core.platform.storage.local import LocalArtifactStore
from core.platform.storage.s3 import S3ArtifactStore

__all__ = ["STORES", "ArtifactRef", "ArtifactStore", "LocalArtifactStore", "S3ArtifactStore", "open_store",
           "sha256_file"]


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
