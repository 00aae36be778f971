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

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

import orjson

from smt.alignments.curies import canonical_system
from smt.alignments.model import MapRow, canonical, map_rows, scope_uri
from smt.alignments.vocab import NEGATIVE, R5_RELATIONSHIP_TO_EQUIVALENCE, inverse_equivalence
from smt.codesystems.factory import implicit_map_urls, implicit_value_set, provider_class
from smt.codesystems.provider import ConceptMapView
from smt.releases.registry import Registry
from smt.store.releases import RESOURCE, ReleaseInfo
from smt.terminology.implicit_maps import implicit_map_view


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
        groups = [g for g in resource.get("group", []) or [] if isinstance(g, dict)]
        self.source_systems = {_system(g.get("source")) for g in groups}
        self.target_systems = {_system(g.get("target")) for g in groups}


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
        implicit = implicit_map_view(registry, url)
        if implicit is not None:
            return [_implicit_index(implicit)]
        return [stored_index(registry.resolve(url, version, kind="ConceptMap"))]
    seen = {m.url for m in inline}
    urls = sorted({r.url for r in registry.releases() if r.kind == "ConceptMap"} - seen)
    maps = inline + [stored_index(registry.resolve(u, kind="ConceptMap")) for u in urls]
    if query is not None:
        systems = [query.result_system] if query.reverse else [c.system for c in query.codings]
        maps += [_implicit_index(view) for u in implicit_map_urls(registry, systems)
                 if (view := implicit_map_view(registry, u)) is not None]
    return maps


class _RowsByCode:
    """The rows of an implicit map by source code, read per code on first use (a bounded memo)."""

    def __init__(self, view: ConceptMapView, size: int = 4096) -> None:
        self.view = view
        self.size = size
        self.rows: OrderedDict[str, list[MapRow]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, code: str, default: list[MapRow] | None = None) -> list[MapRow]:
        with self.lock:
            found = self.rows.get(code)
        if found is None:
            found = list(map_rows(self.view.for_code(code)))
            with self.lock:
                self.rows[code] = found
                while len(self.rows) > self.size:
                    self.rows.popitem(last=False)
        return found


class _RowsByTarget:
    """The rows of an implicit map by target code: the whole map is read on the first reverse look-up."""

    def __init__(self, view: ConceptMapView) -> None:
        self.view = view

    @cached_property
    def rows(self) -> dict[str, list[MapRow]]:
        return MapIndex(self.view.resource()).backward

    def get(self, code: str, default: list[MapRow] | None = None) -> list[MapRow]:
        return self.rows.get(code, default or [])


_IMPLICIT: OrderedDict[tuple[str, str], tuple[ConceptMapView, MapIndex]] = OrderedDict()
_IMPLICIT_LOCK = threading.Lock()


def _implicit_index(view: ConceptMapView) -> MapIndex:
    """The index of an implicit map, whose rows are read per code on demand (kept while its view is)."""
    with _IMPLICIT_LOCK:
        cached = _IMPLICIT.get(view.key)
        if cached is not None and cached[0] is view:
            return cached[1]
    index = MapIndex(view.header)
    index.forward = _RowsByCode(view)  # type: ignore[assignment]  # read per code, same get() as a dict
    index.backward = _RowsByTarget(view)  # type: ignore[assignment]
    with _IMPLICIT_LOCK:
        _IMPLICIT[view.key] = (view, index)
        while len(_IMPLICIT) > 16:
            _IMPLICIT.popitem(last=False)
    return index


def _codes(concept: Concept) -> list[str]:
    codes = [concept.code]
    if concept.system and (other := provider_class(concept.system).normalise_code(concept.code)) != concept.code:
        codes.append(other)
    return codes


def _scope_system(scope: str) -> str | None:
    """The code system a scope names: a code system URL, or its all-codes implicit value set (``…?fhir_vs``)."""
    implicit = implicit_value_set(scope)
    if implicit is None:
        return _system(scope)
    includes = implicit.get("compose", {}).get("include", [])
    whole = len(includes) == 1 and not includes[0].get("filter") and not includes[0].get("concept")
    return _system(includes[0].get("system")) if whole else None


def _scope_matches(declared: str | None, asked: str | None, systems: set[str | None]) -> bool:
    """Whether a map of source (or target) scope ``declared``, whose groups map from (or into) ``systems``, is in
    the scope ``asked``: the same value set, or, for a map that declares none, a code system one of its groups
    maps from (or into), as peers read a code system URL given there."""
    if asked is None or declared == asked:
        return True
    return declared is None and (system := _scope_system(asked)) is not None and system in systems


def _in_scope(index: MapIndex, query: TranslateQuery) -> bool:
    return (_scope_matches(index.source_scope, query.source_scope, index.source_systems)
            and _scope_matches(index.target_scope, query.target_scope, index.target_systems))


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

