"""ValueSet routes: read, search, ``$expand``, ``$validate-code`` and ``$batch-validate-code``.

Each stored ValueSet release is one resource whose id is the release id. Operations answer GET (query
parameters) and POST (a ``Parameters`` body); ``tx-resource`` parameters add request CodeSystems and
ValueSets that take precedence over the store. Errors are OperationOutcomes with tx-issue-type codes.
"""

from __future__ import annotations

import os

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from fhir_api.answers import error_outcome
from fhir_api.deps import get_registry, negotiate, operation_routes
from fhir_api.errors import FhirError
from fhir_api.params import CodeableConceptValue, CodingValue, OperationParams, from_parameters, read_params
from fhir_api.responses import fhir_json
from fhir_api.searchset import common_tests, matches, resource_identifiers, searchset
from fhir_api.valueset_json import expansion_value_set, outcome, validation_parameters
from smt.catalogue.registry import Registry
from smt.errors import SmtError
from smt.store.releases import ReleaseInfo
from smt.terminology.codesystem import CodingInput, Issue
from smt.terminology.context import ResourceContext
from smt.terminology.display_language import check as check_display_language
from smt.terminology.expand.expand import (
    DEFAULT_MAX_EXPANSION,
    ExpandOptions,
    compose_parameters,
    expand,
    resolve_value_set,
)
from smt.terminology.supplements import value_set_supplements
from smt.terminology.validate.valueset import ValidateOptions, ValueSetValidator
from smt.terminology.versions import VersionRules

router = APIRouter(prefix="/fhir/ValueSet", dependencies=[Depends(negotiate)])

EXPANSION_PARAMETERS = [
    "url", "valueSet", "valueSetVersion", "context", "filter", "count", "offset", "activeOnly", "excludeNested",
    "excludeNotForUI", "includeDesignations", "designation", "displayLanguage", "includeDefinition", "property",
    "system-version", "force-system-version", "check-system-version", "default-to-latest-version",
    "default-valueset-version", "tx-resource", "limit",
]
"""Every ``$expand`` parameter this server acts on (listed in TerminologyCapabilities)."""

EXPANSION_CAPABILITIES = {
    "hierarchical": True, "paging": True, "incomplete": False,
    "parameter": [{"name": name} for name in EXPANSION_PARAMETERS],
    "textFilter": "Case- and diacritic-insensitive word-prefix matching on code, display and designations",
}


def max_expansion(request: Request, requested: int | None = None) -> int:
    """Largest expansion answered without paging: ``SMT_EXPAND_MAX``, lowered by ``X-TOO-COSTLY-THRESHOLD`` and
    by the request's ``limit`` (the most codes the client accepts, as tx.fhir.org's parameter)."""
    limit = int(os.environ.get("SMT_EXPAND_MAX", DEFAULT_MAX_EXPANSION))
    header = request.headers.get("x-too-costly-threshold", "")
    if header.isdigit():
        limit = min(limit, int(header))
    return min(limit, requested) if requested else limit


# -- request → engine inputs ---------------------------------------------------------------------------------


def _int(params: OperationParams, name: str) -> int | None:
    values = params.all(name)
    if not values:
        return None
    value = values[0]
    if isinstance(value, bool) or not str(value).strip().lstrip("-").isdigit():
        raise FhirError(400, "invalid", f"Parameter '{name}' must be an integer", expression=[name])
    number = int(str(value).strip())
    if number < 0:
        raise FhirError(400, "invalid", f"Parameter '{name}' must not be negative", expression=[name])
    return number


def resources(params: OperationParams, name: str) -> list[dict]:
    found = []
    for value in params.all(name):
        if isinstance(value, dict) and isinstance(value.get("resource"), dict):
            found.append(value["resource"])
        else:
            raise FhirError(400, "invalid", f"Parameter '{name}' must carry a resource", expression=[name])
    return found


def request_context(registry: Registry, params: OperationParams) -> ResourceContext:
    """The resolution context of a terminology call: its ``tx-resource`` resources and version rules."""
    rules = VersionRules.from_params(
        params.strings("system-version"), params.strings("force-system-version"),
        params.strings("check-system-version"), params.boolean("default-to-latest-version"),
        params.string("valueSetVersion"), params.strings("default-valueset-version"))
    return ResourceContext(registry, resources(params, "tx-resource"), rules)


def _stored_value_set(registry: Registry, resource_id: str) -> ReleaseInfo:
    for info in registry.releases():
        if info.kind == "ValueSet" and info.id == resource_id:
            return info
    raise FhirError(404, "not-found", f"ValueSet/{resource_id} is not known to this server")


def _value_set(registry: Registry, ctx: ResourceContext, params: OperationParams,
               resource_id: str | None) -> tuple[dict, str | None]:
    """The value set of the call and the resource id to answer with."""
    if resource_id is not None:
        info = _stored_value_set(registry, resource_id)
        return info.resource(), info.id
    given = resources(params, "valueSet")
    url = params.string("url")
    if not given and not url:
        raise FhirError(400, "required", "Give the value set: parameter 'url' or 'valueSet'", expression=["url"])
    return resolve_value_set(ctx, url, given[0] if given else None, params.string("valueSetVersion")), None


def _display_language(request: Request, params: OperationParams, vs: dict) -> str | None:
    """The display language: ``displayLanguage`` (``InvalidDisplayLanguage`` when malformed), the value set's
    expansion parameter, ``Accept-Language``, then the value set's own ``language``."""
    given = params.string("displayLanguage")
    check_display_language(given)
    return (given or compose_parameters(vs).get("displayLanguage")
            or request.headers.get("accept-language") or vs.get("language"))


def _expand_options(request: Request, params: OperationParams, vs: dict) -> ExpandOptions:
    defaults = compose_parameters(vs)

    def flag(name: str) -> bool | None:
        value = params.boolean(name)
        if value is None and name in defaults:
            return defaults[name] == "true"
        return value

    return ExpandOptions(
        count=_int(params, "count"), offset=_int(params, "offset") or 0,
        active_only=bool(flag("activeOnly")), exclude_nested=flag("excludeNested"),
        exclude_not_for_ui=bool(flag("excludeNotForUI")),
        include_designations=bool(flag("includeDesignations")), designations=params.strings("designation"),
        display_language=_display_language(request, params, vs),
        include_definition=bool(flag("includeDefinition")),
        properties=[p for value in params.strings("property") for p in value.split(",") if p.strip()],
        filter=params.string("filter"), max_size=max_expansion(request, _int(params, "limit")),
        inline=bool(params.all("valueSet")))


# -- $expand ------------------------------------------------------------------------------------------------


def _expand(request: Request, params: OperationParams, registry: Registry, resource_id: str | None) -> Response:
    if params.all("context"):
        raise FhirError(400, "not-supported", "The $expand 'context' parameter is not supported",
                        expression=["context"])

    ctx = request_context(registry, params)
    vs, rid = _value_set(registry, ctx, params, resource_id)
    ctx.use_supplements(params.strings("useSupplement") + value_set_supplements(vs))
    expansion = expand(vs, ctx, _expand_options(request, params, vs))
    return fhir_json(request, expansion_value_set(expansion, params, rid))


operation_routes(router, "/$expand", _expand, names=("expand_type", "expand_instance"))


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
    ctx = request_context(registry, params)
    vs, _ = _value_set(registry, ctx, params, resource_id)
    ctx.use_supplements(params.strings("useSupplement") + value_set_supplements(vs))
    abstract = params.boolean("abstract")
    options = ValidateOptions(
        display_language=_display_language(request, params, vs), active_only=bool(params.boolean("activeOnly")),
        abstract_allowed=abstract is not False, lenient_display=bool(params.boolean("lenient-display-validation")),
        infer_system=bool(params.boolean("inferSystem")),
        membership_only=bool(params.boolean("valueset-membership-only")))
    validator = ValueSetValidator(vs, ctx, options)
    version = params.string("systemVersion") or params.string("version")
    concept = params.codeable_concept("codeableConcept")
    if concept is not None:
        result = validator.validate_codeable_concept([_coding_input(c, version) for c in concept.codings])
        return validation_parameters(result, concept_json(concept))
    coding = params.coding("coding")
    if coding is not None:
        result = validator.validate(_coding_input(coding, version), "Coding")
        return validation_parameters(result)
    code = params.string("code")
    if not code:
        raise FhirError(400, "required", "$validate-code needs a code, a coding or a codeableConcept",
                        expression=["code"])
    coding_in = CodingInput(params.string("system"), code, version, params.string("display"))
    return validation_parameters(validator.validate(coding_in))


def _validate(request: Request, params: OperationParams, registry: Registry, resource_id: str | None) -> Response:
    return fhir_json(request, validation_answer(request, params, registry, resource_id))


operation_routes(router, "/$validate-code", _validate, names=("validate_type", "validate_instance"))


@router.post("/$batch-validate-code")
def batch_validate(request: Request, params: OperationParams = Depends(read_params),
                   registry: Registry = Depends(get_registry)) -> Response:
    """Validate each ``validation`` Parameters with the call's shared parameters (url, tx-resource, …); a
    parameter a validation gives itself replaces the shared one of that name."""
    shared = [(name, value) for name, value in params.items if name != "validation"]
    answers = []
    for item in resources(params, "validation"):
        own = from_parameters(item).items
        names = {name for name, _ in own}
        one = OperationParams([(n, v) for n, v in shared if n not in names] + own)  # the item's own win
        try:
            answer = validation_answer(request, one, registry)
        except SmtError as exc:  # answered in place: see fhir_api.answers
            answer = error_outcome(exc)
        except FhirError as exc:
            answer = outcome([Issue("error", exc.code, "", exc.text, "")])
        answers.append({"name": "validation", "resource": answer})
    return fhir_json(request, {"resourceType": "Parameters", "parameter": answers})


# -- read and search ----------------------------------------------------------------------------------------


def _resource(info: ReleaseInfo) -> dict:
    resource = dict(info.resource())
    resource["id"] = info.id
    return resource


def _matches(info: ReleaseInfo, resource: dict, params: OperationParams) -> bool:
    return matches(params, common_tests(info, resource.get("name"), resource.get("title"),
                                        resource_identifiers(resource)))


@router.get("")
def search(request: Request, params: OperationParams = Depends(read_params),
           registry: Registry = Depends(get_registry)) -> Response:
    """Search-type interaction: a searchset Bundle of the matching stored value sets."""
    found = [(info, _resource(info)) for info in registry.releases() if info.kind == "ValueSet"]
    found = [(info, res) for info, res in found if _matches(info, res, params)]
    return searchset(request, params, "ValueSet", found, lambda match: (match[0].id, match[1]))


@router.get("/{resource_id}")
def read(resource_id: str, request: Request, registry: Registry = Depends(get_registry)) -> Response:
    """Read interaction: one stored value set release."""
    if resource_id.startswith("$"):
        raise FhirError(404, "not-supported", f"Operation {resource_id} is not supported on ValueSet")
    return fhir_json(request, _resource(_stored_value_set(registry, resource_id)))
