"""The provider of a code system held in memory: a request ``tx-resource``, a contained or supplemented code
system, built from its FHIR resource (``smt.codesystems.factory.memory_provider``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cached_property

from smt.codesystems.provider import CodeSystemProvider
from smt.index.build import ancestor_sets, release_meta
from smt.index.reader import ConceptRecord, DesignationRecord, PropertyRecord
from smt.model import CodeSystemRelease


class MemoryCodeSystem(CodeSystemProvider):
    """A code system release held in memory."""

    def __init__(self, release: CodeSystemRelease) -> None:
        self.release = release
        self.meta: dict = release_meta(release)
        source = release.concepts
        self._ids = {c.code: i for i, c in enumerate(source)}
        self._folded = {c.code.casefold(): i for i, c in enumerate(source)}
        self._parents = [[self._ids[p] for p in dict.fromkeys(c.parents) if p in self._ids] for c in source]
        self._children: list[list[int]] = [[] for _ in source]
        for child, plist in enumerate(self._parents):
            for parent in plist:
                self._children[parent].append(child)
        self._records = [
            ConceptRecord(i, c.code, c.display, c.definition, c.status, c.abstract, not self._children[i])
            for i, c in enumerate(source)
        ]

    @property
    def url(self) -> str:
        return self.release.url

    @property
    def version(self) -> str | None:
        return self.release.version or None

    @property
    def count(self) -> int:
        return len(self._records)

    @cached_property
    def _ancestors(self) -> list[set[int]]:
        table: list[set[int]] = [set() for _ in self._records]
        for node, ancestors in ancestor_sets(self._parents):
            table[node] = set(ancestors)
        return table

    def concept(self, code: str) -> ConceptRecord | None:
        number = self._ids.get(code)
        if number is None and not self.release.case_sensitive:
            number = self._folded.get(code.casefold())
        return self._records[number] if number is not None else None

    def concept_by_id(self, concept_id: int) -> ConceptRecord:
        return self._records[concept_id]

    def concepts(self, ids: list[int] | None = None) -> Iterator[ConceptRecord]:
        if ids is None:
            yield from self._records
        else:
            yield from (self._records[i] for i in ids)

    def all_ids(self) -> list[int]:
        return list(range(len(self._records)))

    def ids_for_codes(self, codes: Iterable[str]) -> dict[str, int]:
        return {code: concept.id for code in codes if (concept := self.concept(code)) is not None}

    def designations(self, concept: ConceptRecord, include_inactive: bool = False) -> list[DesignationRecord]:
        """Every designation: a deprecated or withdrawn one is kept (inactive) whatever ``include_inactive``."""
        return [DesignationRecord(d.value, d.language, d.use, active=d.active, source=d.source,
                                  extensions=d.extensions)
                for d in self.release.concepts[concept.id].designations]

    def concept_extensions(self, concept: ConceptRecord) -> list[dict]:
        return self.release.concepts[concept.id].extensions

    def properties(self, concept: ConceptRecord) -> list[PropertyRecord]:
        return [PropertyRecord(p.code, p.type, p.value) for p in self.release.concepts[concept.id].properties]

    def parents(self, concept: ConceptRecord) -> list[ConceptRecord]:
        return [self._records[i] for i in sorted(self._parents[concept.id])]

    def children(self, concept: ConceptRecord) -> list[ConceptRecord]:
        return [self._records[i] for i in sorted(self._children[concept.id])]

    def roots(self) -> list[ConceptRecord]:
        return [r for r in self._records if not self._parents[r.id]]

    def descendant_ids(self, concept: ConceptRecord) -> list[int]:
        found: list[int] = []
        seen: set[int] = set()
        stack = list(self._children[concept.id])
        while stack:
            node = stack.pop()
            if node not in seen:
                seen.add(node)
                found.append(node)
                stack.extend(self._children[node])
        return found

    def ancestor_ids(self, concept: ConceptRecord) -> list[int]:
        return sorted(self._ancestors[concept.id])

    def is_descendant(self, descendant: ConceptRecord, ancestor: ConceptRecord) -> bool:
        return ancestor.id in self._ancestors[descendant.id]

