"""The read-only tools of the agent interface, as plain functions over the published releases.

Each takes the registry as anonymous readers see it (drafts hidden) and answers a JSON-ready dict in which
every concept carries its ``system``, ``version`` and ``code``, so an assistant quotes real, version-pinned
codes. Inputs go through the same readers and bounds as the HTTP API (``TxParameters`` with the server's
expansion limit, the search page size, ``offset`` ≤ 1,000,000, text lengths); errors are ``SmtError``.
"""

from __future__ import annotations

from smt.errors import InvalidParameter, MissingParameter, NotFound
from smt.releases.registry import Registry
from smt.search.service import MAX_COUNT, search
from smt.terminology import codesystem as engine
from smt.terminology.codesystem import CodingInput, ValidationResult
from smt.terminology.context import ResourceContext
from smt.terminology.expand.expand import expand, iter_entries, resolve_value_set
from smt.terminology.parameters import MAX_OFFSET, Bounds, OperationParams, TxParameters, Value, expansion_limit
from smt.terminology.retirement import with_retirement
from smt.terminology.translate import Concept, TranslateQuery, candidate_maps, translate
from smt.terminology.validate.valueset import ValueSetValidator, code_system_validator

MAX_QUERY = 500
"""Longest search text (as ``GET /search``)."""
MAX_TEXT = 4096
"""Longest code, URL, version or display a tool takes."""


def _text(name: str, value: str | None, longest: int = MAX_TEXT, required: bool = False) -> str | None:
    if value is None or not value.strip():
        if required:
            raise MissingParameter(f"'{name}' is required", name)
        return None
    if len(value) > longest:
        raise InvalidParameter(f"'{name}' is longer than {longest} characters", name)
    return value.strip()


def _parameters(**given: Value | None) -> TxParameters:
    """The parameters of a call, read like the HTTP API's (same names, same bounds)."""
    items: list[tuple[str, Value]] = [(name, value) for name, value in given.items() if value is not None]
    return TxParameters.read(OperationParams(items), Bounds(count=expansion_limit()))


def _default_version(registry: Registry, system: str | None) -> str | None:
    if not system:
        return None
    try:
        return registry.resolve(system).version
    except NotFound:
        return None


# -- search ----------------------------------------------------------------------------------------------------


def search_concepts(registry: Registry, text: str, system: str | None = None, version: str | None = None,
                    count: int = 10) -> dict:
    """Concepts whose terms match ``text`` (French first; codes too), best first."""
    query = _text("text", text, MAX_QUERY, required=True)
    if not 0 <= count <= MAX_COUNT:
        raise InvalidParameter(f"'count' must be between 0 and {MAX_COUNT}", "count")
    page = search(registry, query or "", system=_text("system", system), version=_text("version", version),
                  count=count)
    return page.as_dict()


# -- lookup and validate-code ------------------------------------------------------------------------------------


def lookup(registry: Registry, system: str, code: str, version: str | None = None,
           display_language: str | None = None) -> dict:
    """A concept of a code system version: display, designations, properties (retirement included)."""
    tx = _parameters(system=_text("system", system, required=True), code=_text("code", code, required=True),
                     version=_text("version", version), displayLanguage=_text("displayLanguage", display_language))
    ctx = ResourceContext(registry, rules=tx.version_rules())
    provider = ctx.code_system(tx.system or "", tx.version)
    result = with_retirement(engine.lookup_in(provider, tx.code or "", None, tx.language(None)), registry, provider,
                             None)
    return {
        "system": result.system, "version": result.version, "code": result.code, "display": result.display,
        "name": result.name, "definition": result.definition, "inactive": result.inactive, "abstract": result.abstract,
        "designations": [{"language": d.language, "use": d.use.code if d.use else None, "value": d.value}
                         for d in result.designations],
        "properties": [{"code": p.code, "value": _plain(p.value)} for p in result.properties],
    }


def _plain(value: object) -> object:
    if hasattr(value, "code") and hasattr(value, "system"):
        return {"system": value.system, "code": value.code, "display": getattr(value, "display", None)}
    return value


def _validation(result: ValidationResult, system: str | None, code: str | None, version: str | None) -> dict:
    return {
        "result": result.result, "system": result.system or system, "version": result.version or version,
        "code": result.code or code, "display": result.display, "inactive": result.inactive,
        "message": result.message,
        "issues": [{"severity": i.severity, "type": i.tx_code, "text": i.text} for i in result.issues],
    }


def validate_code(registry: Registry, system: str, code: str, version: str | None = None,
                  display: str | None = None, value_set: str | None = None) -> dict:
    """Whether ``code`` is a valid code of ``system`` (in ``value_set`` when given), and its display."""
    tx = _parameters(system=_text("system", system, required=True), code=_text("code", code, required=True),
                     version=_text("version", version), display=_text("display", display),
                     url=_text("value_set", value_set))
    ctx = ResourceContext(registry, rules=tx.version_rules())
    coding = CodingInput(tx.system, tx.code, tx.version, tx.display)
    if tx.url:
        vs = resolve_value_set(ctx, tx.url, None)
        result = ValueSetValidator(vs, ctx, tx.validate_options(vs)).validate(coding, "Coding")
    else:
        result = code_system_validator(ctx, tx.system, tx.version, tx.validate_options(None)).validate(coding)
    return _validation(result, tx.system, tx.code, result.version or tx.version)


# -- expand and translate ------------------------------------------------------------------------------------------


def expand_value_set(registry: Registry, value_set: str, filter: str | None = None, count: int = 20,
                     offset: int = 0, value_set_version: str | None = None) -> dict:
    """A page of the members of a value set (``filter``: words the members' terms must contain)."""
    if not 0 <= offset <= MAX_OFFSET:
        raise InvalidParameter(f"'offset' must be between 0 and {MAX_OFFSET}", "offset")
    tx = _parameters(url=_text("value_set", value_set, required=True), filter=_text("filter", filter, MAX_QUERY),
                     count=count, offset=offset, valueSetVersion=_text("value_set_version", value_set_version))
    ctx = ResourceContext(registry, rules=tx.version_rules())
    vs = resolve_value_set(ctx, tx.url, None, tx.value_set_version)
    expansion = expand(vs, ctx, tx.expand_options(vs, expansion_limit()))
    used = (canonical.partition("|") for canonical in expansion.used_code_systems)
    versions = {url: version or None for url, _, version in used}
    return {
        "value_set": vs.get("url"), "value_set_version": vs.get("version"), "total": expansion.total,
        "offset": expansion.offset,
        "contains": [{"system": e.system, "version": e.version or versions.get(e.system), "code": e.code,
                      "display": e.display, **({"inactive": True} if e.inactive else {})}
                     for e in iter_entries(expansion.contains)],
    }


def translate_code(registry: Registry, system: str, code: str, version: str | None = None,
                   target_system: str | None = None, concept_map: str | None = None) -> dict:
    """The codes of other code systems (or ``target_system``) a code maps to, with the map that says it."""
    query = TranslateQuery([Concept(_text("system", system, required=True), _text("code", code, required=True) or "",
                                    _text("version", version))], False, _text("target_system", target_system))
    result = translate(candidate_maps(registry, _text("concept_map", concept_map), None, (), query), query)
    return {
        "result": result.result, "message": result.message,
        "matches": [{"equivalence": m.equivalence, "system": m.concept.system,
                     "version": m.concept.version or _default_version(registry, m.concept.system),
                     "code": m.concept.code, "display": m.concept.display, "map": m.origin}
                    for m in result.matches if m.concept is not None],
    }
