"""Evaluation of value set composes: ordered member keys for ``$expand``, membership tests for ``$validate-code``.

The compose is evaluated once into ordered ``Members`` (``smt.terminology.expand.members``): parts of concept id
sets, includes in order (listed concepts in their order, filters and whole systems in load order), nested value
sets intersected, excludes removed, ``compose.inactive = false`` applied, all as set operations on roaring
bitmaps (filters: ``smt.terminology.expand.filters``; stored releases answer hierarchies, concept statuses,
property values and text matches from compiled or cached sets). Listed codes are looked up in batches
(``ids_for_codes``). The ``$expand`` text filter asks each provider (``text_matches``: a stored release's search
index), else scans. Only the page asked for is turned into member keys.
``Compose.membership`` answers ``$validate-code`` without expanding: listed codes are looked up in a set
cached per concept list, filters are evaluated for the one concept (``smt.terminology.expand.filters.filter_test``).
The displays, designations and extensions an include gives its listed concepts, and the standing of the
resources used, are recorded for the answer.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import groupby
from typing import Literal, TypeVar

from smt.codesystems.provider import CodeSystemProvider
from smt.errors import CircularReference, CodeSystemNotFound, UnknownCodeSystem, UnknownValueSet
from smt.formats.fhir_json import standing
from smt.index.reader import ConceptRecord
from smt.index.sets import EMPTY, BitMap
from smt.releases.registry import version_key
from smt.terminology.context import ResourceContext
from smt.terminology.expand.concept_extensions import PROPERTY_EXTENSIONS
from smt.terminology.expand.filters import ConceptTest, filter_ids, filter_test, has_words, text_filter
from smt.terminology.expand.members import Bits, Key, Members, Part

CONCEPT_EXTENSIONS = frozenset({
    "http://hl7.org/fhir/StructureDefinition/valueset-deprecated",
    "http://hl7.org/fhir/StructureDefinition/structuredefinition-standards-status",
    "http://hl7.org/fhir/StructureDefinition/valueset-concept-definition",
    "http://hl7.org/fhir/StructureDefinition/rendering-style",
    "http://hl7.org/fhir/StructureDefinition/rendering-xhtml",
})
"""``include.concept`` extensions copied onto the expansion's ``contains``."""

T = TypeVar("T")


def canonical_of(resource: dict) -> str:
    url = resource.get("url") or ""
    return f"{url}|{resource['version']}" if resource.get("version") and url else url


@dataclass(slots=True)
class IncludeVersion:
    """How one ``include`` of a code system resolved: the version it declares, the version pattern the
    request's rules made of it, and its provider (None when that version is unknown, see ``error``)."""

    declared: str | None
    effective: str | None
    provider: CodeSystemProvider | None
    error: UnknownCodeSystem | None = None


@dataclass(slots=True, frozen=True)
class ListedCodes:
    """The codes an include lists, for membership tests (folded too for a case-insensitive system)."""

    codes: frozenset[str]
    folded: frozenset[str] | None

    def has(self, concept: ConceptRecord) -> bool:
        return concept.code in self.codes or (self.folded is not None and concept.code.casefold() in self.folded)


_DERIVED: OrderedDict[tuple[str, int], tuple[object, object]] = OrderedDict()
_DERIVED_LOCK = threading.Lock()
_DERIVED_MAX = 128


def derived(kind: str, source: object, build: Callable[[], T]) -> T:
    """``build()``, cached per ``source`` object (a value set's concept list, a provider): stored value sets
    and code system indexes are shared between requests, so what is derived from them is computed once."""
    key = (kind, id(source))
    with _DERIVED_LOCK:
        cached = _DERIVED.get(key)
        if cached is not None and cached[0] is source:
            _DERIVED.move_to_end(key)
            return cached[1]  # type: ignore[return-value]
    value = build()
    with _DERIVED_LOCK:
        _DERIVED[key] = (source, value)  # the source is kept alive, so its id cannot be reused meanwhile
        while len(_DERIVED) > _DERIVED_MAX:
            _DERIVED.popitem(last=False)
    return value


def listed_codes(concepts: list[dict], case_sensitive: bool = True) -> ListedCodes:
    """The ``ListedCodes`` of an ``include.concept`` list (cached per list)."""
    def build() -> ListedCodes:
        codes = frozenset(c.get("code", "") for c in concepts)
        return ListedCodes(codes, None if case_sensitive else frozenset(c.casefold() for c in codes))
    return derived("listed-cs" if case_sensitive else "listed-ci", concepts, build)


@dataclass(slots=True)
class SetMembership:
    """One ``include``/``exclude`` as a membership test."""

    has_system: bool
    provider: CodeSystemProvider | None = None
    listed: ListedCodes | None = None
    filters: list[ConceptTest] = field(default_factory=list)
    nested: list[Membership] = field(default_factory=list)
    any_version: bool = False
    """A code of another version of the system counts as this one's (``versionsMatch``)."""

    def __call__(self, provider: CodeSystemProvider, concept: ConceptRecord) -> bool:
        if self.has_system:
            mine = self.provider
            if mine is None or mine.url != provider.url:
                return False
            if mine.version != provider.version:
                same = mine.concept(concept.code) if self.any_version else None
                if same is None:
                    return False
                concept = same
            if self.listed is not None and not self.listed.has(concept):
                return False
            if not all(test(concept) for test in self.filters):
                return False
        elif not self.nested:
            return False
        return all(inner(provider, concept) for inner in self.nested)


@dataclass(slots=True)
class Membership:
    """Whether a concept of a provider is a member of a value set (``Compose.membership``)."""

    includes: list[SetMembership] = field(default_factory=list)
    excludes: list[SetMembership] = field(default_factory=list)
    active_only: bool = False
    expansion: set[Key] | None = None
    """Members of a value set that has only an ``expansion``."""

    def __call__(self, provider: CodeSystemProvider, concept: ConceptRecord) -> bool:
        if self.expansion is not None:
            return (provider.url, provider.version, concept.id) in self.expansion
        if not any(include(provider, concept) for include in self.includes):
            return False
        if any(exclude(provider, concept) for exclude in self.excludes):
            return False
        return concept.active or not self.active_only


def latest_first(includes: list[dict]) -> list[tuple[int, dict]]:
    """The includes (with their position in the compose) in the order they are evaluated: those naming versions
    of one code system from the latest version to the earliest, each other include where it stands, so a code in
    several versions is listed, and validated, in its latest one first (FHIRsmith ``ValueSetExpander.handleCompose``
    and ``ValueSetChecker.check`` sort them so)."""
    numbered = list(enumerate(includes))
    slots: dict[str, list[int]] = {}
    for position, (_, include) in enumerate(numbered):
        if include.get("system") and include.get("version"):
            slots.setdefault(include["system"], []).append(position)
    ordered = list(numbered)
    for positions in slots.values():
        chosen = sorted((numbered[p] for p in positions), key=lambda item: version_key(item[1]["version"]),
                        reverse=True)
        for position, item in zip(positions, chosen, strict=True):
            ordered[position] = item
    return ordered


class Compose:
    """Evaluates value set composes for one request (providers, used resources and membership).

    ``lenient`` (validation): an include whose code system version is unknown adds no members instead of
    failing, and ``check-system-version`` is left to the caller; both are recorded in ``includes``.
    """

    def __init__(self, ctx: ResourceContext, lenient: bool = False, versions_match: bool | None = None) -> None:
        self.ctx = ctx
        self.lenient = lenient
        self.versions_match = versions_match
        """``versionsMatch`` as the request or value set gives it (None: not given, see ``matches_versions``)."""
        self.versions_matched = False
        """Whether some compose was evaluated with versions matched (the expansion echoes ``versionsMatch``)."""
        self.providers: dict[tuple[str, str | None], CodeSystemProvider] = {}
        self.used_code_systems: list[str] = []
        self.used_value_sets: list[str] = []
        self.used_fragments: list[str] = []
        self.unclosed: str | None = None
        """Set (to a reason, possibly empty) when a grammar-based system contributes an open-ended selection."""
        self.display_overrides: dict[Key, str] = {}
        self.concept_extensions: dict[Key, list[dict]] = {}
        """Extensions a value set puts on its listed concepts (``include.concept.extension``) kept in answers."""
        self.listed_properties: dict[Key, list[dict]] = {}
        """Property extensions (order, label, weight) a value set puts on its listed concepts."""
        self.listed_designations: dict[Key, list[dict]] = {}
        """Designations a value set gives its listed concepts (``include.concept.designation``)."""
        self.includes: dict[str, list[IncludeVersion]] = {}
        self.standings: list[tuple[str, str, str]] = []
        """(resource type, canonical, standing) of the draft/experimental/deprecated/withdrawn resources used."""
        self.expressions: dict[Key, ConceptRecord] = {}
        """Expressions listed as codes (negative ids; SNOMED CT post-coordination), with their records."""

    def note_standing(self, kind: str, canonical: str, value: str | None) -> None:
        if value and (kind, canonical, value) not in self.standings:
            self.standings.append((kind, canonical, value))

    def include_provider(self, system: str, declared: str | None) -> CodeSystemProvider | None:
        """The provider of an include, recorded in ``includes`` (None: unknown version, when lenient)."""
        effective = self.ctx.rules.effective(system, declared)
        found = self.includes.setdefault(system.rstrip("/"), [])
        try:
            provider = self._provider_at(system, effective)
        except CodeSystemNotFound as exc:
            if not (self.lenient and exc.unknown.version is not None):
                raise
            found.append(IncludeVersion(declared, effective, None, exc.unknown))
            return None
        found.append(IncludeVersion(declared, effective, provider))
        return provider

    def provider(self, system: str, version: str | None) -> CodeSystemProvider:
        """The provider of ``system`` + ``version`` under the request's version rules, recorded as used."""
        return self._provider_at(system, self.ctx.rules.effective(system, version))

    def _provider_at(self, system: str, effective: str | None) -> CodeSystemProvider:
        try:
            provider = self.ctx.code_system_at(system, effective, check=not self.lenient)
        except UnknownCodeSystem as exc:
            raise CodeSystemNotFound(exc) from None
        self.providers[(provider.url, provider.version)] = provider
        used = f"{provider.url}|{provider.version}" if provider.version else provider.url
        if used not in self.used_code_systems:
            self.used_code_systems.append(used)
        self.note_standing("CodeSystem", used, provider.meta.get("standing"))
        if provider.meta.get("content") == "fragment" and used not in self.used_fragments:
            self.used_fragments.append(used)
        return provider

    def value_set(self, reference: str, container: dict, path: tuple[str, ...]) -> dict:
        """A value set referenced by ``include.valueSet`` (``#id`` = contained in ``container``)."""
        if reference.startswith("#"):
            for contained in container.get("contained", []):
                if contained.get("resourceType") == "ValueSet" and contained.get("id") == reference[1:]:
                    return contained
        try:
            resource = self.ctx.value_set(reference)
        except UnknownValueSet as exc:  # an import: tx.fhir.org names it by its own message ids
            exc.message_id = "VS_EXP_IMPORT_UNK_PINNED" if exc.version else "VS_EXP_IMPORT_UNK"
            raise
        canonical = canonical_of(resource)
        if canonical in path or (resource.get("url") and resource.get("url") in {p.split("|")[0] for p in path}):
            chain = ", ".join(path)
            raise CircularReference(f"Found a circularity pointing to {canonical} processing ValueSet with "
                                    f"pathway [{chain}]")
        if canonical not in self.used_value_sets:
            self.used_value_sets.append(canonical)
        self.note_standing("ValueSet", canonical, standing(resource, lifecycle=False))
        return resource

    # -- members ----------------------------------------------------------------------------------------------

    def members(self, vs: dict, path: tuple[str, ...] = ()) -> Members:
        """Ordered, de-duplicated members of a value set."""
        path = (*path, canonical_of(vs) or vs.get("id") or "#")
        compose = vs.get("compose")
        if compose is None:
            return self._expansion_members(vs)
        parts = [self._set_members(include, vs, path, f"ValueSet.compose.include[{number}]")
                 for number, include in latest_first(compose.get("include", []))]
        excluded = [self._set_members(exclude, vs, path, f"ValueSet.compose.exclude[{number}]")
                    for number, exclude in enumerate(compose.get("exclude", []))]
        ordered = Members.concatenated(parts) if parts else Members()
        if self.matches_versions(compose):
            ordered = self._across_versions(ordered, Members.concatenated(excluded) if excluded else Members())
        elif excluded:
            ordered = ordered.without(Members.concatenated(excluded))
        if compose.get("inactive") is False:
            ordered = self.keep(ordered, "active")
        return ordered

    def _expansion_members(self, vs: dict) -> Members:
        """Members of a value set that has only an ``expansion`` (its contains, flattened)."""
        keys: dict[Key, None] = {}
        stack = list(reversed(vs.get("expansion", {}).get("contains", [])))
        while stack:
            item = stack.pop()
            if item.get("system") and item.get("code"):
                provider = self.provider(item["system"], item.get("version"))
                concept = provider.concept(item["code"])
                if concept is not None:
                    keys[(provider.url, provider.version, concept.id)] = None
            stack.extend(reversed(item.get("contains", [])))
        return Members([Part.of_list(pair, [k[2] for k in run]) for pair, run in groupby(keys, key=lambda k: k[:2])])

    def _set_members(self, item: dict, container: dict, path: tuple[str, ...], where: str) -> Members:
        found: Members | None = None
        if item.get("system"):
            provider = self.include_provider(item["system"], item.get("version"))
            if provider is None:
                return Members()
            pair = (provider.url, provider.version)
            if item.get("concept"):
                found = Members([Part.of_list(pair, self._listed_ids(provider, item))])
            elif item.get("filter"):
                found = Members([Part(pair, self._filtered_ids(provider, item, where))])
            else:
                self._note_unclosed(provider, [])
                found = Members([Part(pair, provider.all_set())])
            self._note_listed(provider, item)
        nested = [self.members(self.value_set(ref, container, path), path) for ref in item.get("valueSet", [])]
        if found is None:
            if not nested:
                return Members()
            found, nested = nested[0], nested[1:]
        for other in nested:
            found = found.within(other)
        return found

    def _note_listed(self, provider: CodeSystemProvider, item: dict) -> None:
        """Record the displays, designations and extensions an include gives its listed concepts (one batched
        lookup)."""
        concepts = item.get("concept", [])
        noted: list[dict] = derived("noted", concepts, lambda: [
            c for c in concepts
            if c.get("display") or c.get("designation")
            or any(e.get("url") in CONCEPT_EXTENSIONS or e.get("url") in PROPERTY_EXTENSIONS
                   for e in c.get("extension", []))])
        if not noted:
            return
        ids = provider.ids_for_codes(c.get("code", "") for c in noted)
        for listed in noted:
            number = ids.get(listed.get("code", ""))
            if number is None:
                continue
            key = (provider.url, provider.version, number)
            if listed.get("display"):
                self.display_overrides[key] = listed["display"]
            kept = [e for e in listed.get("extension", []) if e.get("url") in CONCEPT_EXTENSIONS]
            if kept:
                self.concept_extensions[key] = kept
            properties = [e for e in listed.get("extension", []) if e.get("url") in PROPERTY_EXTENSIONS]
            if properties:
                self.listed_properties[key] = properties
            if listed.get("designation"):
                self.listed_designations[key] = listed["designation"]

    def _note_unclosed(self, provider: CodeSystemProvider, filters: list[dict]) -> None:
        """A whole-system or filtered include of a code system with a grammar (post-coordination) is unclosed
        unless its filters exclude expressions (``is_closed``)."""
        if provider.is_closed(filters):
            return
        if not filters:
            self.unclosed = f"The code System '{provider.url}' has a grammar and so has infinite members"
        elif self.unclosed is None:
            self.unclosed = ""

    def _listed_ids(self, provider: CodeSystemProvider, item: dict) -> list[int]:
        """Ids of the concepts an include lists, in its order (expressions get negative ids)."""
        codes = [listed.get("code", "") for listed in item["concept"]]
        found = provider.ids_for_codes(codes)
        if len(found) < len(codes):  # codes may be expressions (``listed_expression``)
            found.update(self._expression_ids(provider, [c for c in codes if c not in found]))
        return list(dict.fromkeys(found[c] for c in codes if c in found))

    def _filtered_ids(self, provider: CodeSystemProvider, item: dict, where: str) -> Bits:
        """Ids selected by every filter of an include."""
        filters = item["filter"]
        self._note_unclosed(provider, filters)
        selected = filter_ids(provider, filters[0], f"{where}.filter[0]")
        for number, flt in enumerate(filters[1:], start=1):
            selected = selected & filter_ids(provider, flt, f"{where}.filter[{number}]")
        return selected

    def _expression_ids(self, provider: CodeSystemProvider, codes: list[str]) -> dict[str, int]:
        """Negative ids of the valid post-coordinated expressions among ``codes`` (one id per expression)."""
        known = {record.code: key[2] for key, record in self.expressions.items()
                 if key[:2] == (provider.url, provider.version)}
        for code in codes:
            if code not in known:
                number = -1 - len(self.expressions)
                record = provider.listed_expression(code, number)
                if record is not None:
                    self.expressions[(provider.url, provider.version, number)] = record
                    known[code] = number
        return {code: known[code] for code in codes if code in known}

    # -- membership of one concept ($validate-code) -------------------------------------------------------------

    def membership(self, vs: dict, path: tuple[str, ...] = ()) -> Membership:
        """A test of one concept's membership, with the same resolution (and side effects) as ``members``
        but nothing expanded: listed codes are looked up in a cached set, filters tested on the concept."""
        path = (*path, canonical_of(vs) or vs.get("id") or "#")
        compose = vs.get("compose")
        if compose is None:
            return Membership(expansion=set(self._expansion_members(vs)))
        includes = [self._set_membership(include, vs, path, f"ValueSet.compose.include[{number}]")
                    for number, include in latest_first(compose.get("include", []))]
        excludes = [self._set_membership(exclude, vs, path, f"ValueSet.compose.exclude[{number}]")
                    for number, exclude in enumerate(compose.get("exclude", []))]
        if self.matches_versions(compose):
            for exclude in excludes:
                exclude.any_version = True
        return Membership(includes, excludes, active_only=compose.get("inactive") is False)

    def matches_versions(self, compose: dict) -> bool:
        """Whether a code is one member whatever the version of its code system (``versionsMatch``): as the
        request or value set says, else when the compose only excludes other versions of the one code system it
        includes (every include and exclude names that system and a version, and no exclude's version is an
        include's): excluding a code of one version then excludes it from the others (FHIRsmith
        ``ValueSetExpander.checkForExclusionVersionSpecialCase``)."""
        match = self.versions_match
        if match is None:
            includes, excludes = compose.get("include", []), compose.get("exclude", [])
            sets = [*includes, *excludes]
            system = includes[0].get("system") if includes else None
            match = bool(includes and excludes and system
                         and all(s.get("system") == system and s.get("version") for s in sets)
                         and not {i.get("version") for i in includes} & {e.get("version") for e in excludes})
        self.versions_matched = self.versions_matched or match
        return match

    def _across_versions(self, members: Members, excluded_members: Members) -> Members:
        """Members with versions matched: one per code of a system (the first, i.e. latest, version's), none of
        an excluded code whatever its version."""
        keys, excluded = members.keys(), excluded_members.keys()
        records = self.records([*keys, *excluded])
        gone = {(k[0], records[k].code) for k in excluded}
        kept: dict[tuple[str, str], Key] = {}
        for key in keys:
            code = (key[0], records[key].code)
            if code not in gone and code not in kept:
                kept[code] = key
        return Members.of_keys(list(kept.values()))

    def _set_membership(self, item: dict, container: dict, path: tuple[str, ...], where: str) -> SetMembership:
        found = SetMembership(has_system=bool(item.get("system")))
        if found.has_system:
            provider = self.include_provider(item["system"], item.get("version"))
            if provider is None:
                return SetMembership(has_system=True)
            found.provider = provider
            if item.get("concept"):
                found.listed = listed_codes(item["concept"], case_sensitive=provider.meta.get("case_sensitive", True))
            else:
                found.filters = [filter_test(provider, flt, f"{where}.filter[{number}]")
                                 for number, flt in enumerate(item.get("filter", []))]
            self._note_listed(provider, item)
        found.nested = [self.membership(self.value_set(ref, container, path), path)
                        for ref in item.get("valueSet", [])]
        return found

    # -- helpers over keys ------------------------------------------------------------------------------------

    def records(self, keys: list[Key]) -> dict[Key, ConceptRecord]:
        """The concept records of ``keys`` (loaded per provider in batches)."""
        by_provider: dict[tuple[str, str | None], list[int]] = {}
        for system, version, number in keys:
            by_provider.setdefault((system, version), []).append(number)
        found: dict[Key, ConceptRecord] = {}
        for (system, version), ids in by_provider.items():
            for record in self.providers[(system, version)].concepts([i for i in ids if i >= 0]):
                found[(system, version, record.id)] = record
            found.update({(system, version, i): self.expressions[(system, version, i)] for i in ids if i < 0})
        return found

    def keep(self, members: Members, name: Literal["active", "selectable"]) -> Members:
        """The active (or selectable: not abstract) members, by the providers' concept sets; an expression's
        record is read."""
        def change(part: Part) -> Part:
            provider = self.providers[part.pair]
            if name == "active":
                bits = provider.concept_set("active")
                return part.keep(bits, lambda i: self.expressions[(*part.pair, i)].active)
            bits = provider.all_set() - provider.concept_set("abstract")
            return part.keep(bits, lambda i: not self.expressions[(*part.pair, i)].abstract)
        return members.map(change)

    def text_filtered(self, members: Members, query: str) -> Members:
        """The members (order kept) whose concept matches the ``$expand`` text ``filter``: each provider answers
        from its search index when it has one (``text_matches``), else its members are scanned."""
        if not has_words(query):
            return members
        matched: dict[tuple[str, str | None], Bits] = {}
        scanned: list[tuple[str, str | None]] = []
        for pair, provider in self.providers.items():
            found = provider.text_matches(query)
            if found is None:
                scanned.append(pair)
            else:
                matched[pair] = found
        for pair in scanned:
            ids = [i for part in members.parts if part.pair == pair for i in part.ids()]
            matched[pair] = BitMap(i for i in text_filter(self.providers[pair], ids, query) if i >= 0)
        return members.map(lambda part: part.keep(matched.get(part.pair, EMPTY), lambda i: False))
