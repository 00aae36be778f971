"""HTTP paths of the publication resources (the routes in ``fhir_api.releases`` serve exactly these)."""

from __future__ import annotations

from urllib.parse import urlencode


def release_path(release_id: str) -> str:
    return f"/releases/{release_id}"


def download_path(release_id: str, fmt: str) -> str:
    return f"/releases/{release_id}/download/{fmt}"


def diff_path(url: str, old: str, new: str, fmt: str | None = None) -> str:
    query = {"url": url, "from": old, "to": new, **({"format": fmt} if fmt else {})}
    return "/releases/diff?" + urlencode(query)


def impact_path(url: str, old: str, new: str) -> str:
    return "/releases/impact?" + urlencode({"url": url, "from": old, "to": new})


def changes_path(url: str, since: str, offset: int, count: int) -> str:
    return "/changes?" + urlencode({"url": url, "since": since, "offset": offset, "count": count})
