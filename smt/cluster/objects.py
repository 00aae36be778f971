"""Release archives in an S3-compatible object store (``SMT_ARTEFACT_STORE=s3://bucket/prefix``), by checksum.

The writer puts each live archive at ``<prefix>/<sha256>.tar`` before its registry row is committed; a replica
gets it from there and falls back to the writer when the object is absent, unreadable or does not match its
checksum (the replica verifies every byte, as for the writer's route). boto3 reads the usual settings from the
environment: ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION`` and, for a server that is not
AWS (MinIO, Ceph, Garage…), ``AWS_ENDPOINT_URL``. Install it with ``pip install 'smt[s3]'``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from smt.errors import SmtError

log = logging.getLogger("smt.cluster")
ARTEFACT_STORE = "SMT_ARTEFACT_STORE"
CHUNK = 1 << 20


class ObjectStoreError(SmtError):
    """The object store refused or failed a request (unreachable, credentials, bucket missing…)."""


def _boto3() -> Any:
    try:
        import boto3
        from botocore.config import Config
    except ImportError:  # pragma: no cover - the extra is in the dev dependencies
        raise SmtError(f"{ARTEFACT_STORE} needs boto3: pip install 'smt[s3]'") from None
    return boto3.client("s3", config=Config(connect_timeout=5, read_timeout=60,
                                            retries={"max_attempts": 3, "mode": "standard"}))


def _errors(*others: type[Exception]) -> tuple[type[Exception], ...]:
    """botocore's errors (and ``others``): caught as one."""
    from botocore.exceptions import BotoCoreError, ClientError

    return BotoCoreError, ClientError, *others


class ObjectStore:
    """One bucket and key prefix of an S3-compatible store, holding archives named by their checksum."""

    def __init__(self, bucket: str, prefix: str, client: Any) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client
        self.present: set[str] | None = None
        """Checksums in the store: listed once per process (one request per 1,000 keys rather than one per
        archive), then kept up to date by ``upload``."""

    @classmethod
    def from_env(cls) -> ObjectStore | None:
        """The store ``SMT_ARTEFACT_STORE`` names, or None when it is not set."""
        url = os.environ.get(ARTEFACT_STORE)
        if not url:
            return None
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise SmtError(f"{ARTEFACT_STORE}={url}: give s3://bucket or s3://bucket/prefix")
        return cls(parts.netloc, parts.path, _boto3())

    def key(self, checksum: str) -> str:
        return f"{self.prefix}/{checksum}.tar" if self.prefix else f"{checksum}.tar"

    def has(self, checksum: str) -> bool:
        if self.present is None:
            self.present = self._listed()
        return checksum in self.present

    def _listed(self) -> set[str]:
        """The checksums of the archives under the prefix."""
        start = f"{self.prefix}/" if self.prefix else ""
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=start)
            keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
        except _errors() as exc:
            raise ObjectStoreError(f"s3://{self.bucket}/{start}: {exc}") from None
        return {key[len(start):-len(".tar")] for key in keys if key.endswith(".tar") and "/" not in key[len(start):]}

    def upload(self, archive: Path, checksum: str) -> bool:
        """Put ``archive`` at its key unless it is there; True if it was uploaded now."""
        if self.has(checksum):
            return False
        try:
            self.client.upload_file(str(archive), self.bucket, self.key(checksum),
                                    ExtraArgs={"ContentType": "application/x-tar", "Metadata": {"sha256": checksum}})
        except _errors(OSError) as exc:
            raise ObjectStoreError(f"s3://{self.bucket}/{self.key(checksum)}: upload failed: {exc}") from None
        if self.present is not None:
            self.present.add(checksum)
        return True

    def download(self, checksum: str) -> Iterator[bytes] | None:
        """The archive's bytes as they arrive, or None when the store does not have it."""
        try:
            answer = self.client.get_object(Bucket=self.bucket, Key=self.key(checksum))
        except _errors() as exc:
            if _status(exc) == 404:
                return None
            raise ObjectStoreError(f"s3://{self.bucket}/{self.key(checksum)}: {exc}") from None
        return self._chunks(answer["Body"], checksum)

    def _chunks(self, body: Any, checksum: str) -> Iterator[bytes]:
        try:
            yield from body.iter_chunks(CHUNK)
        except _errors(OSError) as exc:
            raise ObjectStoreError(f"s3://{self.bucket}/{self.key(checksum)}: download failed: {exc}") from None
        finally:
            body.close()


def _status(exc: Exception) -> int | None:
    """404 when the error says the key is absent (not the bucket: that is a configuration error), else the HTTP
    status of the answer (None: no answer)."""
    response = getattr(exc, "response", None) or {}
    code = response.get("Error", {}).get("Code")
    if code in ("404", "NoSuchKey", "NotFound"):
        return 404
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return None if status == 404 else status
