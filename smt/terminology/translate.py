"""``$translate`` engine: codings → matches through one or more concept maps, forward or in reverse.

* Maps: the one named (stored release, ``url`` + version, or a resource given with the request), else every
  stored concept map (its default version: ``Registry.resolve``) and every map given with the request.
* Forward: rows whose source system and code are the coding's; ``reverse``: rows whose *target* system and
  code are the coding's, the match concept being the row's source. ``Match.equivalence`` is the map's own,
  read source → target; ``equivalence_from_given`` reads it from the given coding to the match concept, as
  an R4 answer states it: inverted in reverse (the CISP-2 → CIM-10 row T90 → E11 is ``narrower``, so the
  reverse look-up E11 → T90 is ``wider``: T90 is wider than E11).
* System URLs are compared in canonical form (catalogue aliases, trailing ``/``); codes as given, then in
  their system's spelling (CIM-10 ``E119`` → ``E11.9``: ``CodeSystemProvider.normalise_code``).
* A group's ``unmapped`` rule (``provided``, ``fixed``) answers forward look-ups its elements do not cover.
* ``result`` is true when at least one match is neither ``unmatched`` nor ``disjoint``.

Stored maps are indexed once per release (an LRU cache keyed by release folder and load time).
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import orjson

from smt.alignments.curies import canonical_system
from smt.alignments.model import MapRow, canonical, map_rows, scope_uri
from smt.alignments.vocab import NEGATIVE, R5_RELATIONSHIP_TO_EQUIVALENCE, inverse_equivalence
from smt.codesystems.factory import implicit_map_urls, provider_class
from smt.releases.registry import Registry
from smt.store.releases import RESOURCE, ReleaseInfo
from smt.terminology.implicit_maps import implicit_concept_map


@dataclass(frozen=True, slots=True)
class Concept:
    """A coding of a request or of an answer."""

    system: str | None
    code: str
    version: str | None = None
    display: str | None = None


@dataclass(slots=True)
class TranslateQuery:
    """What to translate. ``result_system`` filters the systems of the answers (R4 ``targetsystem``)."""

    codings: list[Concept]
    reverse: bool = False
    result_system: str | None = None
    source_scope: str | None = None
    target_scope: str | None = None


@dataclass(frozen=True, slots=True)
class Match:
    """One answer: ``concept`` (the other side of the mapping), how it relates, and where it comes from."""

    equivalence: str
    concept: Concept | None
    origin: str | None
    given: Concept
    comment: str | None = None
    extensions: tuple[dict, ...] = ()
    """The mapping's extensions other than SSSOM slots (e.g. SNOMED CT map group, priority, rule, advice)."""


def equivalence_from_given(match: Match, reverse: bool) -> str:
    """How the match concept relates to the given coding (R4 ``match.equivalence``): the map's own equivalence
    forward, its inverse for a reverse look-up."""
    return inverse_equivalence(match.equivalence) if reverse else match.equivalence


@dataclass(slots=True)
class TranslateResult:
    result: bool
    message: str | None
    matches: list[Match] = field(default_factory=list)


def _system(url: str | None) -> str | None:
    return canonical_system(url) if url else None


class MapIndex:
    """The rows of one concept map, indexed by source code and by target code."""

    def __init__(self, resource: dict) -> None:
        self.resource = resource
        self.url = resource.get("url")
        self.canonical = canonical(resource)
        self.source_scope = scope_uri(resource, "source")
        self.target_scope = scope_uri(resource, "target")
        self.forward: dict[str, list[MapRow]] = defaultdict(list)
        self.backward: dict[str, list[MapRow]] = defaultdict(list)
        for row in map_rows(resource):
            self.forward[row.source_code].append(row)
            if row.target_code is not None:
                self.backward[row.target_code].append(row)
        self.groups = [(_system(g.get("source")), _system(g.get("target")), g.get("targetVersion"), g["unmapped"])
                       for g in resource.get("group", []) or [] if isinstance(g.get("unmapped"), dict)]


@lru_cache(maxsize=32)
def _stored_index(folder: str, loaded_at: str) -> MapIndex:
    return MapIndex(orjson.loads((Path(folder) / RESOURCE).read_bytes()))


def stored_index(info: ReleaseInfo) -> MapIndex:
    """The (cached) index of a stored ConceptMap release (``.resource`` is its JSON: do not modify it)."""
    return _stored_index(str(info.path), info.loaded_at)


def candidate_maps(registry: Registry, url: str | None = None, version: str | None = None,
                   given: Iterable[dict] = (), query: TranslateQuery | None = None) -> list[MapIndex]:
    """The maps a translation consults: the one ``url`` (+ ``version``) names, else every default version.

    Maps ``given`` with the request come first and take precedence over a stored map with the same URL. An
    implicit map URL (``…?fhir_cm=``) is built on demand (``smt.terminology.implicit_maps``: the replaced-by map of
    any code system, else by its terminology's provider); without ``url``, the
    implicit maps of the terminology of the codes ``query`` translates (in reverse: of the codes it asks for)
    are consulted too (the map reference sets of the default SNOMED CT release).
    """
    inline = [MapIndex(resource) for resource in given
              if isinstance(resource, dict) and resource.get("resourceType") == "ConceptMap"]
    if url:
        named = [m for m in inline if m.url == url and (version is None or (m.canonical or "").endswith(f"|{version}"))]
        if named:
            return named
        implicit = implicit_concept_map(registry, url)
        if implicit is not None:
            return [_implicit_index(implicit)]
        return [stored_index(registry.resolve(url, version, kind="ConceptMap"))]
    seen = {m.url for m in inline}
    urls = sorted({r.url for r in registry.releases() if r.kind == "ConceptMap"} - seen)
    maps = inline + [stored_index(registry.resolve(u, kind="ConceptMap")) for u in urls]
    if query is not None:
        systems = [query.result_system] if query.reverse else [c.system for c in query.codings]
        maps += [_implicit_index(implicit_concept_map(registry, u) or {}) for u in implicit_map_urls(registry, systems)]
    return maps


_IMPLICIT: OrderedDict[str, MapIndex] = OrderedDict()


def _implicit_index(resource: dict) -> MapIndex:
    """The index of an implicit map (rebuilt only when its provider built a new resource)."""
    key = f"{resource.get('url')}|{resource.get('version')}"
    index = _IMPLICIT.get(key)
    if index is None or index.resource is not resource:
        index = _IMPLICIT[key] = MapIndex(resource)
        while len(_IMPLICIT) > 4:
            _IMPLICIT.popitem(last=False)
    return index


def _codes(concept: Concept) -> list[str]:
    codes = [concept.code]
    if concept.system and (other := provider_class(concept.system).normalise_code(concept.code)) != concept.code:
        codes.append(other)
    return codes


def _in_scope(index: MapIndex, query: TranslateQuery) -> bool:
    return ((query.source_scope is None or index.source_scope == query.source_scope)
            and (query.target_scope is None or index.target_scope == query.target_scope))


def _forward(index: MapIndex, given: Concept, result_system: str | None) -> list[Match]:
    system = _system(given.system)
    matches = []
    covered: set[str | None] = set()
    for code in _codes(given):
        for row in index.forward.get(code, []):
            if system is not None and _system(row.source_system) != system:
                continue
            covered.add(_system(row.target_system))
            if result_system is not None and _system(row.target_system) != result_system:
                continue
            concept = (Concept(row.target_system, row.target_code, row.target_version, row.target_display)
                       if row.target_code is not None else None)
            matches.append(Match(row.equivalence, concept, index.canonical, given, row.comment, row.extensions))
    for source, target, target_version, unmapped in index.groups:
        if (system is not None and source != system) or target in covered:
            continue
        if result_system is not None and target != result_system:
            continue
        match = _unmapped(unmapped, target, target_version, given, index.canonical)
        if match:
            matches.append(match)
    return matches


def _unmapped(rule: dict, target: str | None, version: str | None, given: Concept, origin: str | None) -> Match | None:
    mode = rule.get("mode")
    if mode == "provided":
        return Match("equivalent", Concept(target, given.code, version), origin, given)
    if mode == "fixed" and rule.get("code"):
        equivalence = R5_RELATIONSHIP_TO_EQUIVALENCE.get(str(rule.get("relationship")), "relatedto")
        return Match(equivalence, Concept(target, rule["code"], version, rule.get("display")), origin, given)
    return None


def _backward(index: MapIndex, given: Concept, result_system: str | None) -> list[Match]:
    system = _system(given.system)
    matches = []
    for code in _codes(given):
        for row in index.backward.get(code, []):
            if system is not None and _system(row.target_system) != system:
                continue
            if result_system is not None and _system(row.source_system) != result_system:
                continue
            concept = Concept(row.source_system, row.source_code, row.source_version, row.source_display)
            matches.append(Match(row.equivalence, concept, index.canonical, given, row.comment, row.extensions))
    return matches


def translate(maps: list[MapIndex], query: TranslateQuery) -> TranslateResult:
    """Translate every coding of ``query`` through ``maps``."""
    if not query.codings:
        raise ValueError("nothing to translate")
    result_system = _system(query.result_system)
    look = _backward if query.reverse else _forward
    matches: list[Match] = []
    for index in maps:
        if _in_scope(index, query):
            for given in query.codings:
                matches.extend(m for m in look(index, given, result_system) if m not in matches)
    positive = any(m.equivalence not in NEGATIVE for m in matches)
    message = None
    if not positive:
        described = ", ".join(f"{c.system or '?'}|{c.code}" for c in query.codings)
        direction = "reverse mapping" if query.reverse else "mapping"
        message = (f"No {direction} found for {described}" if not matches
                   else f"{described} is explicitly not mapped ({', '.join(sorted({m.equivalence for m in matches}))})")
    return TranslateResult(positive, message, matches)

