"""Publication routes: release listing and manifests, downloads, diffs, vendor sync and the Atom feed.

``GET /releases``, ``GET /releases/{id}`` (manifest with downloads and their SHA-256),
``GET /releases/{id}/download/{format}``, ``GET /releases/{id}/SHA256SUMS``,
``GET /releases/diff?url=&from=&to=&format=json|csv|html``, ``GET /changes?url=&since=&count=&offset=`` and
``GET /feed.xml``. Responses carry ETag and Last-Modified and answer 304 to a matching conditional request;
downloads answer HEAD and byte ranges (``fhir_api.ranges``).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from fhir_api.answers import status_of
from fhir_api.deps import visible_registry
from fhir_api.error_docs import detail_responses
from fhir_api.ranges import RANGE_RESPONSES, RangeFileResponse
from smt.errors import SmtError
from smt.publish.changes import DiffReport, changes_since, diff_releases, previous_release
from smt.publish.diff_render import release_ref, report_csv, report_html, report_json
from smt.publish.exports import Exporter, checksums
from smt.publish.feed import MEDIA_TYPE, PUBLISHED, Publication, feed_xml
from smt.publish.http_cache import Validators, not_modified, release_validators
from smt.publish.impact import feed_impact, impact, state_tag
from smt.publish.impact_render import report_html as impact_report_html
from smt.publish.links import changes_path, diff_path, download_path, release_path
from smt.releases.registry import Registry
from smt.store.releases import ReleaseInfo
from smt.terminology.parameters import MAX_OFFSET

router = APIRouter(tags=["publication"])
MAX_PAGE = 10_000
"""Changes of one ``/changes`` page at most."""
MAX_NAME = 2048
"""Characters of a URL, version, kind or status parameter at most."""
Name = Annotated[str, Query(max_length=MAX_NAME)]
OptionalName = Annotated[str | None, Query(max_length=MAX_NAME)]


def exporter(request: Request) -> Exporter:
    """The app's download generator (created on first use)."""
    found = getattr(request.app.state, "exporter", None)
    if found is None:
        found = request.app.state.exporter = Exporter(request.app.state.registry)
    return found


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def conditional(request: Request, validators: Validators) -> Response | None:
    """A 304 when the client's copy is current, else None."""
    if not_modified(request.headers, validators):
        return Response(status_code=304, headers=validators.headers())
    return None


def json_response(data: object, validators: Validators | None = None) -> Response:
    headers = validators.headers() if validators else None
    return Response(orjson.dumps(data, option=orjson.OPT_INDENT_2), media_type="application/json", headers=headers)


def _release(registry: Registry, release_id: str) -> ReleaseInfo:
    found = next((r for r in registry.releases() if r.id == release_id), None)
    if found is None:
        raise HTTPException(404, f"no release with id {release_id}")
    return found


def _summary(info: ReleaseInfo, base: str) -> dict:
    return {"id": info.id, "kind": info.kind, "url": info.url, "version": info.version, "status": info.status,
            "title": info.title, "loaded_at": info.loaded_at, "count": info.count, "href": base + release_path(info.id)}


def _listing_validators(releases: list[ReleaseInfo], extra: bytes = b"") -> Validators:
    digest = hashlib.sha256(extra)
    for info in releases:
        digest.update(f"{info.id}:{info.status};".encode())
    times = [info.modified for info in releases]
    return Validators(f'"{digest.hexdigest()[:32]}"', max(times, default=datetime.fromtimestamp(0, UTC)))


@router.get("/releases", responses=detail_responses())
def list_releases(request: Request, url: OptionalName = None, kind: OptionalName = None,
                  status: OptionalName = None) -> Response:
    """Every release in the store (filter by canonical ``url``, ``kind`` or ``status``)."""
    registry = visible_registry(request)
    releases = [r for r in registry.releases()
                if (url is None or r.url.rstrip("/") == url.rstrip("/")) and kind in (None, r.kind)
                and status in (None, r.status)]
    validators = _listing_validators(releases, f"{url}|{kind}|{status}".encode())
    cached = conditional(request, validators)
    if cached is not None:
        return cached
    base = base_url(request)
    return json_response({"total": len(releases), "releases": [_summary(r, base) for r in releases]}, validators)


@router.get("/releases/diff", responses=detail_responses(404))
def diff(request: Request, url: Name, from_version: Annotated[str, Query(alias="from", max_length=MAX_NAME)],
         to_version: Annotated[str, Query(alias="to", max_length=MAX_NAME)],
         fmt: Annotated[Literal["json", "csv", "html"], Query(alias="format")] = "json") -> Response:
    """Changes between two versions of a code system or value set."""
    report = _diff(visible_registry(request), lambda r: diff_releases(r, url, from_version, to_version))
    tag = f"-{state_tag(visible_registry(request))}" if fmt == "html" and report.kind == "CodeSystem" else ""
    validators = Validators(f'"diff-{report.old.id}-{report.new.id}-{fmt}{tag}"',
                            max(report.old.modified, report.new.modified))
    cached = conditional(request, validators)
    if cached is not None:
        return cached
    if fmt == "csv":
        name = f"diff-{report.old.id}-{report.new.version}.csv"
        headers = {**validators.headers(), "Content-Disposition": f'attachment; filename="{name}"'}
        return Response(report_csv(report).encode(), media_type="text/csv; charset=utf-8", headers=headers)
    if fmt == "html":
        page = report_html(report, impact_section(visible_registry(request), report))
        return Response(page, media_type="text/html; charset=utf-8", headers=validators.headers())
    return json_response(report_json(report), validators)


def impact_section(registry: Registry, report: DiffReport) -> str:
    """The impact of a code system's new version on the stored value sets and maps, for its diff page."""
    if report.kind != "CodeSystem":
        return ""
    try:
        return impact_report_html(impact(registry, report.url, report.old.version, report.new.version))
    except SmtError:
        return ""


def _diff(registry: Registry, compute: Callable[[Registry], DiffReport]) -> DiffReport:
    try:
        return compute(registry)
    except SmtError as exc:
        raise HTTPException(status_of(exc), str(exc)) from None


@router.get("/changes", responses=detail_responses(404))
def changes(request: Request, url: Name, since: Name,
            count: Annotated[int, Query(ge=0, le=MAX_PAGE, description=f"Changes per page (at most {MAX_PAGE:,})")
                             ] = 1000,
            offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description=f"Changes to skip (at most {MAX_OFFSET:,})")
                              ] = 0) -> Response:
    """Vendor sync: the changes from version ``since`` to the version served by default, paged. Parameters out
    of their bounds answer a 400 OperationOutcome."""
    report = _diff(visible_registry(request), lambda r: changes_since(r, url, since))
    new = report.new
    validators = Validators(f'"changes-{report.old.id}-{new.id}-{new.status}-{offset}-{count}"',
                            max(report.old.modified, new.modified))
    cached = conditional(request, validators)
    if cached is not None:
        return cached
    base = base_url(request)
    page = report.changes[offset:offset + count]
    body: dict = {
        "kind": report.kind, "url": report.url, "since": release_ref(report.old), "current": release_ref(new),
        "total": len(report.changes), "offset": offset, "count": len(page), "summary": report.summary,
        "changes": [change.as_dict() for change in page],
        "links": {"diff": base + diff_path(report.url, report.old.version, new.version)},
    }
    if offset + count < len(report.changes) and count:
        body["links"]["next"] = base + changes_path(url, since, offset + count, count)
    return json_response(body, validators)


@router.get("/feed.xml", responses=detail_responses())
def feed(request: Request) -> Response:
    """Atom feed of the published releases."""
    registry = visible_registry(request)
    export = exporter(request)
    releases = [r for r in registry.releases() if r.status in PUBLISHED]
    items = [Publication(r, export.listing(r, registry), previous_release(registry, r)) for r in releases]
    for item in items:
        item.impact = feed_impact(registry, item.info, item.previous)
    base = base_url(request)
    fallback = datetime.fromtimestamp(int(registry.store.releases_dir.stat().st_mtime), UTC)
    body = feed_xml(items, base, base + "/feed.xml", fallback.isoformat())
    generated = [d.generated_at for item in items for _, d in item.downloads if d is not None]
    times = [r.modified for r in releases] + [datetime.fromisoformat(t) for t in generated]
    validators = Validators(f'"{hashlib.sha256(body).hexdigest()[:32]}"', max(times, default=fallback))
    cached = conditional(request, validators)
    if cached is not None:
        return cached
    return Response(body, media_type=f"{MEDIA_TYPE}; charset=utf-8", headers=validators.headers())


@router.get("/releases/{release_id}", responses=detail_responses(404))
def manifest(release_id: str, request: Request) -> Response:
    """The release manifest: metadata, sources with checksums, warnings and downloads with their SHA-256."""
    registry = visible_registry(request)
    info = _release(registry, release_id)
    export = exporter(request)
    listing = export.listing(info, registry)
    validators = release_validators(info, hashlib.sha256(
        "".join(d.sha256 for _, d in listing if d).encode()).hexdigest()[:16])
    cached = conditional(request, validators)
    if cached is not None:
        return cached
    base = base_url(request)
    data = dict(info.manifest)
    data["href"] = base + release_path(info.id)
    data["downloads"] = [
        {"format": fmt.name, "label": fmt.label, "media_type": fmt.media_type,
         "href": base + download_path(info.id, fmt.name), "generated": download is not None,
         **({"filename": download.filename, "size": download.size, "sha256": download.sha256,
             "generated_at": download.generated_at} if download else {})}
        for fmt, download in listing
    ]
    previous = previous_release(registry, info)
    data["links"] = {"feed": base + "/feed.xml", "checksums": base + release_path(info.id) + "/SHA256SUMS"}
    if previous is not None and info.kind in ("CodeSystem", "ValueSet"):
        data["links"]["previous"] = base + release_path(previous.id)
        data["links"]["diff_from_previous"] = base + diff_path(info.url, previous.version, info.version)
    return json_response(data, validators)


@router.get("/releases/{release_id}/SHA256SUMS", responses=detail_responses(404))
def release_checksums(release_id: str, request: Request) -> Response:
    """``sha256sum -c`` input for the downloads generated so far."""
    registry = visible_registry(request)
    info = _release(registry, release_id)
    generated = [d for _, d in exporter(request).listing(info, registry) if d is not None]
    return Response(checksums(generated), media_type="text/plain; charset=utf-8")


@router.get("/releases/{release_id}/download/{fmt}", responses={**detail_responses(404, 503), **RANGE_RESPONSES})
@router.head("/releases/{release_id}/download/{fmt}", responses={**detail_responses(404, 503), **RANGE_RESPONSES})
def download(release_id: str, fmt: str, request: Request) -> Response:
    """One download of a release, generated on first request then served from the release folder, whole or by
    byte ranges (``Range``, 206)."""
    registry = visible_registry(request)
    info = _release(registry, release_id)
    export = exporter(request)
    previous = export.previous(info, registry)
    validators = release_validators(info, f"{fmt}-{previous.id}" if previous and fmt == "parquet-diff" else fmt)
    cached = conditional(request, validators)
    if cached is not None:
        return cached
    try:
        found = export.get(info, fmt, registry)
    except SmtError as exc:
        raise HTTPException(status_of(exc), str(exc)) from None
    digest = base64.b64encode(bytes.fromhex(found.sha256)).decode()
    headers = {**validators.headers(), "Repr-Digest": f"sha-256=:{digest}:", "X-Checksum-Sha256": found.sha256}
    return RangeFileResponse(found.path, media_type=found.format.media_type, filename=found.filename,
                             headers=headers)
