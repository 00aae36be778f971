"""Write API for curators — the same code paths as the CLI, behind a bearer token.

* ``POST /releases`` (multipart: ``file``, ``loader``, optional ``version``, ``status``): runs the loader and the
  quality gate on an uploaded source file (a zip for multi-file sources) and stores draft releases, answering
  their reports.
* ``POST /fhir/{CodeSystem|ValueSet|ConceptMap}``: a FHIR resource becomes a draft release.
* ``PUT /fhir/{type}/{id}``: change a release's status (publish: active, retire: retired). Releases are
  immutable otherwise: content changes are a new version.
* ``DELETE /fhir/{type}/{id}``: remove a release.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response

from fhir_api.bodies import decode_body
from fhir_api.deps import get_registry
from fhir_api.errors import FhirError, issue, operation_outcome
from fhir_api.limits import max_request_bytes
from fhir_api.openapi_fhir import answers, resource_body
from fhir_api.responses import fhir_json
from fhir_api.security import authorise, require_writer
from loaders import loader_names, run_loader
from smt.formats.fhir_json import release_from_resource
from smt.model import Release
from smt.quality import enforce
from smt.releases.loader_context import loader_context
from smt.releases.registry import Registry
from smt.security.auth import Principal
from smt.store.releases import STATUSES, ReleaseInfo, ReleaseStore

router = APIRouter()
RESOURCE_TYPES = ("CodeSystem", "ValueSet", "ConceptMap")


def _report(info: ReleaseInfo) -> dict:
    return {"id": info.id, "resourceType": info.kind, "url": info.url, "version": info.version,
            "status": info.status, "count": info.count, "warnings": info.warnings}


Progress = Callable[[str], None]
"""Told each stage of a load: ``reading`` (the loader runs), ``checking`` (quality gate), ``storing``."""


def _no_progress(stage: str) -> None:
    return None


def _store_all(request: Request, principal: Principal, releases: list[Release],
               status: str, progress: Progress = _no_progress) -> list[ReleaseInfo]:
    """Authorise, quality-check every release, then store them (all checks pass before anything is written)."""
    progress("checking")
    for release in releases:
        authorise(request, principal, release.publisher)
        enforce(release)
    progress("storing")
    writer: ReleaseStore = request.app.state.writer  # the store with this SMT's compile step (create_app)
    return writer.load_many(releases, status=status, agent=principal.subject)


@router.post("/releases", status_code=201)
def upload_release(request: Request, file: UploadFile = File(...), loader: str = Form(...),
                   version: str | None = Form(None), status: str = Form("draft"),
                   principal: Principal = Depends(require_writer),
                   registry: Registry = Depends(get_registry)) -> Response:
    """Load an uploaded source file as draft release(s); answers each release's quality report."""
    folder = Path(tempfile.mkdtemp(prefix="smt-upload-"))
    try:
        target = save_upload(file, folder)
        stored = load_source(request, registry, principal, target, loader, version, status)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return fhir_json(request, {"releases": [_report(info) for info in stored]}, status=201)


def save_upload(file: UploadFile, folder: Path) -> Path:
    """The uploaded file written into ``folder`` (413 when over ``SMT_MAX_REQUEST_BYTES``)."""
    target = folder / Path(file.filename or "upload").name
    with target.open("wb") as out:
        shutil.copyfileobj(file.file, out, length=1 << 20)
    if target.stat().st_size > max_request_bytes():
        raise FhirError(413, "too-costly", "uploaded file over the size limit")
    return target


def load_source(request: Request, registry: Registry, principal: Principal, source: Path, loader: str,
                version: str | None, status: str, progress: Progress = _no_progress) -> list[ReleaseInfo]:
    """Run ``loader`` on an uploaded source file (a zip is unpacked) and store what it yields, after the quality
    gate: the write path of ``POST /releases`` and of the curator console. Raises ``FhirError`` or the SMT error
    of the loader, the quality gate or the store (``fhir_api.answers`` gives their status)."""
    if loader not in loader_names():
        raise FhirError(400, "invalid", f"unknown loader '{loader}'; known loaders: {', '.join(loader_names())}")
    if status not in STATUSES:
        raise FhirError(400, "invalid", f"status must be one of {', '.join(STATUSES)}")
    progress("reading")
    releases = list(run_loader(loader, _unpacked(source), version=version, context=loader_context(registry)))
    return _store_all(request, principal, releases, status, progress)


def _unpacked(upload: Path) -> Path:
    """A zip upload is extracted (a multi-file source, e.g. RF2 or CISP-2 tables): its single top folder or
    the extraction folder is what the loader reads. Entries escaping the folder are refused."""
    if not zipfile.is_zipfile(upload):
        return upload
    target = upload.parent / "unpacked"
    with zipfile.ZipFile(upload) as archive:
        for name in archive.namelist():
            if not (target / name).resolve().is_relative_to(target.resolve()):
                raise FhirError(400, "invalid", f"zip entry {name!r} points outside the archive")
        archive.extractall(target)
    entries = list(target.iterdir())
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else target


def _body(request: Request, raw: bytes, resource_type: str) -> dict:
    resource = decode_body(raw, request.headers.get("content-type"))
    if not isinstance(resource, dict) or resource.get("resourceType") != resource_type:
        raise FhirError(400, "invalid", f"request body must be a {resource_type} resource")
    return resource


def _release(registry: Registry, resource_type: str, release_id: str) -> ReleaseInfo:
    info = next((r for r in registry.releases() if r.id == release_id and r.kind == resource_type), None)
    if info is None:
        raise FhirError(404, "not-found", f"{resource_type}/{release_id} is not known to this server")
    return info


def _resource_type(request: Request) -> str:
    """The resource type of the route (``/fhir/{type}…``)."""
    return request.url.path.split("/")[2]


async def create_resource(request: Request, principal: Principal = Depends(require_writer),
                          registry: Registry = Depends(get_registry)) -> Response:
    """A CodeSystem, ValueSet or ConceptMap resource becomes a new draft release."""
    resource_type = _resource_type(request)
    info = store_resource(request, principal, _body(request, await request.body(), resource_type))
    location = f"{str(request.base_url).rstrip('/')}/fhir/{resource_type}/{info.id}"
    body = operation_outcome(issue("informational", f"created draft release {info.id}", severity="information"))
    return fhir_json(request, body, status=201, headers={"Location": location})


def store_resource(request: Request, principal: Principal, resource: dict) -> ReleaseInfo:
    """A CodeSystem, ValueSet or ConceptMap resource stored as a new draft release (authorised, quality-checked):
    the write path of ``POST /fhir/{type}`` and of the value-set composer. Raises ``FhirError`` or an SMT error."""
    resource_type = str(resource.get("resourceType"))
    if not resource.get("version"):
        raise FhirError(422, "required", f"{resource_type}.version is required: each release is one version")
    release = release_from_resource(resource, f"{resource_type} in request")
    return _store_all(request, principal, [release], "draft")[0]


async def update_status(request: Request, release_id: str,
                        principal: Principal = Depends(require_writer),
                        registry: Registry = Depends(get_registry)) -> Response:
    """Change a release's status (draft → active → retired); any other change is refused."""
    resource_type = _resource_type(request)
    info = _release(registry, resource_type, release_id)
    authorise(request, principal, info.publisher)
    resource = _body(request, await request.body(), resource_type)
    if resource.get("url", info.url) != info.url or resource.get("version", info.version) != info.version:
        raise FhirError(422, "business-rule", "a release's url and version cannot change; load a new version")
    status = resource.get("status")
    if status not in STATUSES:
        raise FhirError(422, "required", f"status must be one of {', '.join(STATUSES)}")
    before = info.status
    updated = registry.store.set_status(info.id, status, agent=principal.subject)
    text = f"status of {resource_type}/{info.id} changed from {before} to {updated.status}"
    return fhir_json(request, operation_outcome(issue("informational", text, severity="information")))


def delete_release(request: Request, release_id: str,
                   principal: Principal = Depends(require_writer),
                   registry: Registry = Depends(get_registry)) -> Response:
    """Remove a release (its graph, registry entry and files)."""
    resource_type = _resource_type(request)
    info = _release(registry, resource_type, release_id)
    authorise(request, principal, info.publisher)
    registry.store.remove(info.id, agent=principal.subject)
    text = f"deleted {resource_type}/{info.id} ({info.url} version {info.version})"
    return fhir_json(request, operation_outcome(issue("informational", text, severity="information")))


for _type in RESOURCE_TYPES:
    router.add_api_route(f"/fhir/{_type}", create_resource, methods=["POST"], status_code=201,
                         name=f"create_{_type}", openapi_extra=resource_body(_type),
                         responses=answers("OperationOutcome", 201), response_class=Response)
    router.add_api_route(f"/fhir/{_type}/{{release_id}}", update_status, methods=["PUT"], name=f"update_{_type}",
                         openapi_extra=resource_body(_type), responses=answers("OperationOutcome"),
                         response_class=Response)
    router.add_api_route(f"/fhir/{_type}/{{release_id}}", delete_release, methods=["DELETE"],
                         name=f"delete_{_type}")
