"""What the ECL evaluator needs from a code system release: a small protocol over integer concept ids.

Ids are the backend's own (for the compiled index, its row ids); SCTIDs only appear in ``resolve``. Every method
takes and returns sets so that an implementation can answer with one set query instead of a per-concept loop.
``None`` for a collection of ids means "no restriction" (every concept).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol, runtime_checkable

IS_A = "116680003"
ROOT = "138875005"
FSN = "900000000000003001"
SYNONYM = "900000000000013009"
TEXT_DEFINITION = "900000000000550004"
PREFERRED = "900000000000548007"
ACCEPTABLE = "900000000000549004"
PRIMITIVE = "900000000000074008"
DEFINED = "900000000000073002"
SAME_AS = "900000000000527005"
REPLACED_BY = "900000000000526001"
WAS_A = "900000000000528000"
PARTIALLY_EQUIVALENT_TO = "1186924009"
HISTORICAL_ASSOCIATION = "900000000000522004"
HISTORICAL_ASSOCIATIONS = (
    SAME_AS, REPLACED_BY, WAS_A, PARTIALLY_EQUIVALENT_TO, "900000000000523009", "900000000000524003",
    "900000000000525002", "900000000000530003", "900000000000531004", "1186921001",
)
"""Historical association refsets (possibly equivalent to, moved to, moved from, alternative, refers to,
possibly replaced by…), used by ``+HISTORY-MAX`` when the release lacks their common parent concept."""

DIALECTS: dict[str, str] = {
    "en-us": "900000000000509007",
    "en-gb": "900000000000508004",
    "en-nhs-clinical": "999001261000000100",
    "en-nhs-pharmacy": "999000691000001104",
    "en-au": "32570271000036106",
    "en-ca": "19491000087109",
    "en-ie": "21000220103",
    "en-nz": "271000210107",
    "fr-ca": "20581000087109",
    "fr-be": "21000172104",
    "nl-be": "31000172101",
    "nl-nl": "31000146106",
    "es": "450828004",
    "sv-se": "46011000052107",
    "da-dk": "554461000005103",
}
"""Dialect aliases of the ECL specification → language reference set SCTIDs."""


Relationship = tuple[int, int, int, int]
"""An active relationship ``(source, type, destination, group)``; group 0 means ungrouped."""

ConcreteRelationship = tuple[int, int, Decimal | str, int]
"""An active concrete-valued relationship ``(source, type, value, group)``: a number or a string."""


@dataclass(frozen=True, slots=True)
class ConceptFacts:
    """What concept filters look at. ``effective_time`` is ``YYYYMMDD``."""

    id: int
    active: bool
    module: int | None = None
    definition_status: int | None = None
    effective_time: str | None = None


@dataclass(frozen=True, slots=True)
class DescriptionFacts:
    """What description filters look at. ``acceptability`` maps language refset id → acceptability id."""

    concept: int
    id: str
    term: str
    language: str | None
    type: int | None
    active: bool = True
    module: int | None = None
    effective_time: str | None = None
    acceptability: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MemberFacts:
    """A reference set member: its referenced component (a concept id when it is one) and other fields."""

    refset: int
    referenced: int | None
    active: bool = True
    module: int | None = None
    effective_time: str | None = None
    fields: dict[str, object] = field(default_factory=dict)


@runtime_checkable
class EclBackend(Protocol):
    """The core every backend provides; the evaluator reports richer features as unsupported when missing."""

    def resolve(self, sctid: str) -> int | None:
        """The id of the concept with this SCTID, or None."""

    def all_concepts(self) -> set[int]:
        """What ``*`` means: every active concept of the hierarchy."""

    def descendants(self, ids: Collection[int] | None) -> set[int]:
        """Proper descendants of any of ``ids`` (None: every concept that has a parent)."""

    def ancestors(self, ids: Collection[int] | None) -> set[int]:
        """Proper ancestors of any of ``ids`` (None: every concept that has a child)."""

    def children(self, ids: Collection[int] | None) -> set[int]:
        """Direct children of any of ``ids``."""

    def parents(self, ids: Collection[int] | None) -> set[int]:
        """Direct parents of any of ``ids``."""

    def refset_members(self, refsets: Collection[int] | None) -> set[int]:
        """Concepts referenced by an active member of any of ``refsets`` (None: of any refset)."""

    def relationships(self, types: Collection[int] | None, sources: Collection[int] | None = None,
                      destinations: Collection[int] | None = None) -> Iterable[Relationship]:
        """Active relationships matching every restriction given (``types`` None: any attribute but is-a)."""


class OptionalBackend(Protocol):
    """Methods a backend may add; the evaluator checks for each one before use."""

    def concrete_values(self, types: Collection[int] | None,
                        sources: Collection[int] | None = None) -> Iterable[ConcreteRelationship]: ...

    def concept_facts(self, ids: Collection[int]) -> Iterable[ConceptFacts]: ...

    def descriptions(self, ids: Collection[int]) -> Iterable[DescriptionFacts]: ...

    def members(self, refsets: Collection[int] | None) -> Iterable[MemberFacts]: ...

    def historical_sources(self, refsets: Collection[int], targets: Collection[int]) -> set[int]: ...

    def resolve_alternate(self, scheme: str, code: str) -> int | None: ...
