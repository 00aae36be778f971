"""CodeSystem operations ``$lookup``, ``$validate-code`` and ``$subsumes`` (type and instance level).

Each answers GET (query parameters) and POST (a ``Parameters`` body or a form). At instance level
(``/fhir/CodeSystem/{id}/$op``) the release named by the id gives the system and version.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from fhir_api.deps import negotiate, one_plain_code, operation_routes
from fhir_api.params import CodingValue, OperationParams
from fhir_api.responses import fhir_json
from fhir_api.results import lookup_parameters, subsumes_parameters
from fhir_api.valueset import concept_json as _concept_json
from fhir_api.valueset import request_context, tx_parameters
from fhir_api.valueset_json import validation_parameters
from smt.codesystems.snomed.expression import written_as_expression
from smt.errors import InvalidParameter, MissingParameter, NothingToValidate
from smt.releases.registry import Registry, normalise_system
from smt.terminology import codesystem as engine
from smt.terminology.codesystem import CodeSystemVersion, CodingInput
from smt.terminology.retirement import with_retirement
from smt.terminology.validate.valueset import code_system_validator, validate_in_code_systems

router = APIRouter(prefix="/fhir/CodeSystem", dependencies=[Depends(negotiate)])


def _target(registry: Registry, instance: CodeSystemVersion | None, system: str | None,
            version: str | None) -> tuple[str | None, str | None]:
    """System and version to use: the instance's when the call is instance-level (``system``, if given, must
    name it: its URL, an alias or an OID)."""
    if instance is None:
        return system, version
    if system and instance.info.id not in {r.id for r in registry.versions_of(system)}:
        raise InvalidParameter(f"System '{system}' does not match CodeSystem/{instance.info.id} ({instance.url})",
                               "system")
    return instance.url, instance.version


def _instance(registry: Registry, resource_id: str) -> CodeSystemVersion:
    return engine.by_id(registry, resource_id)


def _accept_language(request: Request) -> str | None:
    return request.headers.get("accept-language")


# -- $lookup ------------------------------------------------------------------------------------------------


def _lookup(request: Request, params: OperationParams, registry: Registry,
            instance: CodeSystemVersion | None) -> Response:
    tx = tx_parameters(params)
    coding = tx.coding or CodingValue(None, None)
    code = tx.code or coding.code
    system, version = _target(registry, instance, tx.system or coding.system, coding.version or tx.version)
    if not code:
        raise MissingParameter("$lookup needs a code (parameter 'code' or 'coding')", "code")
    if not system:
        raise MissingParameter("$lookup needs the code system (parameter 'system' or 'coding')", "system")
    ctx = request_context(registry, tx)
    ctx.use_supplements(tx.use_supplements)
    provider = ctx.code_system(system, version)
    result = engine.lookup_in(provider, code, tx.properties, tx.language(_accept_language(request)))
    result = with_retirement(result, registry, provider, tx.properties)
    return fhir_json(request, lookup_parameters(result, ctx.used_supplements))


LOOKUP_PARAMETERS = ("code", "system", "version", "coding", "date", "displayLanguage", "property", "useSupplement",
                     "tx-resource")
operation_routes(router, "/$lookup", _lookup, instance=_instance, names=("lookup", "lookup_instance"),
                 parameters=LOOKUP_PARAMETERS, cheap=one_plain_code)


# -- $validate-code -----------------------------------------------------------------------------------------


def _validate(request: Request, params: OperationParams, registry: Registry,
              instance: CodeSystemVersion | None) -> Response:
    tx = tx_parameters(params)
    system, version = _target(registry, instance, tx.url or tx.system, tx.version)
    concept, coding = tx.codeable_concept, tx.coding
    if concept is not None:
        codings = [CodingInput(c.system or (system if instance else None), c.code,
                               c.version or (version if instance else None), c.display)
                   for c in concept.codings]
    elif coding is not None:
        codings = [CodingInput(coding.system or system, coding.code, coding.version or version,
                               coding.display or tx.display)]
        if not coding.code or not codings[0].system:
            raise MissingParameter("The coding needs a system and a code", "coding")
        system = codings[0].system
    else:
        if not tx.code:
            raise NothingToValidate
        if not system:
            raise MissingParameter("$validate-code needs the code system (parameter 'url')", "url")
        codings = [CodingInput(system, tx.code, version, tx.display)]
    options = tx.validate_options(None, _accept_language(request))
    ctx = request_context(registry, tx)
    ctx.use_supplements(tx.use_supplements)
    if concept is not None:
        result = validate_in_code_systems(ctx, codings, options)
        return fhir_json(request, validation_parameters(result, _concept_json(concept)))
    result = code_system_validator(ctx, system, codings[0].version, options).validate(
        codings[0], "Coding" if coding is not None else "")
    return fhir_json(request, validation_parameters(result))


VALIDATE_PARAMETERS = ("url", "code", "version", "display", "coding", "codeableConcept", "date", "abstract",
                       "displayLanguage", "useSupplement", "tx-resource")
operation_routes(router, "/$validate-code", _validate, instance=_instance,
                 names=("validate_code", "validate_code_instance"), parameters=VALIDATE_PARAMETERS,
                 cheap=one_plain_code)


# -- $subsumes ----------------------------------------------------------------------------------------------


# $subsumes runs on the event loop (an async handler, so an async endpoint): two indexed concept reads and one
# closure-table probe (tens of µs) cost less than the hop to a worker thread (≈ 0.2 ms here,
# benchmarks/README.md "served over HTTP"). Post-coordinated expressions (normal forms, a few ms at scale) go to
# the thread pool instead.
async def _subsumes(request: Request, params: OperationParams, registry: Registry,
                    instance: CodeSystemVersion | None) -> Response:
    tx = tx_parameters(params)
    coding_a = tx.coding_a or CodingValue(None, None)
    coding_b = tx.coding_b or CodingValue(None, None)
    systems = {normalise_system(s) for s in (coding_a.system, coding_b.system) if s}
    if len(systems) > 1:
        raise InvalidParameter("codingA and codingB are from different code systems", "codingB")
    code_a = tx.code_a or coding_a.code
    code_b = tx.code_b or coding_b.code
    system, version = _target(registry, instance, tx.system or coding_a.system or coding_b.system,
                              tx.version or coding_a.version or coding_b.version)
    if not code_a:
        raise MissingParameter("$subsumes needs codeA (or codingA)", "codeA")
    if not code_b:
        raise MissingParameter("$subsumes needs codeB (or codingB)", "codeB")
    if not system:
        raise MissingParameter("$subsumes needs the code system (parameter 'system' or the codings')", "system")
    if written_as_expression(code_a) or written_as_expression(code_b):  # normal forms: a few ms at scale
        outcome = await run_in_threadpool(engine.subsumes, registry, system, code_a, code_b, version)
    else:
        outcome = engine.subsumes(registry, system, code_a, code_b, version)
    return fhir_json(request, subsumes_parameters(outcome))


operation_routes(router, "/$subsumes", _subsumes, instance=_instance, names=("subsumes", "subsumes_instance"),
                 parameters=("codeA", "codeB", "system", "version", "codingA", "codingB"))
