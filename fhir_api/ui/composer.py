"""The value-set composer: ``/composer`` (rules, live expansion, code check, code search), its downloads
(``/composer/valueset.json``, ``/composer/expansion.json``, ``/composer/svs.xml``) and, for a signed-in
curator, ``POST /composer/save`` (a new draft ValueSet release, through the write API's path).

The expansion shown and ``expansion.json`` are ``$expand`` of the downloaded ValueSet, computed by the same
function as ``POST /fhir/ValueSet/$expand``.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import ImmutableMultiDict
from starlette.requests import Request

from fhir_api.admin import store_resource
from fhir_api.errors import FhirError
from fhir_api.ui import composition, resources
from fhir_api.ui.expansions import check_code, error_text, expansion_page
from fhir_api.ui.pages import html_headers, query, render
from fhir_api.ui.session import CSRF_FIELD, check_csrf, require_curator, visible_registry
from smt.errors import SmtError
from smt.releases.registry import Registry
from smt.search.service import search
from smt.svs.repository import concepts as svs_concepts
from smt.svs.xml import DescribedValueSet, retrieve_value_set_response

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
FOUND = 10


def _state(registry: Registry, params: ImmutableMultiDict) -> tuple[composition.Composition,
                                                                     resources.Resource | None]:
    state = composition.parse(params)
    code_systems = resources.resources(registry, "CodeSystem")
    chosen = resources.find(registry, "CodeSystem", state.system) if state.system else None
    if chosen is None and code_systems and not state.system:
        chosen = code_systems[0]
    if chosen is not None:
        state.system = chosen.key
        if not chosen.release(state.version):
            state.version = ""
        state.version = state.version or chosen.default.version
    return state, chosen


def _edited(request: Request, state: composition.Composition) -> str | None:
    """Where to go after an edit button (add a found code, remove a rule): the composition's own address."""
    params = request.query_params
    rules = list(state.rules)
    if params.get("remove", "").isdigit():
        index = int(params["remove"])
        rules = [r for i, r in enumerate(rules) if i != index]
    elif params.get("add"):
        rules.append(composition.Rule("include", "codes", params["add"]))
    else:
        return None
    state.rules = rules
    return "/composer?" + urlencode(state.params())


@router.get("/composer", response_class=HTMLResponse)
def composer(request: Request, check: Annotated[str, Query(max_length=100)] = "",
             find: Annotated[str, Query(max_length=200)] = "", page: Annotated[int, Query(ge=1)] = 1,
             saved: str = "") -> Response:
    registry = visible_registry(request)
    state, chosen = _state(registry, request.query_params)
    target = _edited(request, state)
    if target is not None:
        return RedirectResponse(target, status_code=303)
    vs = composition.value_set(registry, state, chosen)
    expansion = expansion_page(request, registry, value_set=vs, count=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE) \
        if state.rules else None
    checked = check_code(request, registry, vs, chosen.url, check.strip()) if check.strip() and chosen else None
    found = search(registry, find, system=chosen.url, version=state.version, count=FOUND).results \
        if find.strip() and chosen else []
    base = state.params()
    context = {
        "section": "composer", "state": state, "chosen": chosen, "vs": vs, "expansion": expansion,
        "checked": checked, "check": check, "find": find, "found": found, "saved": saved,
        "code_systems": resources.resources(registry, "CodeSystem"), "kinds": composition.KINDS,
        "rules": [*state.rules, composition.Rule("include", "codes", "")],
        "properties": [p["code"] for p in registry.index(chosen.release(state.version) or chosen.default).meta.get(
            "properties", [])] if chosen else [],
        "downloads": {name: f"/composer/{name}?{urlencode(base)}" for name in
                      ("valueset.json", "expansion.json", "svs.xml")},
        "page": page, "pages": -(-expansion.total // PAGE_SIZE) if expansion else 0,
        "page_href": lambda number: "/composer?" + urlencode([*base, ("page", str(number))]),
    }
    return render(request, "composer.html", context)


def _download(body: bytes, media_type: str, filename: str) -> Response:
    headers = {**html_headers(), "Content-Disposition": f'attachment; filename="{filename}"'}
    headers.pop("Content-Security-Policy")
    return Response(body, media_type=media_type, headers=headers)


def _composed(request: Request) -> tuple[Registry, composition.Composition, dict]:
    """The registry, the composition of the address and its ValueSet."""
    registry = visible_registry(request)
    state, chosen = _state(registry, request.query_params)
    return registry, state, composition.value_set(registry, state, chosen)


@router.get("/composer/valueset.json")
def download_value_set(request: Request) -> Response:
    _, _, vs = _composed(request)
    return _download(orjson.dumps(vs, option=orjson.OPT_INDENT_2), "application/fhir+json",
                     f"ValueSet-{vs['name']}.json")


@router.get("/composer/expansion.json")
def download_expansion(request: Request) -> Response:
    registry, _, vs = _composed(request)
    expansion = expansion_page(request, registry, value_set=vs)
    if expansion.body is None:
        raise FhirError(422, "processing", expansion.error or "no expansion")
    return _download(orjson.dumps(expansion.body, option=orjson.OPT_INDENT_2), "application/fhir+json",
                     f"ValueSet-{vs['name']}-expansion.json")


@router.get("/composer/svs.xml")
def download_svs(request: Request) -> Response:
    registry, state, vs = _composed(request)
    described = DescribedValueSet(
        id=composition.svs_oid(state, vs), display_name=vs["title"], version=vs["version"],
        concepts=svs_concepts(registry, vs), source_uri=vs["url"], status="Draft", type="Expanded")
    return _download(retrieve_value_set_response(described), "application/xml", f"ValueSet-{vs['name']}.xml")


@router.post("/composer/save")
async def save(request: Request) -> Response:
    """Store the composition (the form's fields) as a new draft ValueSet release; its url and version must be
    new. Only for a signed-in curator whose role may write it (the write API's rules)."""
    form = await request.form()
    return await run_in_threadpool(_save, request, form)


def _save(request: Request, form: ImmutableMultiDict) -> Response:
    principal = require_curator(request)
    check_csrf(request, str(form.get(CSRF_FIELD) or ""))
    registry: Registry = request.app.state.registry
    state, chosen = _state(registry, form)
    vs = composition.value_set(registry, state, chosen)
    if principal.publisher:  # a curator composes for its publisher (and may then write the release)
        vs["publisher"] = principal.publisher
    try:
        info = store_resource(request, principal, vs)
    except (FhirError, SmtError) as exc:
        return RedirectResponse("/composer?" + urlencode([*state.params(), ("saved", f"error:{error_text(exc)}")]),
                                status_code=303)
    found = resources.for_url(registry, "ValueSet", info.url)
    target = found.path + query(version=info.version) if found else "/valuesets"
    return RedirectResponse(target, status_code=303)
