"""ValueSet routes: read, search, ``$expand``, ``$validate-code`` and ``$batch-validate-code``.

Each stored ValueSet release is one resource whose id is the release id. Operations answer GET (query
parameters) and POST (a ``Parameters`` body); ``tx-resource`` parameters add request CodeSystems and
ValueSets that take precedence over the store. Errors are OperationOutcomes with tx-issue-type codes.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from fhir_api.answers import error_outcome
from fhir_api.deps import get_registry, negotiate, one_plain_code, operation_routes
from fhir_api.errors import FhirError
from fhir_api.openapi_fhir import route_docs
from fhir_api.params import from_parameters, read_params
from fhir_api.responses import fhir_json
from fhir_api.searchset import Candidate, Shape, search_bundle, search_docs, searchable_fields, shape_of
from fhir_api.valueset_json import expansion_value_set, validation_parameters
from smt.codesystems.factory import implicit_membership_is_cheap
from smt.errors import MissingParameter, NotFound, NothingToValidate, SmtError
from smt.releases.registry import Registry
from smt.store.releases import ReleaseInfo
from smt.terminology.codesystem import CodingInput
from smt.terminology.context import ResourceContext
from smt.terminology.expand.expand import expand, resolve_value_set
from smt.terminology.parameters import (
    EXPANSION_PARAMETERS,
    Bounds,
    CodeableConceptValue,
    CodingValue,
    OperationParams,
    TxParameters,
    expansion_limit,
)
from smt.terminology.supplements import value_set_supplements
from smt.terminology.validate.valueset import ValueSetValidator

router = APIRouter(prefix="/fhir/ValueSet", dependencies=[Depends(negotiate)])

EXPANSION_CAPABILITIES = {
    "hierarchical": True, "paging": True, "incomplete": False,
    "parameter": [{"name": name} for name in EXPANSION_PARAMETERS],
    "textFilter": "Case- and diacritic-insensitive word-prefix matching on code, display and designations",
}


def max_expansion(request: Request, requested: int | None = None) -> int:
    """Largest expansion answered without paging: ``SMT_EXPAND_MAX``, lowered by ``X-TOO-COSTLY-THRESHOLD`` and
    by the request's ``limit`` (the most codes the client accepts, as tx.fhir.org's parameter)."""
    limit = expansion_limit()
    header = request.headers.get("x-too-costly-threshold", "")
    if header.isascii() and header.isdigit():
        limit = min(limit, int(header[:18]))
    return min(limit, requested) if requested else limit


# -- request → engine inputs ---------------------------------------------------------------------------------


def tx_parameters(params: OperationParams) -> TxParameters:
    """The terminology parameters of a call, within the server's bounds."""
    return TxParameters.read(params, Bounds(count=expansion_limit()))


def request_context(registry: Registry, tx: TxParameters) -> ResourceContext:
    """The resolution context of a terminology call: its ``tx-resource`` resources and version rules."""
    return ResourceContext(registry, tx.tx_resources, tx.version_rules())


def _stored_value_set(registry: Registry, resource_id: str) -> ReleaseInfo:
    for info in registry.releases():
        if info.kind == "ValueSet" and info.id == resource_id:
            return info
    raise NotFound(f"ValueSet/{resource_id} is not known to this server")


def _value_set(registry: Registry, ctx: ResourceContext, tx: TxParameters,
               resource_id: str | None) -> tuple[dict, str | None]:
    """The value set of the call and the resource id to answer with; its own expansion parameters become the
    call's defaults (and so may its version rules and supplements)."""
    if resource_id is not None:
        info = _stored_value_set(registry, resource_id)
        vs, rid = info.resource(), info.id
    elif not tx.value_sets and not tx.url:
        raise MissingParameter("Give the value set: parameter 'url' or 'valueSet'", "url")
    else:
        vs = resolve_value_set(ctx, tx.url, tx.value_sets[0] if tx.value_sets else None, tx.value_set_version)
        rid = None
    tx.see_value_set(vs)
    ctx.rules = tx.version_rules()
    ctx.use_supplements(tx.use_supplements + value_set_supplements(vs))
    return vs, rid


# -- $expand ------------------------------------------------------------------------------------------------


def expansion_answer(request: Request, params: OperationParams, registry: Registry,
                     resource_id: str | None = None) -> dict:
    """The expanded ValueSet of one ``$expand`` call (raises engine errors); the web interface's value set pages
    and composer answer with exactly this."""
    tx = tx_parameters(params)
    tx.refuse_unsupported("expand")
    ctx = request_context(registry, tx)
    vs, rid = _value_set(registry, ctx, tx, resource_id)
    options = tx.expand_options(vs, max_expansion(request, tx.limit), request.headers.get("accept-language"))
    return expansion_value_set(expand(vs, ctx, options), tx, rid)


def _expand(request: Request, params: OperationParams, registry: Registry, resource_id: str | None) -> Response:
    return fhir_json(request, expansion_answer(request, params, registry, resource_id))


operation_routes(router, "/$expand", _expand, names=("expand_type", "expand_instance"), result="ValueSet",
                 parameters=[*EXPANSION_PARAMETERS, "useSupplement"])


# -- $validate-code -----------------------------------------------------------------------------------------


def _coding_input(value: CodingValue, version: str | None = None) -> CodingInput:
    return CodingInput(value.system, value.code, value.version or version, value.display)


def concept_json(concept: CodeableConceptValue) -> dict:
    codings = [{k: v for k, v in (("system", c.system), ("version", c.version), ("code", c.code),
                                  ("display", c.display)) if v is not None} for c in concept.codings]
    return {k: v for k, v in (("coding", codings), ("text", concept.text)) if v}


def validation_answer(request: Request, params: OperationParams, registry: Registry,
                      resource_id: str | None = None) -> dict:
    """The Parameters answer of one ValueSet ``$validate-code`` call (raises engine errors)."""
    tx = tx_parameters(params)
    ctx = request_context(registry, tx)
    vs, _ = _value_set(registry, ctx, tx, resource_id)
    validator = ValueSetValidator(vs, ctx, tx.validate_options(vs, request.headers.get("accept-language")))
    version = tx.system_version or tx.version
    if tx.codeable_concept is not None:
        codings = [_coding_input(c, version) for c in tx.codeable_concept.codings]
        return validation_parameters(validator.validate_codeable_concept(codings), concept_json(tx.codeable_concept))
    if tx.coding is not None:
        return validation_parameters(validator.validate(_coding_input(tx.coding, version), "Coding"))
    if not tx.code:
        raise NothingToValidate
    return validation_parameters(validator.validate(CodingInput(tx.system, tx.code, version, tx.display)))


def _validate(request: Request, params: OperationParams, registry: Registry, resource_id: str | None) -> Response:
    return fhir_json(request, validation_answer(request, params, registry, resource_id))


def _one_code_in_implicit_set(params: OperationParams) -> bool:
    """Whether a call tests one plain code against an implicit value set its terminology says is cheap to test
    (``implicit_membership_is_cheap``: SNOMED CT ``?fhir_vs``, ``…?fhir_vs=isa/X``): cheaper than the hop to a
    thread, so it runs on the event loop (``fhir_api.work``). Other value sets (stored composes, ECL, refsets)
    may take long: they go to the pool."""
    if not one_plain_code(params):
        return False
    try:
        url = params.string("url")
    except SmtError:  # the handler reports it
        return False
    return url is not None and implicit_membership_is_cheap(url.partition("|")[0])


VALIDATE_PARAMETERS = (
    "url", "valueSet", "valueSetVersion", "code", "system", "systemVersion", "version", "display", "coding",
    "codeableConcept", "date", "abstract", "displayLanguage", "activeOnly", "inferSystem",
    "lenient-display-validation", "valueset-membership-only", "useSupplement", "tx-resource", "system-version",
    "force-system-version", "check-system-version", "default-to-latest-version")
operation_routes(router, "/$validate-code", _validate, names=("validate_type", "validate_instance"),
                 parameters=VALIDATE_PARAMETERS, cheap=_one_code_in_implicit_set)


@router.post("/$batch-validate-code", **route_docs("Parameters", ["validation", *VALIDATE_PARAMETERS], body=True))
def batch_validate(request: Request, params: OperationParams = Depends(read_params),
                   registry: Registry = Depends(get_registry)) -> Response:
    """Validate each ``validation`` Parameters with the call's shared parameters (url, tx-resource, …); a
    parameter a validation gives itself replaces the shared one of that name."""
    shared = [(name, value) for name, value in params.items if name != "validation"]
    answers = []
    for item in params.resources("validation"):
        own = from_parameters(item).items
        names = {name for name, _ in own}
        one = OperationParams([(n, v) for n, v in shared if n not in names] + own)  # the item's own win
        try:
            answer = validation_answer(request, one, registry)
        except SmtError as exc:  # answered in place: see fhir_api.answers
            answer = error_outcome(exc)
        answers.append({"name": "validation", "resource": answer})
    return fhir_json(request, {"resourceType": "Parameters", "parameter": answers})


# -- read and search ----------------------------------------------------------------------------------------


def _resource(info: ReleaseInfo) -> dict:
    """The stored resource with the release's id and current status (a curator may have changed it)."""
    return {**info.resource(), "id": info.id, "status": info.status}


def candidates(registry: Registry) -> list[Candidate[ReleaseInfo]]:
    """Every stored value set, as search candidates."""
    return [Candidate(info.id, {**searchable_fields(info.resource(), info.id), "status": [info.status]}, info)
            for info in registry.releases() if info.kind == "ValueSet"]


@router.get("", **search_docs())
@router.post("/_search", **search_docs())
def search(request: Request, params: OperationParams = Depends(read_params),
           registry: Registry = Depends(get_registry)) -> Response:
    """Search-type interaction: a searchset Bundle of the matching stored value sets."""
    return search_bundle(request, params, "ValueSet", candidates(registry), lambda info, _: _resource(info))


@router.get("/{resource_id}", **route_docs("ValueSet", ["_summary", "_elements"]))
def read(resource_id: str, request: Request, params: OperationParams = Depends(read_params),
         registry: Registry = Depends(get_registry)) -> Response:
    """Read interaction: one stored value set release (``_summary`` and ``_elements`` apply)."""
    if resource_id.startswith("$"):
        raise FhirError(404, "not-supported", f"Operation {resource_id} is not supported on ValueSet")
    shape: Shape = shape_of(params)
    return fhir_json(request, shape.apply(_resource(_stored_value_set(registry, resource_id))))
