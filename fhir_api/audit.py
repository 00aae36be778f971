"""The audit trail as FHIR ``AuditEvent`` resources: ``GET /fhir/AuditEvent[?entity=&agent=&_count=]``.

The trail names drafts and who wrote them: it needs a bearer token (401 without). An admin reads every event, a
curator the events of its publisher's releases (those of other publishers are answered as unknown).
"""

from __future__ import annotations

from collections.abc import Callable

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from fhir_api.deps import negotiate
from fhir_api.error_docs import outcome_responses
from fhir_api.errors import FhirError
from fhir_api.responses import fhir_json
from fhir_api.security import require_writer
from smt.releases.registry import Registry
from smt.security.audit import AuditLog, AuditRecord
from smt.security.auth import Principal

router = APIRouter(prefix="/fhir/AuditEvent", dependencies=[Depends(negotiate)],
                   responses=outcome_responses(401, 406))

_ACTIONS = {"create": "C", "update": "U", "delete": "D"}


def audit_event(record: AuditRecord) -> dict:
    """One audit record as an R4 AuditEvent (before/after as entity details)."""
    details = [{"type": name, "valueString": orjson.dumps(value).decode()}
               for name, value in (("before", record.before), ("after", record.after)) if value is not None]
    entity: dict = {
        "what": {"reference": f"{record.kind}/{record.release_id}", "display": f"{record.url}|{record.version}"},
        "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2",
                 "display": "System Object"},
    }
    if details:
        entity["detail"] = details
    return {
        "resourceType": "AuditEvent",
        "id": record.id,
        "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest",
                 "display": "RESTful Operation"},
        "subtype": [{"system": "http://hl7.org/fhir/restful-interaction", "code": record.action}],
        "action": _ACTIONS.get(record.action, "E"),
        "recorded": record.recorded,
        "outcome": "0",
        "agent": [{"who": {"display": record.agent}, "requestor": True}],
        **({"purposeOfEvent": [{"text": record.reason}]} if record.reason else {}),
        "source": {"observer": {"display": "SMT terminology server"}},
        "entity": [entity],
    }


def _log(registry: Registry) -> AuditLog:
    return registry.store.audit


def readable_by(principal: Principal, registry: Registry) -> Callable[[AuditRecord], bool]:
    """Which records ``principal`` may read: all for an admin; for a curator, those of a release (by id, or a
    removed one by its canonical URL) of its publisher."""
    if "admin" in principal.roles:
        return lambda record: True
    releases = registry.releases()  # drafts included: the trail is for writers
    by_id = {info.id: info.publisher for info in releases}
    by_url = {info.url: info.publisher for info in releases}

    def readable(record: AuditRecord) -> bool:
        publisher = by_id.get(record.release_id, by_url.get(record.url))
        return publisher is not None and principal.may_write(publisher)

    return readable


def _registry(request: Request) -> Registry:
    return request.app.state.registry


@router.get("")
def search(request: Request, entity: str | None = None, agent: str | None = None, _count: int = 100,
           principal: Principal = Depends(require_writer), registry: Registry = Depends(_registry)) -> Response:
    """Audit events, newest first; ``entity`` matches a release id, canonical URL or ``url|version``."""
    readable = readable_by(principal, registry)
    records = [
        r for r in _log(registry).records()
        if (entity is None or entity in (r.release_id, r.url, f"{r.url}|{r.version}"))
        and (agent is None or r.agent == agent) and readable(r)
    ]
    records.reverse()
    bundle = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(records),
        "entry": [{"fullUrl": f"{str(request.base_url).rstrip('/')}/fhir/AuditEvent/{r.id}",
                   "resource": audit_event(r), "search": {"mode": "match"}} for r in records[: max(_count, 0)]],
    }
    return fhir_json(request, bundle)


@router.get("/{event_id}", responses=outcome_responses(404))
def read(request: Request, event_id: str, principal: Principal = Depends(require_writer),
         registry: Registry = Depends(_registry)) -> Response:
    record = _log(registry).get(event_id)
    if record is None or not readable_by(principal, registry)(record):
        raise FhirError(404, "not-found", f"AuditEvent/{event_id} is not known to this server")
    return fhir_json(request, audit_event(record))
