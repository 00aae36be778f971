"""``GET /search``: French-first full-text search over every loaded code system (see docs/search.md)."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from fhir_api.deps import get_registry
from fhir_api.error_docs import outcome_responses
from smt.releases.registry import Registry
from smt.search.service import MAX_COUNT, MAX_OFFSET, MAX_TEXT, search

router = APIRouter(tags=["Search"])
MAX_NAME = 2048
"""Characters of a system, version, language or code parameter at most."""


@router.get("/search", summary="Search concepts by text or code across terminologies and versions",
            responses=outcome_responses(400, 404))
def search_concepts(
    registry: Annotated[Registry, Depends(get_registry)],
    q: Annotated[str, Query(min_length=1, max_length=MAX_TEXT, description="Words, word prefixes or a code")],
    system: Annotated[str | None, Query(max_length=MAX_NAME,
                                        description="Code system URL or OID (default: all)")] = None,
    version: Annotated[str | None, Query(max_length=MAX_NAME, description="A version, or 'all' (default: each "
                                                                          "default version)")] = None,
    lang: Annotated[str | None, Query(max_length=MAX_NAME,
                                      description="Language of the matched term (fr, en, nl…)")] = None,
    active: Annotated[bool | None, Query(description="true: active concepts only; false: inactive only")] = None,
    within: Annotated[str | None, Query(max_length=MAX_NAME,
                                        description="Only this concept and its descendants (a code)")] = None,
    count: Annotated[int, Query(ge=0, le=MAX_COUNT, description=f"Results per page (at most {MAX_COUNT})")] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description=f"Results to skip (at most {MAX_OFFSET:,}; "
                                                                  "past the last hit the page is empty)")] = 0,
) -> Response:
    """``{total, results: [{system, version, code, display, matched, language, score, active}]}``, plus
    ``expanded`` (abbreviation → expansions searched) when the query holds a known abbreviation.

    A parameter out of its bounds answers 400 and an unknown system or version 404, both OperationOutcomes."""
    page = search(registry, q, system=system, version=version, language=lang, active=active, within=within,
                  count=count, offset=offset)
    return Response(orjson.dumps(page.as_dict()), media_type="application/json")
