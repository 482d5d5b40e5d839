"""AWS S3, Cloudflare R2 or MinIO as the artifact store; boto3 is imported only here."""

from __future__ import annotations

from pathlib import Path

from core.platform.storage.base import ArtifactStore


def s3_client(endpoint_url: str | None = None, region: str | None = None):
    """A boto3 S3 client configured as the artifact store's is (R2/MinIO-safe checksums, path style,
    retries, a short connect timeout); credentials from the standard AWS variables."""
    import boto3
    from botocore.config import Config

    options: dict[str, object] = {"retries": {"max_attempts": 3, "mode": "standard"}, "connect_timeout": 5}
    if endpoint_url:
        # R2 and MinIO reject the default checksums boto3 >= 1.36 sends.
        options |= {
            "request_checksum_calculation": "when_required",
            "response_checksum_validation": "when_required",
            "s3": {"addressing_style": "path"},
        }
    return boto3.client("s3", endpoint_url=endpoint_url or None, region_name=region or None, config=Config(**options))


class S3ArtifactStore(ArtifactStore):
    """AWS S3, Cloudflare R2 or MinIO.  A single PUT is atomic to readers."""

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None, region: str | None = None):
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.url = f"s3://{bucket}/{self.prefix}".rstrip("/")
        if endpoint_url:
            self.url += f" (endpoint {endpoint_url})"
        self._client = s3_client(endpoint_url, region)

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
