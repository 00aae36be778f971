"""HTTP validators (ETag, Last-Modified) and conditional-request evaluation (RFC 9110 §13).

Releases are immutable and every load gets a new release id (``smt.store.releases.new_release_id``): a release
resource or download is identified by the release id and its status, so its ETag is
``"<id>-<status>[-<variant>]"``, never the same for two contents, and it can be cached for as long as the
client likes once revalidated. ``If-None-Match`` takes precedence over ``If-Modified-Since``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

from smt.store.releases import ReleaseInfo

CACHE_CONTROL = "public, no-cache"
"""Clients may store the responses and must revalidate them (a 304 costs nothing)."""


@dataclass(frozen=True, slots=True)
class Validators:
    etag: str
    last_modified: datetime

    def headers(self) -> dict[str, str]:
        return {"ETag": self.etag, "Last-Modified": format_datetime(self.last_modified, usegmt=True),
                "Cache-Control": CACHE_CONTROL}


def file_time(path: Path) -> datetime:
    """Modification time of a file, to the second, in UTC."""
    return datetime.fromtimestamp(int(path.stat().st_mtime), UTC)


def release_validators(info: ReleaseInfo, variant: str | None = None) -> Validators:
    """Validators of a release resource. The release id is new at every load (so it stands for the content) and
    the status is in the tag; Last-Modified is the manifest's last change (load or status change)."""
    tag = f"{info.id}-{info.status}" + (f"-{variant}" if variant else "")
    return Validators(f'"{tag}"', info.modified)


def _etags(header: str) -> list[str]:
    return [tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()]


def not_modified(headers: Mapping[str, str], validators: Validators) -> bool:
    """True when the client's cached copy is current (answer 304)."""
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        tags = _etags(if_none_match)
        return "*" in tags or validators.etag in tags
    if_modified_since = headers.get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return validators.last_modified <= since
    return False
