"""FHIR search over stored releases: the parameters every terminology resource shares (``_id``, ``url``,
``version``, ``name``, ``title``, ``status``, ``identifier``) and the searchset ``Bundle`` (total,
``_count``/``_offset`` paging within ``MAX_SEARCH_COUNT`` and ``MAX_OFFSET``, self/next links)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from fastapi import Request
from fastapi.responses import Response

from fhir_api.responses import fhir_base, fhir_json
from smt.catalogue.registry import normalise_system
from smt.store.releases import ReleaseInfo
from smt.terminology.parameters import MAX_OFFSET, MAX_SEARCH_COUNT, OperationParams

Match = TypeVar("Match")
DEFAULT_COUNT = 100
Tests = dict[str, Callable[[str], bool]]


def starts_with(value: str | None, prefix: str) -> bool:
    """``name`` / ``title`` search: a case-insensitive prefix."""
    return (value or "").casefold().startswith(prefix.casefold())


def resource_identifiers(resource: dict) -> set[str]:
    """Identifier values of a resource (one or a list), ``urn:oid:`` prefixes dropped."""
    found = resource.get("identifier") or []
    items = [found] if isinstance(found, dict) else found
    return {str(i.get("value", "")).removeprefix("urn:oid:") for i in items if isinstance(i, dict)}


def common_tests(info: ReleaseInfo, name: str | None, title: str | None, identifiers: Iterable[str]) -> Tests:
    """The search parameters every terminology resource answers, as tests on one release."""
    known = {i.removeprefix("urn:oid:") for i in identifiers}
    return {
        "_id": lambda v: info.id == v,
        "url": lambda v: info.url.rstrip("/") == normalise_system(v),
        "version": lambda v: info.version == v,
        "name": lambda v: starts_with(name or info.name, v),
        "title": lambda v: starts_with(title or info.title, v),
        "status": lambda v: info.status in v.split(","),
        "identifier": lambda v: v.rpartition("|")[2].removeprefix("urn:oid:") in known,
    }


def matches(params: OperationParams, tests: Tests) -> bool:
    """Whether every search parameter given (each value of each) passes its test; unknown ones are ignored."""
    return all(test(value) for name, test in tests.items() for value in params.strings(name))


def searchset(request: Request, params: OperationParams, resource_type: str, found: Sequence[Match],
              entry: Callable[[Match], tuple[str, dict]]) -> Response:
    """The page of ``found`` that ``_count``/``_offset`` select, as a searchset Bundle (only the total with
    ``_summary=count``); ``entry`` gives a match's id and resource, built for the page only."""
    count = params.integer("_count", DEFAULT_COUNT, MAX_SEARCH_COUNT)
    offset = params.integer("_offset", 0, MAX_OFFSET)
    bundle: dict = {"resourceType": "Bundle", "type": "searchset", "total": len(found),
                    "link": [{"relation": "self", "url": str(request.url)}]}
    if params.string("_summary") == "count":
        return fhir_json(request, bundle)
    if offset + count < len(found):
        bundle["link"].append({"relation": "next",
                               "url": str(request.url.include_query_params(_offset=offset + count))})
    base = fhir_base(request)
    bundle["entry"] = []
    for match in found[offset:offset + count]:
        resource_id, resource = entry(match)
        bundle["entry"].append({"fullUrl": f"{base}/{resource_type}/{resource_id}", "resource": resource,
                                "search": {"mode": "match"}})
    return fhir_json(request, bundle)
