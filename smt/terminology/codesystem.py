"""CodeSystem engine: $lookup and $subsumes, and what $validate-code shares, with no HTTP or FHIR JSON.

``$validate-code`` itself (CodeSystem and ValueSet) lives in ``validate_vs`` over a request's
``ResourceContext``; this module gives it ``Issue``, ``CodingInput``, ``ValidationResult`` and the errors.

* No version = the latest active release (``Registry.resolve``); system URLs are normalised (trailing slash,
  ``urn:oid:``, catalogue aliases).
* Unknown system, version or code raise ``NotFound`` subclasses whose messages follow tx.fhir.org wording.
* Code look-ups (``$lookup``, ``$subsumes``) try the code as given, then the system's entry in
  ``CODE_NORMALISERS`` (CIM-10: "E119" → "E11.9"). ``$validate-code`` is strict: a code that only matches
  after normalisation is invalid, and the message names the canonical code.
* Display language: ``displayLanguage`` or an ``Accept-Language``-style list with q-values; the release's
  own language gives the default display, another language the first designation in it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from smt.catalogue.registry import Registry, normalise_system
from smt.codesystems.snomed.terms import is_fsn
from smt.errors import NotFound, UnknownCode, UnknownCodeSystem
from smt.formats.cim10_codes import dotted_code
from smt.index.reader import CodeSystemIndex, ConceptRecord, DesignationRecord, SubsumptionOutcome
from smt.model import Coding, PropertyValue
from smt.store.releases import ReleaseInfo

if TYPE_CHECKING:
    from smt.codesystems.provider import CodeSystemProvider

CIM10_URL = "https://smt.esante.gouv.fr/terminologie-cim-10"
SNOMED_URL = "http://snomed.info/sct"


PREFERRED_FOR_LANGUAGE = Coding("http://terminology.hl7.org/CodeSystem/hl7TermMaintInfra", "preferredForLanguage",
                                "Preferred For Language")
"""Designation use of a concept's own display, given as a designation in the code system's language."""

CODE_NORMALISERS: dict[str, Callable[[str], str]] = {CIM10_URL: dotted_code}
"""Per-system fallback for code look-ups, keyed by canonical URL. Others may register their own."""


# -- resolution ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CodeSystemVersion:
    """One resolved release: its registry entry and its index."""

    info: ReleaseInfo
    index: CodeSystemIndex

    @property
    def url(self) -> str:
        return self.info.url

    @property
    def version(self) -> str:
        return self.info.version

    @property
    def name(self) -> str:
        return self.index.meta.get("name") or self.info.name

    @property
    def language(self) -> str | None:
        return self.index.meta.get("language")


def resolve(registry: Registry, system: str, version: str | None = None) -> CodeSystemVersion:
    """The release ``system`` (+ ``version``) means; ``UnknownCodeSystem`` when there is none."""
    releases = registry.versions_of(system)
    if not releases:
        raise UnknownCodeSystem(system)
    try:
        info = registry.resolve(normalise_system(system), version)
    except NotFound:
        raise UnknownCodeSystem(system, version, [r.version for r in releases]) from None
    return CodeSystemVersion(info, registry.index(info))


def by_id(registry: Registry, release_id: str) -> CodeSystemVersion:
    """The code system release with this id (the CodeSystem resource id)."""
    for info in registry.code_systems():
        if info.id == release_id:
            return CodeSystemVersion(info, registry.index(info))
    raise NotFound(f"CodeSystem/{release_id} is not known to this server")


def find_concept(cs: CodeSystemVersion, code: str, normalise: bool = True) -> ConceptRecord | None:
    """The concept with ``code``, else (when ``normalise``) with the system's normalised form of it."""
    concept = cs.index.concept(code)
    normaliser = CODE_NORMALISERS.get(cs.url)
    if concept is None and normalise and normaliser is not None:
        alternative = normaliser(code)
        if alternative != code:
            concept = cs.index.concept(alternative)
    return concept


def require_concept(cs: CodeSystemVersion, code: str) -> ConceptRecord:
    concept = find_concept(cs, code)
    if concept is None:
        raise UnknownCode(code, cs.url, cs.version)
    return concept


# -- display language ---------------------------------------------------------------------------------------

_Q = re.compile(r"q\s*=\s*([0-9.]+)")



def language_preferences(value: str | None) -> list[str]:
    """Tags of a ``displayLanguage`` / ``Accept-Language`` value, best first; ``q=0`` tags are dropped."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate((value or "").split(",")):
        tag, *params = (p.strip() for p in item.split(";"))
        quality = 1.0
        for param in params:
            if match := _Q.fullmatch(param):
                try:
                    quality = float(match.group(1))
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag.lower()))
    return [tag for _, _, tag in sorted(ranked)]


def _primary(tag: str | None) -> str:
    return (tag or "").lower().split("-")[0]


def display_for_language(language: str | None, concept: ConceptRecord, designations: list[DesignationRecord],
                         display_language: str | None) -> tuple[str | None, DesignationRecord | None]:
    """The display in the best requested language, and the designation it comes from (None = the default).

    For each requested tag, best first: the release's own language gives the default display; a dialect tag
    (``en-GB``, ``fr-CA``) gives the term a language reference set marks preferred in that dialect (SNOMED CT
    acceptability, fully specified names aside); else the first designation in that exact language, then in
    the same primary language. Inactive designations (retired, deprecated, withdrawn) are never chosen. Nothing
    found: the default display.
    """
    own = (language or "").lower()
    for tag in language_preferences(display_language):
        if tag == "*" or tag == own:
            return concept.display, None
        dialect = next((d for d in designations if d.active and not is_fsn(d)
                        and any(t.lower() == tag and a == "preferred" for t, a in d.acceptability)), None)
        if dialect is not None:
            return dialect.value, dialect
        exact = [d for d in designations if d.active and (d.language or "").lower() == tag]
        if exact:
            return exact[0].value, exact[0]
        if own and _primary(tag) == _primary(own):
            return concept.display, None
        close = [d for d in designations if d.active and d.language and _primary(d.language) == _primary(tag)]
        if close:
            return close[0].value, close[0]
    return concept.display, None


def choose_display(language: str | None, concept: ConceptRecord, designations: list[DesignationRecord],
                   display_language: str | None) -> str | None:
    return display_for_language(language, concept, designations, display_language)[0]


# -- $lookup ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LookupProperty:
    """A property of the looked-up concept; ``type`` is the FHIR type (code, Coding, string, boolean, …)."""

    code: str
    value: PropertyValue
    type: str
    description: str | None = None
    code_display: str | None = None
    """The property's own name when its code is a concept (a SNOMED CT attribute: ``code-display``)."""


@dataclass(frozen=True, slots=True)
class LookupResult:
    system: str
    name: str
    version: str | None
    code: str
    display: str | None
    definition: str | None
    abstract: bool
    inactive: bool
    designations: list[DesignationRecord] = field(default_factory=list)
    properties: list[LookupProperty] = field(default_factory=list)


def property_filter(properties: Iterable[str] | None) -> Callable[[str], bool]:
    """Filter of requested property codes: none requested or ``*`` = all."""
    codes = {p for p in (properties or ()) if p}
    if not codes or "*" in codes:
        return lambda code: True
    return codes.__contains__


def designations_asked(records: list[DesignationRecord], properties: Iterable[str] | None) -> list[DesignationRecord]:
    """Designations asked for: all by default or with ``designation``; ``lang.X`` keeps language X."""
    codes = {p for p in (properties or ()) if p}
    if not codes or codes & {"*", "designation"}:
        return records
    languages = {c.removeprefix("lang.").lower() for c in codes if c.startswith("lang.")}
    return [d for d in records if (d.language or "").lower() in languages]


def requested_languages_first(records: list[DesignationRecord],
                              display_language: str | None) -> list[DesignationRecord]:
    """Designations in the languages asked for (``displayLanguage`` / ``Accept-Language``) first, in the order
    of preference, the others after; the order within each group is kept. No language asked: unchanged."""
    tags = [t for t in language_preferences(display_language) if t != "*"]
    if not tags:
        return records

    def rank(record: DesignationRecord) -> int:
        language = (record.language or "").lower()
        dialects = {t.lower() for t, _ in record.acceptability}
        for position, tag in enumerate(tags):
            if language == tag or tag in dialects or _primary(language) == _primary(tag):
                return position
        return len(tags)

    return sorted(records, key=rank)


def hierarchy_properties(index: CodeSystemProvider, concept: ConceptRecord,
                         want: Callable[[str], bool]) -> list[LookupProperty]:
    """The ``parent``, ``child`` (with their displays as descriptions) and ``inactive`` properties asked for."""
    found: list[LookupProperty] = []
    if want("parent"):
        found += [LookupProperty("parent", p.code, "code", p.display) for p in index.parents(concept)]
    if want("child"):
        found += [LookupProperty("child", c.code, "code", c.display) for c in index.children(concept)]
    if want("inactive"):
        found.append(LookupProperty("inactive", not concept.active, "boolean"))
    return found


def lookup(registry: Registry, system: str, code: str, version: str | None = None,
           properties: Iterable[str] | None = None, display_language: str | None = None) -> LookupResult:
    """``$lookup`` in a stored release (see ``lookup_in``)."""
    cs = resolve(registry, system, version)
    return lookup_in(cs.index, code, properties, display_language)


def lookup_in(index: CodeSystemProvider, code: str, properties: Iterable[str] | None = None,
              display_language: str | None = None) -> LookupResult:
    """``$lookup`` in one code system version (stored or request resource): display, designations and
    properties (incl. parent, child, inactive). SNOMED CT releases answer through ``sct_lookup``.
    Raises ``UnknownCode``."""
    if index.url == SNOMED_URL and isinstance(index, CodeSystemIndex) and index.has_relationships:
        from smt.codesystems.snomed.lookup import sct_lookup

        return sct_lookup(index, code, properties, display_language)
    concept = index.concept(code)
    normaliser = CODE_NORMALISERS.get(index.url)
    if concept is None and normaliser is not None:
        concept = index.concept(normaliser(code))
    if concept is None:
        raise UnknownCode(code, index.url, index.version or "")
    want = property_filter(properties)
    designations = index.designations(concept)
    stored = index.properties(concept)
    found = hierarchy_properties(index, concept, want)
    if want("status") and concept.status != "active" and not any(p.code == "status" for p in stored):
        found.append(LookupProperty("status", concept.status, "code"))  # unless the code system states it
    found += [LookupProperty(p.code, p.value, p.type) for p in stored if want(p.code)]
    shown = requested_languages_first(designations_asked(designations, properties), display_language)
    language = index.meta.get("language")
    own = DesignationRecord(concept.display or "", language, PREFERRED_FOR_LANGUAGE)
    if language and concept.display and designations_asked([own], properties):
        shown.append(own)
    not_selectable = any(p.code == "notSelectable" and p.value is True for p in stored)
    return LookupResult(
        system=index.url, name=index.meta.get("name") or index.url, version=index.version, code=concept.code,
        display=choose_display(index.meta.get("language"), concept, designations, display_language),
        definition=concept.definition, abstract=concept.abstract or not_selectable,
        inactive=not concept.active, designations=shown, properties=found,
    )


# -- $validate-code -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding of a validation: FHIR issue severity and type, tx-issue-type code, text and location."""

    severity: str
    code: str
    tx_code: str
    text: str
    expression: str
    in_message: bool | None = None
    """Whether the text goes in the ``message``: None = errors and warnings do; False/True force it (tx.fhir.org
    leaves out e.g. a value set's own deprecation flag, but shows some information notes)."""
    located: bool = True
    """Whether the answer repeats ``expression`` in the deprecated ``location`` (tx.fhir.org omits it for SNOMED CT)."""
    message_id: str | None = None
    """The tx.fhir.org message id (``operationoutcome-message-id`` extension), when known."""


@dataclass(frozen=True, slots=True)
class CodingInput:
    """A code to validate, as a code + system or a Coding gives it."""

    system: str | None
    code: str | None
    version: str | None = None
    display: str | None = None


@dataclass(slots=True)
class ValidationResult:
    result: bool
    message: str | None = None
    display: str | None = None
    code: str | None = None
    system: str | None = None
    version: str | None = None
    inactive: bool = False
    normalized_code: str | None = None
    """The code as the code system writes it, when the given one matched only by case (case-insensitive)."""
    status: str | None = None
    """The concept's status when it is not plain active (e.g. ``deprecated``, still valid)."""
    issues: list[Issue] = field(default_factory=list)
    unknown_system: str | None = None
    """``url|version`` of a code system version that could not be found (``x-caused-by-unknown-system``)."""
    missing_system: str | None = None
    """URL of the coding's code system when the server does not know it at all (``x-unknown-system``)."""
    member: bool | None = None
    """Whether the concept was found to be a member of the value set (None: not decided)."""


# -- $subsumes ----------------------------------------------------------------------------------------------


def subsumes(registry: Registry, system: str, code_a: str, code_b: str,
             version: str | None = None) -> SubsumptionOutcome:
    """``$subsumes``: equivalent, subsumes (A is an ancestor of B), subsumed-by or not-subsumed.

    Two concepts: the closure table. In SNOMED CT, a code that is no concept may be a post-coordinated
    expression: the normal forms are compared (``sct_subsumption``)."""
    cs = resolve(registry, system, version)
    concept_a, concept_b = find_concept(cs, code_a), find_concept(cs, code_b)
    if concept_a is not None and concept_b is not None:
        return cs.index.subsumes(concept_a, concept_b)
    if cs.url == SNOMED_URL and cs.index.has_relationships:
        from smt.codesystems.snomed.subsumption import expression_subsumes

        return expression_subsumes(cs.index, code_a, code_b, concept_a, concept_b)
    return cs.index.subsumes(require_concept(cs, code_a), require_concept(cs, code_b))
