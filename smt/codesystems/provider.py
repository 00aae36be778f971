"""The read interface of one code system version: what the terminology operations see of a code system.

The compiled ``CodeSystemIndex`` of a stored release satisfies it, and so does ``MemoryCodeSystem`` (a code
system passed in the request as a ``tx-resource`` or contained in a value set).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol, runtime_checkable

from smt.index.reader import ConceptRecord, DesignationRecord, PropertyRecord
from smt.terminology.codesystem import display_for_language


@runtime_checkable
class CodeSystemProvider(Protocol):
    """Read access to one code system version (concept ids are dense, in load order)."""

    meta: dict

    @property
    def url(self) -> str: ...

    @property
    def version(self) -> str | None:
        """None for a code system without a version (request resources only)."""

    @property
    def count(self) -> int: ...

    def concept(self, code: str) -> ConceptRecord | None: ...

    def concept_by_id(self, concept_id: int) -> ConceptRecord: ...

    def concepts(self, ids: list[int] | None = None) -> Iterator[ConceptRecord]: ...

    def all_ids(self) -> list[int]:
        """Every concept id in load order."""

    def ids_for_codes(self, codes: Iterable[str]) -> dict[str, int]:
        """Concept id of each code found (codes matched by case too when the system is case-insensitive)."""

    def designations(self, concept: ConceptRecord) -> list[DesignationRecord]: ...

    def properties(self, concept: ConceptRecord) -> list[PropertyRecord]: ...

    def concept_extensions(self, concept: ConceptRecord) -> list[dict]:
        """The concept's FHIR extensions (kept for request code systems only)."""

    def parents(self, concept: ConceptRecord) -> list[ConceptRecord]: ...

    def children(self, concept: ConceptRecord) -> list[ConceptRecord]: ...

    def roots(self) -> list[ConceptRecord]: ...

    def descendant_ids(self, concept: ConceptRecord) -> list[int]: ...

    def ancestor_ids(self, concept: ConceptRecord) -> list[int]: ...

    def is_descendant(self, descendant: ConceptRecord, ancestor: ConceptRecord) -> bool: ...

def code_system_language(provider: CodeSystemProvider) -> str | None:
    return provider.meta.get("language")


def preferred_display(provider: CodeSystemProvider, concept: ConceptRecord,
                      designations: list[DesignationRecord], display_language: str | None,
                      ) -> tuple[str | None, DesignationRecord | None]:
    """The display in the best requested language, and the designation it comes from (None = default)."""
    return display_for_language(code_system_language(provider), concept, designations, display_language)

