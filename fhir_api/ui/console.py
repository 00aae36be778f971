"""The curator console: sign in with a write-API token, upload a source file and follow its load, review a
release (quality report, comparison with the active version), publish or retire it with a reason, read the
audit trail.

Every action goes through the write API's own checks (``fhir_api.admin``, ``smt.security.auth``): a button
the curator's role may not use is not shown, and the server refuses it anyway.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.requests import Request

from fhir_api.admin import load_source, save_upload
from fhir_api.errors import FhirError
from fhir_api.ui import resources, session
from fhir_api.ui.errors import PageError, not_found
from fhir_api.ui.jobs import STAGES, Jobs
from fhir_api.ui.pages import render
from fhir_api.ui.session import check_csrf, check_token, require_curator, sign_in, sign_out
from loaders import loader_names
from smt.errors import AuthError, SmtError
from smt.publish.changes import DiffReport, diff_releases
from smt.releases.registry import Registry
from smt.security.audit import AuditRecord
from smt.security.auth import Principal
from smt.store.releases import STATUSES, ReleaseInfo

router = APIRouter(include_in_schema=False)
AUDIT_SHOWN = 200
TRANSITIONS = {"draft": ("active",), "active": ("retired",), "retired": ("active",)}
"""The status changes the console offers from each status (publish, retire, publish again)."""


def _jobs(request: Request) -> Jobs:
    found = getattr(request.app.state, "ui_jobs", None)
    if found is None:
        found = request.app.state.ui_jobs = Jobs()
    return found


def _registry(request: Request) -> Registry:
    return request.app.state.registry


@router.get("/console", response_class=HTMLResponse)
def console(request: Request) -> HTMLResponse:
    principal = session.principal(request)
    if principal is None:
        return render(request, "console/signin.html", {"section": "console"}, private=True)
    releases = sorted(_registry(request).releases(), key=lambda r: (r.status != "draft", r.url, r.version))
    return render(request, "console/home.html", {
        "section": "console", "releases": releases, "jobs": _jobs(request).listed(), "loaders": loader_names(),
    }, private=True)


@router.post("/console/signin", response_class=HTMLResponse)
def console_sign_in(request: Request, token: Annotated[str, Form()] = "") -> Response:
    try:
        check_token(request, token)
    except AuthError:
        return render(request, "console/signin.html", {"section": "console", "failed": True}, status=401,
                      private=True)
    response = RedirectResponse("/console", status_code=303)
    sign_in(request, response, token)
    return response


@router.post("/console/signout")
def console_sign_out(request: Request, csrf: Annotated[str, Form()] = "") -> Response:
    check_csrf(request, csrf)
    response = RedirectResponse("/", status_code=303)
    sign_out(response)
    return response


@router.post("/console/upload")
def upload(request: Request, file: Annotated[UploadFile, File()], loader: Annotated[str, Form()],
           version: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = "") -> Response:
    """Start loading the uploaded file as draft release(s); the job's page follows it."""
    principal = require_curator(request)
    check_csrf(request, csrf)
    if loader not in loader_names():
        raise PageError(400, "console.unknown_loader", loader=loader)
    folder = Path(tempfile.mkdtemp(prefix="smt-upload-"))
    try:
        source = save_upload(file, folder)
    except FhirError as exc:
        raise PageError(exc.status, "console.upload_refused", message=exc.text) from None
    registry = _registry(request)

    def work(progress: Callable[[str], None]) -> list[ReleaseInfo]:
        stored = load_source(request, registry, principal, source, loader, version.strip() or None, "draft",
                             progress)
        progress("comparing")
        for info in stored:
            _comparison(registry, info, _active_other(registry, info))
        return stored

    job = _jobs(request).start(principal.subject, source.name, loader, folder, work)
    return RedirectResponse(f"/console/jobs/{job.id}", status_code=303)


@router.get("/console/jobs/{job_id}", response_class=HTMLResponse)
@router.get("/console/jobs/{job_id}/progress", response_class=HTMLResponse)
def job_page(request: Request, job_id: str) -> HTMLResponse:
    """A load's page, or (``…/progress``) the part of it that polling refreshes."""
    require_curator(request)
    job = _jobs(request).get(job_id)
    if job is None:
        raise not_found("console.no_job")
    template = "console/progress.html" if request.url.path.endswith("/progress") else "console/job.html"
    return render(request, template, {"section": "console", "job": job, "stages": STAGES}, private=True)


def _release(registry: Registry, release_id: str) -> ReleaseInfo:
    found = next((r for r in registry.releases() if r.id == release_id), None)
    if found is None:
        raise not_found("error.no_release", id=release_id)
    return found


def _active_other(registry: Registry, info: ReleaseInfo) -> ReleaseInfo | None:
    """The active version this release would be compared with (the latest active one but itself)."""
    active = [r for r in registry.versions_of(info.url, info.kind) if r.status == "active" and r.id != info.id]
    return active[-1] if active else None


def _comparison(registry: Registry, info: ReleaseInfo, other: ReleaseInfo | None) -> DiffReport | None:
    if other is None or info.kind not in ("CodeSystem", "ValueSet"):
        return None
    try:
        return diff_releases(registry, info.url, other.version, info.version)
    except SmtError:
        return None


def _audit(registry: Registry, release_id: str | None = None) -> list[AuditRecord]:
    records = [r for r in registry.store.audit.records() if release_id in (None, r.release_id)]
    return list(reversed(records))[:AUDIT_SHOWN]


def _resource_for(registry: Registry, info: ReleaseInfo) -> resources.Resource | None:
    return resources.for_url(registry, info.kind, info.url) if info.kind in ("CodeSystem", "ValueSet") else None


@router.get("/console/releases/{release_id}", response_class=HTMLResponse)
def review(request: Request, release_id: str) -> HTMLResponse:
    principal = require_curator(request)
    registry = _registry(request)
    info = _release(registry, release_id)
    other = _active_other(registry, info)
    return render(request, "console/release.html", {
        "section": "console", "info": info, "other": other, "report": _comparison(registry, info, other),
        "resource": _resource_for(registry, info), "may_write": principal.may_write(info.publisher),
        "transitions": TRANSITIONS.get(info.status, ()), "audit": _audit(registry, info.id),
    }, private=True)


def _authorised(principal: Principal, info: ReleaseInfo) -> None:
    if not principal.may_write(info.publisher):
        raise PageError(403, "error.forbidden")


@router.post("/console/releases/{release_id}/status")
def change_status(request: Request, release_id: str, status: Annotated[str, Form()],
                  reason: Annotated[str, Form()] = "", csrf: Annotated[str, Form()] = "") -> Response:
    """Publish, retire or publish again a release, with the curator's reason (kept in the audit trail)."""
    principal = require_curator(request)
    check_csrf(request, csrf)
    registry = _registry(request)
    info = _release(registry, release_id)
    _authorised(principal, info)
    if status not in STATUSES or status not in TRANSITIONS.get(info.status, ()):
        raise PageError(400, "console.bad_status", status=status)
    if not reason.strip():
        raise PageError(400, "console.reason_required")
    registry.store.set_status(info.id, status, agent=principal.subject, reason=reason.strip()[:1000])
    return RedirectResponse(f"/console/releases/{info.id}", status_code=303)


@router.get("/console/audit", response_class=HTMLResponse)
def audit_trail(request: Request) -> HTMLResponse:
    require_curator(request)
    return render(request, "console/audit.html", {"section": "console", "audit": _audit(_registry(request))},
                  private=True)
