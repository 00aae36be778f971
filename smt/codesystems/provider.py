"""The code system provider: what the terminology operations see of one code system version.

Every provider implements the read methods (concepts, designations, properties, hierarchy). What differs from
one terminology to another is a **capability method** whose default fits a plain FHIR code system, overridden
by the provider of a terminology with rules of its own (as the reference server's providers do): the generic
operations call the capabilities and never test which terminology, or which kind of provider, they have.

Capabilities of the class (no release needed, e.g. for a coding of a system that is not loaded):
``normalise_code``, ``implicit_value_set`` / ``is_implicit_value_set``,
``implicit_concept_map`` / ``implicit_map_urls``. Capabilities of a version: ``find``, ``is_closed``,
``listed_expression``, ``check_expression``, ``expression_member``, ``expression_subsumes``, ``ecl_ids``,
``holds_implicit_value_set``, ``text_matches``, ``multi_hierarchy``, ``subsumption``, ``dialect_preferred``,
``preferred_display``, ``expansion_designations``, ``retired_designation_status``, ``lookup``, ``is_shared``;
for retired concepts ``reports_retirement`` (class), ``replacements``, ``inactivation_reason`` and
``all_replacements`` (what the release says beyond the generic retirement properties, see
``smt.terminology.retirement``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal, Protocol

from smt.codesystems.languages import (
    DISPLAY_USES,
    PREFERRED_FOR_LANGUAGE,
    language_preferences,
    primary,
    requested_languages_first,
)
from smt.codesystems.lookup import (
    LookupProperty,
    LookupResult,
    designations_asked,
    hierarchy_properties,
    property_filter,
)
from smt.index.reader import (
    ConceptRecord,
    DesignationRecord,
    PropertyRecord,
    SubsumptionOutcome,
    property_text,
    subsumption,
)
from smt.index.sets import FrozenBitMap, id_set
from smt.model import PropertyValue

if TYPE_CHECKING:
    from smt.releases.registry import Registry


@dataclass(frozen=True, slots=True)
class ExpressionCheck:
    """What a provider with a grammar finds of a code written as an expression (``check_expression``)."""

    problem: str | None
    """Why the expression is not valid (an unknown concept, an attribute out of context); None when it is."""
    display: str | None = None
    """The expression with the terms of its concepts (valid expressions only)."""
    note: str | None = None
    """What a valid expression was not checked against (an information note)."""


@dataclass(frozen=True, slots=True)
class Replacement:
    """A concept to use instead of a retired one, how it relates (a ConceptMap equivalence) and who says so."""

    code: str
    display: str | None = None
    equivalence: str = "equivalent"
    source: str = ""


class ConceptMapView(Protocol):
    """An implicit concept map read on demand: without its elements (``header``), restricted to the elements of
    one source code (``for_code``), or whole (``resource``)."""

    key: tuple[str, str]
    """What the map is (the release it is built from, its URL), for caches."""

    @property
    def header(self) -> dict: ...

    def for_code(self, code: str) -> dict: ...

    def resource(self) -> dict: ...


class CodeSystemProvider(ABC):
    """Read access to one code system version (concept ids are dense, in load order) and its capabilities."""

    meta: dict
    """Release metadata (``url``, ``version``, ``name``, ``language``, ``content``, ``case_sensitive``, …)."""

    # -- class capabilities -----------------------------------------------------------------------------------

    is_shared: ClassVar[bool] = False
    """Whether the provider outlives a request (a stored release), so what is derived from it may be cached."""
    reports_retirement: ClassVar[bool] = True
    """Whether ``$lookup`` and ``$validate-code`` report what is known of a retired concept (date, reason,
    replacements) without being asked: tx.fhir.org reports an inactive SNOMED CT concept with its warning alone."""
    @classmethod
    def is_display_designation(cls, designation: DesignationRecord) -> bool:
        """Whether a designation is a display of its concept (named among the valid displays of a wrong-display
        message): no ``use``, or a preferred-for-language or preferred-term use. FHIRsmith
        ``Designations.isDisplay`` (``tx/library/designations.js``), which asks the provider for others."""
        use = designation.use
        return use is None or (use.system, use.code) in DISPLAY_USES

    retired_designation_status: ClassVar[str] = "deprecated"
    """How a display that is an inactive designation is described: ``deprecated`` (a FHIR designation marked so)
    or ``inactive`` (a retired term of a stored release)."""

    @classmethod
    def normalise_code(cls, code: str) -> str:
        """The form the code system writes ``code`` in, for look-ups that accept another spelling (CIM-10:
        "E119" → "E11.9"); the code itself by default."""
        return code

    @classmethod
    def implicit_value_set(cls, url: str) -> dict | None:
        """The ValueSet an implicit value set URL of this terminology stands for (None: not one of its URLs)."""
        return None

    @classmethod
    def is_implicit_value_set(cls, url: str) -> bool:
        """Whether ``url`` is written as an implicit value set URL of this terminology (even a malformed one)."""
        return False

    @classmethod
    def implicit_membership_is_cheap(cls, url: str) -> bool:
        """Whether testing one code against the implicit value set ``url`` is a concept read and at most a
        closure probe (no set to build): cheaper than a hop to a thread. False by default."""
        return False

    @classmethod
    def implicit_concept_map(cls, registry: Registry, url: str) -> ConceptMapView | None:
        """The ConceptMap an implicit concept map URL of this terminology stands for (None: not one of its)."""
        return None

    @classmethod
    def implicit_map_urls(cls, registry: Registry) -> list[str]:
        """URLs of the implicit concept maps a ``$translate`` of this terminology's codes consults."""
        return []

    # -- the code system version ----------------------------------------------------------------------------

    @property
    @abstractmethod
    def url(self) -> str: ...

    @property
    @abstractmethod
    def version(self) -> str | None:
        """None for a code system without a version (request resources only)."""

    @property
    @abstractmethod
    def count(self) -> int: ...

    # -- concepts ---------------------------------------------------------------------------------------------

    @abstractmethod
    def concept(self, code: str) -> ConceptRecord | None:
        """The concept with exactly this code (by case too when the code system is case-insensitive)."""

    @abstractmethod
    def concept_by_id(self, concept_id: int) -> ConceptRecord: ...

    @abstractmethod
    def concepts(self, ids: list[int] | None = None) -> Iterator[ConceptRecord]:
        """Every concept in load order, or those of ``ids`` in that order."""

    @abstractmethod
    def all_ids(self) -> list[int]:
        """Every concept id in load order."""

    @abstractmethod
    def ids_for_codes(self, codes: Iterable[str]) -> dict[str, int]:
        """Concept id of each code found (codes matched by case too when the system is case-insensitive)."""

    @abstractmethod
    def designations(self, concept: ConceptRecord, include_inactive: bool = False) -> list[DesignationRecord]:
        """The concept's designations in load order (retired terms of a stored release only when asked for)."""

    @abstractmethod
    def properties(self, concept: ConceptRecord) -> list[PropertyRecord]: ...

    def designations_of(self, concepts: list[ConceptRecord]) -> dict[int, list[DesignationRecord]]:
        """``designations`` of several concepts (an expansion's page), by concept id (batched where stored)."""
        return {c.id: self.designations(c) for c in concepts}

    def properties_of(self, concepts: list[ConceptRecord], codes: Collection[str] | None = None,
                      ) -> dict[int, list[PropertyRecord]]:
        """``properties`` of several concepts, by concept id, only those of ``codes`` when given (batched where
        stored)."""
        return {c.id: [p for p in self.properties(c) if codes is None or p.code in codes] for c in concepts}

    @abstractmethod
    def concept_extensions(self, concept: ConceptRecord) -> list[dict]:
        """The concept's FHIR extensions."""

    @abstractmethod
    def parents(self, concept: ConceptRecord) -> list[ConceptRecord]: ...

    @abstractmethod
    def children(self, concept: ConceptRecord) -> list[ConceptRecord]: ...

    @abstractmethod
    def roots(self) -> list[ConceptRecord]: ...

    @abstractmethod
    def descendant_ids(self, concept: ConceptRecord) -> list[int]: ...

    @abstractmethod
    def ancestor_ids(self, concept: ConceptRecord) -> list[int]: ...

    @abstractmethod
    def is_descendant(self, descendant: ConceptRecord, ancestor: ConceptRecord) -> bool:
        """True when ``ancestor`` is a proper ancestor of ``descendant``."""

    # -- capabilities -----------------------------------------------------------------------------------------

    def find(self, code: str, normalise: bool = True) -> ConceptRecord | None:
        """The concept with ``code``, else (when ``normalise``) with the code system's spelling of it."""
        concept = self.concept(code)
        if concept is None and normalise:
            alternative = self.normalise_code(code)
            if alternative != code:
                concept = self.concept(alternative)
        return concept

    @property
    def multi_hierarchy(self) -> bool:
        """Whether concepts may have several parents by design (description logic): expansions are then flat
        unless nesting is asked for."""
        return False

    def is_closed(self, filters: list[dict]) -> bool:
        """Whether the concepts a whole-system (``filters`` empty) or filtered include selects are a closed set:
        not for a code system with a grammar (post-coordination), unless a filter excludes expressions."""
        return True

    def listed_expression(self, code: str, number: int) -> ConceptRecord | None:
        """A valid expression listed as a code in a value set, as a record with id ``number`` (negative); None
        when ``code`` is no valid expression of this code system (none has a grammar by default)."""
        return None

    def check_expression(self, code: str, display_language: str | None) -> ExpressionCheck | None:
        """What ``$validate-code`` finds of a code written as an expression; None when it is not one."""
        return None

    def expression_member(self, includes: list[dict], code: str) -> bool:
        """Whether one of ``includes`` (a value set's includes of this system) holds the expression ``code``."""
        return False

    def expression_subsumes(self, code_a: str, code_b: str, concept_a: ConceptRecord | None,
                            concept_b: ConceptRecord | None) -> SubsumptionOutcome | None:
        """``$subsumes`` when one side (``concept_x`` None) is no concept of the version: an expression's
        outcome, or None when the code system has no expressions (the caller reports the unknown code)."""
        return None

    def ecl_ids(self, expression: str) -> FrozenBitMap | None:
        """Concept ids an ECL expression selects (raises ``smt.ecl.EclError``); None when the provider does
        not evaluate ECL."""
        return None

    def holds_implicit_value_set(self, vs: dict) -> bool:
        """Whether this version holds what an implicit value set of its terminology is built on."""
        return True

    def text_matches(self, text: str) -> FrozenBitMap | None:
        """Ids of the concepts matching an ``$expand`` text ``filter``, from the provider's own search index;
        None when it has none (the caller scans the members)."""
        return None

    def replacements(self, concept: ConceptRecord) -> list[Replacement]:
        """What the release itself names to use instead of a retired concept, beyond ``replacedBy`` properties
        (SNOMED CT: its historical associations); none by default."""
        return []

    def inactivation_reason(self, concept: ConceptRecord) -> str | None:
        """Why the release says a concept is inactive, beyond a ``statusReason`` property (SNOMED CT: its
        inactivation indicator); None by default."""
        return None

    def all_replacements(self) -> dict[str, list[Replacement]]:
        """Every ``replacements`` of the release, by retired code (for the replaced-by map)."""
        return {}

    # -- sets of concept ids (set-based evaluation: ``smt.index.sets``) ---------------------------------------

    def cached_set(self, key: object, build: Callable[[], Iterable[int]]) -> FrozenBitMap:
        """A set derived from this version, built once per ``key`` while the provider lives (a stored release
        bounds what it keeps: ``smt.index.sets.SetCache``)."""
        memo: dict[object, FrozenBitMap] = self.__dict__.setdefault("_set_memo", {})
        found = memo.get(key)
        if found is None:
            found = memo[key] = id_set(build())
        return found

    def all_set(self) -> FrozenBitMap:
        """Every concept id."""
        return self.cached_set("all", self.all_ids)

    def descendant_set(self, concept: ConceptRecord) -> FrozenBitMap:
        """The concept's descendants (itself excluded)."""
        return id_set(self.descendant_ids(concept))

    def concept_set(self, name: Literal["active", "abstract", "leaf"]) -> FrozenBitMap:
        """The active, abstract or leaf concepts."""
        test: Callable[[ConceptRecord], bool] = (
            (lambda c: c.active) if name == "active" else (lambda c: c.abstract) if name == "abstract"
            else (lambda c: c.leaf))
        return self.cached_set(("concepts", name), lambda: (c.id for c in self.concepts() if test(c)))

    def property_values(self, code: str) -> Iterator[tuple[int, PropertyValue]]:
        """(concept id, value) of every value of the property ``code``."""
        for concept in self.concepts():
            for prop in self.properties(concept):
                if prop.code == code:
                    yield concept.id, prop.value

    def property_ids(self, code: str, texts: frozenset[str]) -> FrozenBitMap:
        """The concepts with a value of the property ``code`` whose text (``property_text``) is in ``texts``."""
        return id_set(number for number, value in self.property_values(code) if property_text(value) in texts)

    def subsumption(self, concept_a: ConceptRecord, concept_b: ConceptRecord) -> SubsumptionOutcome:
        """FHIR ``$subsumes`` outcome of A relative to B (two concepts of this version)."""
        return subsumption(self.is_descendant, concept_a, concept_b)

    def expansion_designations(self, records: list[DesignationRecord]) -> list[DesignationRecord]:
        """The designations an expansion shows with ``includeDesignations`` (all of them by default)."""
        return records

    def dialect_preferred(self, designations: list[DesignationRecord], tag: str) -> DesignationRecord | None:
        """The active term that a dialect (``en-GB``, ``fr-CA``) marks preferred, if any."""
        return next((d for d in designations if d.active
                     and any(t.lower() == tag and a == "preferred" for t, a in d.acceptability)), None)

    def preferred_display(self, concept: ConceptRecord, designations: list[DesignationRecord],
                          display_language: str | None) -> tuple[str | None, DesignationRecord | None]:
        """The display in the best requested language, and the designation it comes from (None = the default).

        For each requested tag, best first: the release's own language gives the default display; a dialect
        tag gives its preferred term (``dialect_preferred``); else the first designation in that exact
        language, then in the same primary language. Inactive designations (retired, deprecated, withdrawn) are
        never chosen. Nothing found: the default display.
        """
        own = (self.meta.get("language") or "").lower()
        for tag in language_preferences(display_language):
            if tag == "*" or tag == own:
                return concept.display, None
            dialect = self.dialect_preferred(designations, tag)
            if dialect is not None:
                return dialect.value, dialect
            exact = [d for d in designations if d.active and (d.language or "").lower() == tag]
            if exact:
                return exact[0].value, exact[0]
            if own and primary(tag) == primary(own):
                return concept.display, None
            close = [d for d in designations if d.active and d.language and primary(d.language) == primary(tag)]
            if close:
                return close[0].value, close[0]
        return concept.display, None

    def lookup(self, code: str, properties: Iterable[str] | None = None,
               display_language: str | None = None) -> LookupResult | None:
        """``$lookup``: display, designations and properties (incl. parent, child, inactive, status) of the
        concept with ``code`` (or the code system's spelling of it); None when there is none."""
        concept = self.find(code)
        if concept is None:
            return None
        want = property_filter(properties)
        designations = self.designations(concept)
        stored = self.properties(concept)
        found = hierarchy_properties(self, concept, want)
        if want("status") and concept.status != "active" and not any(p.code == "status" for p in stored):
            found.append(LookupProperty("status", concept.status, "code"))  # unless the code system states it
        found += [LookupProperty(p.code, p.value, p.type) for p in stored if want(p.code)]
        shown = requested_languages_first(designations_asked(designations, properties), display_language)
        language = self.meta.get("language")
        own = DesignationRecord(concept.display or "", language, PREFERRED_FOR_LANGUAGE)
        if language and concept.display and designations_asked([own], properties):
            shown.append(own)
        not_selectable = any(p.code == "notSelectable" and p.value is True for p in stored)
        return LookupResult(
            system=self.url, name=self.meta.get("name") or self.url, version=self.version, code=concept.code,
            display=self.preferred_display(concept, designations, display_language)[0],
            definition=concept.definition, abstract=concept.abstract or not_selectable,
            inactive=not concept.active, designations=shown, properties=found,
        )
