"""The audit trail as FHIR ``AuditEvent`` resources: ``GET /fhir/AuditEvent[?entity=&agent=&_count=]``."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from fhir_api.deps import get_registry, negotiate
from fhir_api.errors import FhirError
from fhir_api.responses import fhir_json
from smt.catalogue.registry import Registry
from smt.security.audit import AuditLog, AuditRecord

router = APIRouter(prefix="/fhir/AuditEvent", dependencies=[Depends(negotiate)])

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
        "source": {"observer": {"display": "SMT terminology server"}},
        "entity": [entity],
    }


def _log(registry: Registry) -> AuditLog:
    return registry.store.audit


@router.get("")
def search(request: Request, entity: str | None = None, agent: str | None = None, _count: int = 100,
           registry: Registry = Depends(get_registry)) -> Response:
    """Audit events, newest first; ``entity`` matches a release id, canonical URL or ``url|version``."""
    records = [
        r for r in _log(registry).records()
        if (entity is None or entity in (r.release_id, r.url, f"{r.url}|{r.version}"))
        and (agent is None or r.agent == agent)
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


@router.get("/{event_id}")
def read(request: Request, event_id: str, registry: Registry = Depends(get_registry)) -> Response:
    record = _log(registry).get(event_id)
    if record is None:
        raise FhirError(404, "not-found", f"AuditEvent/{event_id} is not known to this server")
    return fhir_json(request, audit_event(record))
