"""Code system providers and the resolution context of one request.

``CodeSystemProvider`` is what the value set engines read: the compiled ``CodeSystemIndex`` of a stored
release satisfies it, and so does ``MemoryCodeSystem`` (a code system passed in the request as a
``tx-resource`` or contained in a value set). ``ResourceContext`` resolves ``system`` + ``version`` and value
set canonicals for one request: request resources first, then the registry, following the version rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import cached_property
from typing import Protocol, runtime_checkable

from loaders.fhir import codesystem_release
from smt.engines.codesystem import UnknownCodeSystem, display_for_language
from smt.engines.implicit_vs import implicit_focus, implicit_value_set
from smt.engines.standing import standing
from smt.engines.supplements import SupplementNotFound, is_supplement
from smt.engines.supplements import apply as apply_supplements
from smt.engines.version_rules import VersionRules, select_version, split_canonical
from smt.errors import NotFound
from smt.index.build import ancestor_sets, release_meta
from smt.index.reader import ConceptRecord, DesignationRecord, PropertyRecord
from smt.model import CodeSystemRelease
from smt.registry import Registry, normalise_system


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


class MemoryCodeSystem:
    """A code system release held in memory, with the same read interface as ``CodeSystemIndex``."""

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

    @classmethod
    def from_resource(cls, resource: dict) -> MemoryCodeSystem:
        """A provider for a FHIR CodeSystem JSON resource."""
        provider = cls(codesystem_release(resource, where=f"CodeSystem {resource.get('url')}"))
        provider.meta["standing"] = standing(resource)
        return provider

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

    def designations(self, concept: ConceptRecord) -> list[DesignationRecord]:
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


def code_system_language(provider: CodeSystemProvider) -> str | None:
    return provider.meta.get("language")


def preferred_display(provider: CodeSystemProvider, concept: ConceptRecord,
                      designations: list[DesignationRecord], display_language: str | None,
                      ) -> tuple[str | None, DesignationRecord | None]:
    """The display in the best requested language, and the designation it comes from (None = default)."""
    return display_for_language(code_system_language(provider), concept, designations, display_language)


def _has_members(provider: CodeSystemProvider, refset: str) -> bool:
    """Whether ``refset`` is a reference set with members in a stored release (ECL ``^ refset``)."""
    from smt.engines.ecl_filter import ecl_ids
    from smt.engines.vs_errors import InvalidFilter

    try:
        return bool(ecl_ids(provider, "=", f"^ {refset}"))
    except InvalidFilter:
        return False


class UnknownValueSet(NotFound):
    """A value set canonical that neither the request nor the store defines."""

    def __init__(self, url: str, version: str | None = None) -> None:
        self.url = url
        self.version = version
        shown = f"{url}|{version}" if version else url
        super().__init__(f"A definition for the value Set '{shown}' could not be found")


class ResourceContext:
    """Resolution of code systems and value sets for one request."""

    def __init__(self, registry: Registry | None, tx_resources: Iterable[dict] = (),
                 rules: VersionRules | None = None) -> None:
        self.registry = registry
        self.rules = rules or VersionRules()
        self._code_systems: dict[str, dict[str, CodeSystemProvider]] = {}
        self._value_sets: dict[str, dict[str, dict]] = {}
        self._sources: dict[str, dict[str, dict]] = {}
        self._supplements: dict[str, dict[str, dict]] = {}
        self.used_supplements: list[str] = []
        """``url|version`` of the supplements applied (``useSupplement``, ``valueset-supplement``)."""
        for resource in tx_resources:
            self.add_resource(resource)

    def add_resource(self, resource: dict) -> None:
        """Make a request CodeSystem or ValueSet resolvable (it takes precedence over the store)."""
        kind = resource.get("resourceType")
        url = str(resource.get("url") or "").rstrip("/")
        if not url:
            return
        version = resource.get("version") or ""
        if kind == "CodeSystem" and is_supplement(resource):
            self._supplements.setdefault(url, {})[version] = resource
        elif kind == "CodeSystem":
            self._code_systems.setdefault(url, {})[version] = MemoryCodeSystem.from_resource(resource)
            self._sources.setdefault(url, {})[version] = resource
        elif kind == "ValueSet":
            self._value_sets.setdefault(url, {})[version] = resource

    # -- supplements -----------------------------------------------------------------------------------------

    def supplement(self, system: str) -> dict | None:
        """The supplement whose URL is ``system`` (a supplement is not a code system to code with)."""
        found = self._supplements.get(system.rstrip("/"), {})
        chosen = select_version(found, None) if found else None
        return found[chosen] if chosen is not None else None

    def use_supplements(self, canonicals: Iterable[str]) -> None:
        """Apply supplements to the request's code systems; ``SupplementNotFound`` for an unknown one."""
        for canonical in canonicals:
            url, version = split_canonical(canonical)
            found = self._supplements.get(url.rstrip("/"), {})
            chosen = select_version(found, version) if found else None
            if chosen is None:
                raise SupplementNotFound(canonical)
            resource = found[chosen]
            used = f"{resource['url']}|{chosen}" if chosen else resource["url"]
            if used in self.used_supplements:
                continue
            self.used_supplements.append(used)
            base = split_canonical(str(resource.get("supplements") or ""))[0].rstrip("/")
            for base_version, source in self._sources.get(base, {}).items():
                merged = apply_supplements(source, [resource])
                self._sources[base][base_version] = merged
                self._code_systems[base][base_version] = MemoryCodeSystem.from_resource(merged)

    # -- code systems ---------------------------------------------------------------------------------------

    def code_system_versions(self, system: str) -> list[str]:
        """Every known version of ``system`` (request resources and store)."""
        local = [v for v in self._code_systems.get(system.rstrip("/"), {}) if v]
        stored = [r.version for r in self.registry.versions_of(system)] if self.registry else []
        return list(dict.fromkeys(local + stored))

    def code_system(self, system: str, version: str | None = None, check: bool = True) -> CodeSystemProvider:
        """The provider ``system`` + ``version`` means under the request's version rules.

        Raises ``UnknownCodeSystem`` (no such system or version) or, when ``check``, ``VersionNotAllowed``.
        """
        wanted = self.rules.effective(system, version)
        provider = self._find_code_system(system, wanted)
        if check:
            self.rules.check(system, provider.version)
        return provider

    def exact_code_system(self, system: str, version: str | None) -> CodeSystemProvider:
        """The provider of exactly ``system`` + ``version``, whatever the request's version rules say."""
        return self._find_code_system(system, version)

    def _find_code_system(self, system: str, version: str | None) -> CodeSystemProvider:
        key = system.rstrip("/")
        local = self._code_systems.get(key, {})
        chosen = select_version(local, version) if local else None
        if chosen is not None:
            return local[chosen]
        if self.registry is not None:
            stored = self.registry.versions_of(system)
            if stored:
                if version is None:
                    return self.registry.index(self.registry.resolve(normalise_system(system)))
                picked = select_version([r.version for r in stored], version)
                if picked is not None:
                    info = next(r for r in reversed(stored) if r.version == picked)
                    return self.registry.index(info)
        known = self.code_system_versions(system)
        if not known or version is None:
            raise UnknownCodeSystem(system)
        raise UnknownCodeSystem(system, version, known)

    # -- value sets -----------------------------------------------------------------------------------------

    def _check_implicit(self, vs: dict) -> None:
        """``UnknownValueSet`` when an implicit SNOMED CT value set names a concept its release does not hold."""
        include = vs["compose"]["include"][0]
        focus = implicit_focus(vs)
        if focus is None:
            return
        try:
            provider = self.code_system(include["system"], None, check=False)
        except UnknownCodeSystem:
            return
        if provider.concept(focus) is None or (include.get("filter", [{}])[0].get("property") == "constraint"
                                               and not _has_members(provider, focus)):
            raise UnknownValueSet(vs["url"])

    def value_set(self, canonical: str, version: str | None = None) -> dict:
        """The ValueSet resource of a canonical (``url`` or ``url|version``); ``UnknownValueSet`` if none."""
        implicit = implicit_value_set(canonical)
        if implicit is not None:
            self._check_implicit(implicit)
            return implicit
        url, pinned = split_canonical(canonical)
        wanted = self.rules.value_set(url, version or pinned)
        local = self._value_sets.get(url, {})
        chosen = select_version(local, wanted) if local else None
        if chosen is not None:
            return local[chosen]
        if self.registry is not None:
            stored = self.registry.versions_of(url, "ValueSet")
            picked = select_version([r.version for r in stored], wanted) if stored else None
            if picked is not None:
                info = next(r for r in reversed(stored) if r.version == picked)
                return info.resource()
        raise UnknownValueSet(url, wanted)
