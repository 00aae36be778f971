"""The searchset ``Bundle`` of a FHIR search interaction: total, ``_count``/``_offset`` paging, self/next links."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from fastapi import Request
from fastapi.responses import Response

from fhir_api.params import OperationParams, non_negative_int
from fhir_api.responses import fhir_base, fhir_json

Match = TypeVar("Match")
DEFAULT_COUNT = 100


def searchset(request: Request, params: OperationParams, resource_type: str, found: Sequence[Match],
              entry: Callable[[Match], tuple[str, dict]]) -> Response:
    """The page of ``found`` that ``_count``/``_offset`` select, as a searchset Bundle (only the total with
    ``_summary=count``); ``entry`` gives a match's id and resource, built for the page only."""
    count = non_negative_int(params, "_count", DEFAULT_COUNT)
    offset = non_negative_int(params, "_offset", 0)
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
