"""Terminology operation parameters, read once: the one place their names are interpreted (no HTTP).

``OperationParams`` holds a call's parameters as given, in order (the API builds it from a query string, a
form or a ``Parameters`` body; ``parameter_value`` turns one FHIR ``value[x]`` into a Python value).
``TxParameters.read`` interprets every one of them through ``TxParameters.see`` — the model is FHIRsmith's
``tx/params.js`` ``TxParameters.seeParameter(name, value, overwrite)`` — and gives the options of ``$expand``,
``$validate-code`` and ``$lookup``, the version rules, the request resources and the parameters an expansion
echoes. ``translate_query`` reads ``$translate``'s own parameters (R4 or R5 names).

**Precedence** (``see``'s ``overwrite``): the request's parameters come first and win; a value set's
``valueset-expansion-parameter`` extensions (``see_value_set``) are defaults — a single-valued parameter the
request did not give is taken from the value set, a repeating one (``designation``, ``property``,
``useSupplement``, the version rules) adds to the request's. The extension's definition says so: "A default
parameter to use when expanding this value set. A client may also pass a parameter with the same parameter
name; servers should either overwrite this default parameter, or add to the list of identically named
parameters, depending on which parameter is named". Within the request, the first value of a single-valued
parameter is the one used.

**Bounds**: every number is a non-negative integer within ``Bounds`` (``count`` at most the server's
expansion limit, ``offset`` and ``limit`` at most 1,000,000, search ``_count`` at most 1,000 and ``_offset``
at most 1,000,000, ``$closure`` ``version`` at most 2³¹ − 1); anything else is an ``InvalidParameter`` (HTTP
400).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from smt.errors import InvalidParameter, NotSupported
from smt.terminology.display_language import check as check_display_language
from smt.terminology.expand.options import DEFAULT_MAX_EXPANSION, ExpandOptions
from smt.terminology.translate import Concept, TranslateQuery
from smt.terminology.validate.options import ValidateOptions
from smt.terminology.versions import VersionRules

EXPANSION_PARAMETER = "http://hl7.org/fhir/StructureDefinition/valueset-expansion-parameter"
EXPANSION_PARAMETER_TOOLS = "http://hl7.org/fhir/tools/StructureDefinition/valueset-expansion-parameter"
"""The extension's earlier (deprecated) URL, still read as FHIRsmith does."""

MAX_OFFSET = 1_000_000
"""Largest ``offset`` / ``_offset``: beyond the size of any code system served (SNOMED CT ≈ 370,000 concepts)."""
MAX_LIMIT = 1_000_000
"""Largest ``limit`` (the most codes a client accepts: above the expansion limit it changes nothing)."""
MAX_SEARCH_COUNT = 1_000
"""Largest ``_count`` of a FHIR search (one page of releases)."""
MAX_CLOSURE_VERSION = 2**31 - 1
"""Largest ``$closure`` ``version`` (a counter this server returned)."""


def expansion_limit() -> int:
    """``SMT_EXPAND_MAX``: the largest expansion answered without paging, and the largest page (``count``)."""
    return int(os.environ.get("SMT_EXPAND_MAX", DEFAULT_MAX_EXPANSION))


# -- values --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CodingValue:
    system: str | None
    code: str | None
    version: str | None = None
    display: str | None = None


@dataclass(frozen=True, slots=True)
class CodeableConceptValue:
    codings: list[CodingValue] = field(default_factory=list)
    text: str | None = None


Value = str | bool | int | float | CodingValue | CodeableConceptValue | dict
"""A parameter value: text (valueCode, valueUri, valueString…), boolean, number, Coding, CodeableConcept, or
for ``resource`` / ``part`` parameters the raw JSON (``{"resource": …}``)."""


def _coding_json(data: object, name: str) -> CodingValue:
    if not isinstance(data, dict):
        raise InvalidParameter(f"Parameter '{name}' must be a Coding", name)
    fields = {key: data.get(key) for key in ("system", "code", "version", "display")}
    if any(v is not None and not isinstance(v, str) for v in fields.values()):
        raise InvalidParameter(f"Parameter '{name}' is not a valid Coding", name)
    return CodingValue(**fields)


def _codeable_concept_json(data: object, name: str) -> CodeableConceptValue:
    if not isinstance(data, dict) or not isinstance(data.get("coding", []), list):
        raise InvalidParameter(f"Parameter '{name}' must be a CodeableConcept", name)
    return CodeableConceptValue([_coding_json(c, name) for c in data.get("coding", [])], data.get("text"))


def parameter_value(item: dict, name: str) -> Value:
    """The value of one ``Parameters.parameter`` (or of an extension's ``value`` part)."""
    values = [key for key in item if key.startswith("value")]
    if len(values) > 1:
        raise InvalidParameter(f"Parameter '{name}' has more than one value[x]", name)
    if not values:
        return {key: item[key] for key in ("resource", "part") if key in item}
    key = values[0]
    value = item[key]
    if key == "valueCoding":
        return _coding_json(value, name)
    if key == "valueCodeableConcept":
        return _codeable_concept_json(value, name)
    if isinstance(value, str | bool | int | float):
        return value
    return {key: value}


# -- readers: one value of one parameter -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bounds:
    """The largest value of each numeric parameter."""

    count: int = DEFAULT_MAX_EXPANSION
    offset: int = MAX_OFFSET
    limit: int = MAX_LIMIT
    search_count: int = MAX_SEARCH_COUNT


def text(name: str, value: Value) -> str | None:
    """A simple value as text (None when blank)."""
    if isinstance(value, bool | dict | CodingValue | CodeableConceptValue):
        raise InvalidParameter(f"Parameter '{name}' must be a simple value", name)
    return str(value).strip() or None


def flag(name: str, value: Value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise InvalidParameter(f"Parameter '{name}' must be a boolean", name)


def integer(name: str, value: Value, bound: int) -> int:
    """A non-negative integer at most ``bound`` (checked before conversion: no huge number is ever built)."""
    raw = "" if isinstance(value, bool | float | dict | CodingValue | CodeableConceptValue) else str(value).strip()
    digits = raw.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()) or (raw.startswith("-") and digits.strip("0")):
        raise InvalidParameter(f"{name} must be a non-negative integer", name)
    if len(digits.lstrip("0")) > len(str(bound)) or int(digits) > bound:
        raise InvalidParameter(f"{name} must be at most {bound}", name)
    return int(digits)


def coding(name: str, value: Value) -> CodingValue:
    """A Coding given as valueCoding, or as ``system|code`` / ``system|version|code`` text."""
    if isinstance(value, CodingValue):
        return value
    if isinstance(value, str) and "|" in value:
        system, _, code = value.rpartition("|")
        system, _, version = system.partition("|")
        return CodingValue(system or None, code or None, version or None)
    raise InvalidParameter(f"Parameter '{name}' must be a Coding (or system|code)", name)


def codeable_concept(name: str, value: Value) -> CodeableConceptValue:
    if isinstance(value, CodeableConceptValue):
        return value
    if isinstance(value, CodingValue):
        return CodeableConceptValue([value])
    raise InvalidParameter(f"Parameter '{name}' must be a CodeableConcept", name)


def resource(name: str, value: Value) -> dict:
    if isinstance(value, dict) and isinstance(value.get("resource"), dict):
        return value["resource"]
    raise InvalidParameter(f"Parameter '{name}' must carry a resource", name)


def language(name: str, value: Value) -> str | None:
    """A ``displayLanguage``: ``InvalidDisplayLanguage`` unless a list of language ranges."""
    found = text(name, value)
    check_display_language(found)
    return found


# -- the call's parameters as given ----------------------------------------------------------------------------


class OperationParams:
    """The parameters of one operation call, in order, by name (typed reads raise ``InvalidParameter``)."""

    def __init__(self, items: list[tuple[str, Value]] | None = None) -> None:
        self.items = items or []

    def all(self, name: str) -> list[Value]:
        return [value for key, value in self.items if key == name]

    def __contains__(self, name: str) -> bool:
        return any(key == name for key, _ in self.items)

    def string(self, name: str) -> str | None:
        """The first value of ``name`` as text (None when absent or empty)."""
        values = self.strings(name)
        return values[0] if values else None

    def strings(self, name: str) -> list[str]:
        return [found for value in self.all(name) if (found := text(name, value)) is not None]

    def boolean(self, name: str) -> bool | None:
        value = next(iter(self.all(name)), None)
        return None if value is None else flag(name, value)

    def coding(self, name: str) -> CodingValue | None:
        value = next(iter(self.all(name)), None)
        return None if value is None else coding(name, value)

    def codeable_concept(self, name: str) -> CodeableConceptValue | None:
        value = next(iter(self.all(name)), None)
        return None if value is None else codeable_concept(name, value)

    def resources(self, name: str) -> list[dict]:
        return [resource(name, value) for value in self.all(name)]

    def integer(self, name: str, default: int, bound: int) -> int:
        """An integer parameter such as ``_count`` (``default`` when absent), within ``0..bound``."""
        value = next(iter(self.all(name)), None)
        return default if value is None or value == "" else integer(name, value, bound)


# -- the parameters of a terminology operation ---------------------------------------------------------------------


Reader = Callable[[str, Value, Bounds], object]
ListReader = Callable[[str, Value, Bounds], list]


def _text(name: str, value: Value, bounds: Bounds) -> str | None:
    return text(name, value)


def _texts(name: str, value: Value, bounds: Bounds) -> list[str]:
    found = text(name, value)
    return [found] if found else []


def _comma_texts(name: str, value: Value, bounds: Bounds) -> list[str]:
    return [part.strip() for part in (text(name, value) or "").split(",") if part.strip()]


def _flag(name: str, value: Value, bounds: Bounds) -> bool:
    return flag(name, value)


def _coding(name: str, value: Value, bounds: Bounds) -> CodingValue:
    return coding(name, value)


def _resources(name: str, value: Value, bounds: Bounds) -> list[dict]:
    return [resource(name, value)]


SINGLE: dict[str, tuple[str, Reader]] = {
    # what the call is about
    "url": ("url", _text),
    "valueSetVersion": ("value_set_version", _text),
    "code": ("code", _text),
    "system": ("system", _text),
    "version": ("version", _text),
    "systemVersion": ("system_version", _text),
    "display": ("display", _text),
    "coding": ("coding", _coding),
    "codeableConcept": ("codeable_concept", lambda n, v, b: codeable_concept(n, v)),
    "codeA": ("code_a", _text),
    "codeB": ("code_b", _text),
    "codingA": ("coding_a", _coding),
    "codingB": ("coding_b", _coding),
    # how to answer
    "displayLanguage": ("display_language", lambda n, v, b: language(n, v)),
    "filter": ("filter", _text),
    "count": ("count", lambda n, v, b: integer(n, v, b.count)),
    "offset": ("offset", lambda n, v, b: integer(n, v, b.offset)),
    "limit": ("limit", lambda n, v, b: integer(n, v, b.limit)),
    "activeOnly": ("active_only", _flag),
    "excludeNested": ("exclude_nested", _flag),
    "excludeNotForUI": ("exclude_not_for_ui", _flag),
    "includeDesignations": ("include_designations", _flag),
    "includeDefinition": ("include_definition", _flag),
    "default-to-latest-version": ("default_to_latest", _flag),
    "abstract": ("abstract", _flag),
    "lenient-display-validation": ("lenient_display", _flag),
    "inferSystem": ("infer_system", _flag),
    "valueset-membership-only": ("membership_only", _flag),
    "versionsMatch": ("versions_match", _flag),
}
"""Single-valued parameters: name → (attribute, reader)."""

REPEATING: dict[str, tuple[str, ListReader]] = {
    "designation": ("designations", _texts),
    "property": ("properties", _comma_texts),
    "useSupplement": ("use_supplements", _texts),
    "system-version": ("system_versions", _texts),
    "force-system-version": ("force_system_versions", _texts),
    "check-system-version": ("check_system_versions", _texts),
    "default-valueset-version": ("default_value_set_versions", _texts),
    "tx-resource": ("tx_resources", _resources),
    "valueSet": ("value_sets", _resources),
}
"""Repeating parameters: name → (attribute, reader of a list); each value adds to the list (a text once)."""

UNSUPPORTED: dict[str, tuple[str, ...]] = {"expand": ("context",)}
"""Parameters an operation defines that this server does not implement (a ``not-supported`` error)."""

EXPANSION_PARAMETERS = [
    "url", "valueSet", "valueSetVersion", "context", "filter", "count", "offset", "activeOnly", "excludeNested",
    "excludeNotForUI", "includeDesignations", "designation", "displayLanguage", "includeDefinition", "property",
    "system-version", "force-system-version", "check-system-version", "default-to-latest-version",
    "default-valueset-version", "tx-resource", "limit",
]
"""Every ``$expand`` parameter this server acts on (listed in TerminologyCapabilities)."""

ECHOED: dict[str, str] = {
    "activeOnly": "valueBoolean", "count": "valueInteger", "offset": "valueInteger",
    "excludeNested": "valueBoolean", "excludeNotForUI": "valueBoolean", "excludePostCoordinated": "valueBoolean",
    "includeDesignations": "valueBoolean", "includeDefinition": "valueBoolean", "displayLanguage": "valueCode",
    "designation": "valueString", "filter": "valueString", "default-to-latest-version": "valueBoolean",
    "default-valueset-version": "valueUri",
}
"""Request parameters echoed in ``expansion.parameter``, with their FHIR value type. The version parameters
(``system-version``, ``force-``, ``check-``) are echoed only when they decided a version (``Expansion``)."""


def _echo_value(kind: str, value: Value) -> Value:
    if kind == "valueBoolean" and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if kind == "valueInteger" and isinstance(value, str):
        digits = value.strip().removeprefix("-")
        if digits.isascii() and digits.isdigit() and len(digits) <= 18:
            return int(value)
    return value


@dataclass(slots=True)
class TxParameters:
    """Every parameter of one terminology operation call, read once (``read``, then ``see_value_set``)."""

    bounds: Bounds = field(default_factory=Bounds)
    url: str | None = None
    value_set_version: str | None = None
    code: str | None = None
    system: str | None = None
    version: str | None = None
    system_version: str | None = None
    display: str | None = None
    coding: CodingValue | None = None
    codeable_concept: CodeableConceptValue | None = None
    code_a: str | None = None
    code_b: str | None = None
    coding_a: CodingValue | None = None
    coding_b: CodingValue | None = None
    display_language: str | None = None
    filter: str | None = None
    count: int | None = None
    offset: int | None = None
    limit: int | None = None
    active_only: bool | None = None
    exclude_nested: bool | None = None
    exclude_not_for_ui: bool | None = None
    include_designations: bool | None = None
    include_definition: bool | None = None
    default_to_latest: bool | None = None
    abstract: bool | None = None
    lenient_display: bool | None = None
    infer_system: bool | None = None
    membership_only: bool | None = None
    versions_match: bool | None = None
    designations: list[str] = field(default_factory=list)
    properties: list[str] = field(default_factory=list)
    use_supplements: list[str] = field(default_factory=list)
    system_versions: list[str] = field(default_factory=list)
    force_system_versions: list[str] = field(default_factory=list)
    check_system_versions: list[str] = field(default_factory=list)
    default_value_set_versions: list[str] = field(default_factory=list)
    tx_resources: list[dict] = field(default_factory=list)
    value_sets: list[dict] = field(default_factory=list)
    given: set[str] = field(default_factory=set)
    """Names the request gave (whatever their value)."""
    echoed: list[tuple[str, str, Value]] = field(default_factory=list)
    """(name, FHIR value type, value) of the request parameters an expansion echoes, in request order."""
    _seen: set[str] = field(default_factory=set)
    _requested: set[str] = field(default_factory=set)

    @classmethod
    def read(cls, params: OperationParams, bounds: Bounds | None = None) -> TxParameters:
        """The parameters of a call (each one through ``see``, as given by the request)."""
        found = cls(bounds or Bounds())
        for name, value in params.items:
            found.given.add(name)
            found.see(name, value)
            if name in ECHOED and not isinstance(value, dict):
                found.echoed.append((name, ECHOED[name], _echo_value(ECHOED[name], value)))
        return found

    def see(self, name: str, value: Value, overwrite: bool = True) -> None:
        """Take one parameter: ``overwrite`` when it comes from the request (it wins), not when it is a value
        set's default (it fills in only what the request left out). Unknown names are ignored."""
        if name in REPEATING:
            attribute, read_list = REPEATING[name]
            current = getattr(self, attribute)
            current.extend(v for v in read_list(name, value, self.bounds) if isinstance(v, dict) or v not in current)
            return
        if name not in SINGLE or name in self._requested or (not overwrite and name in self._seen):
            return
        attribute, read = SINGLE[name]
        parsed = read(name, value, self.bounds)
        if parsed is None:
            return
        setattr(self, attribute, parsed)
        self._seen.add(name)
        if overwrite:
            self._requested.add(name)

    def see_value_set(self, vs: dict) -> None:
        """A value set's ``valueset-expansion-parameter`` extensions, as defaults (see the module's precedence)."""
        for ext in (vs.get("compose") or {}).get("extension", []):
            if ext.get("url") not in (EXPANSION_PARAMETER, EXPANSION_PARAMETER_TOOLS):
                continue
            parts = {e.get("url"): e for e in ext.get("extension", []) if isinstance(e, dict)}
            name = parts.get("name", {}).get("valueCode") or parts.get("name", {}).get("valueString")
            if name and "value" in parts:
                self.see(name, parameter_value(parts["value"], name), overwrite=False)

    def refuse_unsupported(self, operation: str) -> None:
        """``NotSupported`` for a parameter ``operation`` defines but this server does not implement."""
        for name in UNSUPPORTED.get(operation, ()):
            if name in self.given:
                raise NotSupported(f"The ${operation} '{name}' parameter is not supported", name)

    # -- what the engines take ---------------------------------------------------------------------------------

    def version_rules(self) -> VersionRules:
        return VersionRules.from_params(self.system_versions, self.force_system_versions,
                                        self.check_system_versions, self.default_to_latest,
                                        self.value_set_version, self.default_value_set_versions)

    def language(self, accept_language: str | None, vs: dict | None = None) -> str | None:
        """The display language: ``displayLanguage`` (the request's, else the value set's), the HTTP
        ``Accept-Language``, then the value set's own ``language``."""
        return self.display_language or accept_language or (vs or {}).get("language")

    def expand_options(self, vs: dict, max_size: int, accept_language: str | None = None) -> ExpandOptions:
        return ExpandOptions(
            count=self.count, offset=self.offset or 0, active_only=bool(self.active_only),
            exclude_nested=self.exclude_nested, exclude_not_for_ui=bool(self.exclude_not_for_ui),
            include_designations=bool(self.include_designations), designations=list(self.designations),
            display_language=self.language(accept_language, vs), include_definition=bool(self.include_definition),
            properties=list(self.properties), filter=self.filter, max_size=max_size, inline=bool(self.value_sets),
            versions_match=self.versions_match)

    def validate_options(self, vs: dict | None, accept_language: str | None = None) -> ValidateOptions:
        """``$validate-code`` options: against a value set ``vs``, or (None) a code system, which takes the
        display language only."""
        if vs is None:
            return ValidateOptions(display_language=self.language(accept_language))
        return ValidateOptions(
            display_language=self.language(accept_language, vs), active_only=bool(self.active_only),
            abstract_allowed=self.abstract is not False, lenient_display=bool(self.lenient_display),
            infer_system=bool(self.infer_system), membership_only=bool(self.membership_only),
            versions_match=self.versions_match)


# -- $translate ---------------------------------------------------------------------------------------------------


R5_TRANSLATE_INPUTS = ("sourceCode", "sourceSystem", "sourceVersion", "sourceCoding", "sourceCodeableConcept",
                       "targetCode", "targetCoding", "targetCodeableConcept", "targetSystem", "sourceScope",
                       "targetScope")
"""``$translate`` parameters only R5 names: a call that uses one is answered with R5 match parts."""


def _translate_concept(value: CodingValue, name: str) -> Concept:
    if not value.code:
        raise InvalidParameter(f"Parameter '{name}' has no code", name)
    return Concept(value.system, value.code, value.version, value.display)


def _translate_codings(params: OperationParams, side: str) -> list[Concept]:
    """The codings to translate: ``{side}Code`` + ``{side}System`` (+ ``{side}Version``), a Coding, or a
    CodeableConcept (R4 names when ``side`` is empty)."""
    def named(name: str) -> str:
        return f"{side}{name[0].upper()}{name[1:]}" if side else name

    found: list[Concept] = []
    if (code := params.string(named("code"))) is not None:
        found.append(Concept(params.string(named("system")), code, params.string(named("version"))))
    if (value := params.coding(named("coding"))) is not None:
        found.append(_translate_concept(value, named("coding")))
    if (codeable := params.codeable_concept(named("codeableConcept"))) is not None:
        found += [_translate_concept(c, named("codeableConcept")) for c in codeable.codings]
    return found


def translate_query(params: OperationParams) -> tuple[TranslateQuery, bool]:
    """The query of a ``$translate`` call, and whether it was written with R5 parameter names."""
    if any(name in params for name in R5_TRANSLATE_INPUTS):
        reverse = any(name in params for name in ("targetCode", "targetCoding", "targetCodeableConcept"))
        side, other = ("target", "source") if reverse else ("source", "target")
        query = TranslateQuery(_translate_codings(params, side), reverse, params.string(f"{other}System"),
                               params.string("sourceScope"), params.string("targetScope"))
        return query, True
    query = TranslateQuery(_translate_codings(params, ""), bool(params.boolean("reverse")),
                           params.string("targetsystem"), params.string("source"), params.string("target"))
    return query, False


IMPACT_PARAMETERS = ("url", "from", "to")


def impact_query(params: OperationParams) -> tuple[str | None, str | None, str | None]:
    """``CodeSystem/$impact``'s parameters: the code system ``url`` and the versions ``from`` and ``to`` (each
    optional here: the operation gives their defaults)."""
    return params.string("url"), params.string("from"), params.string("to")
