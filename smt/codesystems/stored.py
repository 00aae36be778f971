"""The provider of a stored release: its compiled index (``smt.index``) and its search index (``smt.search``).

Stored providers are opened once per release and shared between requests (``smt.codesystems.factory``). A
release compiled with relationships (description logic) is multi-hierarchical; retired terms are kept in the
index and read only when asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path
from typing import ClassVar, Literal

from smt.codesystems.provider import CodeSystemProvider
from smt.index.reader import CodeSystemIndex, ConceptRecord, DesignationRecord, PropertyRecord
from smt.index.sets import FrozenBitMap, SetCache, id_set
from smt.model import PropertyValue
from smt.search.searcher import matching_concept_ids


class StoredCodeSystem(CodeSystemProvider):
    """A release of the store, read through its compiled index."""

    is_shared: ClassVar[bool] = True
    retired_designation_status: ClassVar[str] = "inactive"

    def __init__(self, index: CodeSystemIndex, search_dir: Path | None = None) -> None:
        self.index = index
        self.meta = index.meta
        self.search_dir = search_dir
        """The release's search index folder (None: the release is not searched)."""
        self.sets = SetCache()
        """Sets derived from the release (hierarchies, reference sets, ECL results, text matches)."""

    @property
    def url(self) -> str:
        return self.index.url

    @property
    def version(self) -> str:
        return self.index.version

    @property
    def count(self) -> int:
        return self.index.count

    @property
    def multi_hierarchy(self) -> bool:
        return self.index.has_relationships

    def text_matches(self, text: str) -> FrozenBitMap | None:
        """The strict matches of the release's search index (each word starts a word of one term, or the text
        is the code or starts it); None without a search index or a searchable word. Cached per text."""
        if self.search_dir is None:
            return None
        key = ("text", text)
        cached = self.sets.peek(key)
        if cached is not None:
            return cached
        found = matching_concept_ids(self.search_dir, text)
        return None if found is None else self.sets.get(key, lambda: found)

    # -- sets: compiled in the index, derived ones cached per release --------------------------------------------

    def cached_set(self, key: object, build: Callable[[], Iterable[int]]) -> FrozenBitMap:
        return self.sets.get(key, build)

    def all_set(self) -> FrozenBitMap:
        return self.index.all_set

    def descendant_set(self, concept: ConceptRecord) -> FrozenBitMap:
        return self.index.descendant_set(concept.id)

    def concept_set(self, name: Literal["active", "abstract", "leaf"]) -> FrozenBitMap:
        return self.index.concept_set(name)

    def property_values(self, code: str) -> Iterator[tuple[int, PropertyValue]]:
        return self.index.property_values(code)

    def property_ids(self, code: str, texts: frozenset[str]) -> FrozenBitMap:
        if len(texts) > 16:  # a hierarchy of values: not kept (the key would outweigh the set)
            return id_set(self.index.property_ids(code, texts))
        return self.sets.get(("property", code, texts), lambda: self.index.property_ids(code, texts))

    # -- read methods: the compiled index ---------------------------------------------------------------------

    def concept(self, code: str) -> ConceptRecord | None:
        return self.index.concept(code)

    def concept_by_id(self, concept_id: int) -> ConceptRecord:
        return self.index.concept_by_id(concept_id)

    def concepts(self, ids: list[int] | None = None) -> Iterator[ConceptRecord]:
        return self.index.concepts(ids)

    def all_ids(self) -> list[int]:
        return self.index.all_ids()

    def ids_for_codes(self, codes: Iterable[str]) -> dict[str, int]:
        return self.index.ids_for_codes(codes)

    def designations(self, concept: ConceptRecord, include_inactive: bool = False) -> list[DesignationRecord]:
        return self.index.designations(concept, include_inactive)

    def properties(self, concept: ConceptRecord) -> list[PropertyRecord]:
        return self.index.properties(concept)

    def designations_of(self, concepts: list[ConceptRecord]) -> dict[int, list[DesignationRecord]]:
        return self.index.designations_of([c.id for c in concepts])

    def properties_of(self, concepts: list[ConceptRecord], codes: Collection[str] | None = None,
                      ) -> dict[int, list[PropertyRecord]]:
        return self.index.properties_of([c.id for c in concepts], codes)

    def concept_extensions(self, concept: ConceptRecord) -> list[dict]:
        return self.index.concept_extensions(concept)

    def parents(self, concept: ConceptRecord) -> list[ConceptRecord]:
        return self.index.parents(concept)

    def children(self, concept: ConceptRecord) -> list[ConceptRecord]:
        return self.index.children(concept)

    def roots(self) -> list[ConceptRecord]:
        return self.index.roots()

    def descendant_ids(self, concept: ConceptRecord) -> list[int]:
        return self.index.descendant_ids(concept)

    def ancestor_ids(self, concept: ConceptRecord) -> list[int]:
        return self.index.ancestor_ids(concept)

    def is_descendant(self, descendant: ConceptRecord, ancestor: ConceptRecord) -> bool:
        return self.index.is_descendant(descendant, ancestor)
