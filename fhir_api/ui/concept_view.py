"""What a concept page shows, read from the engines: the concept in one version, its hierarchy, its mappings
(``smt.terminology.translate``), its history across versions (``smt.publish.concept_history``) and links to
its other forms (FHIR ``$lookup``, RDF)."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

from fhir_api.ui import resources
from fhir_api.ui.concept_links import concept_path
from fhir_api.ui.pages import query
from smt.index.reader import CodeSystemIndex, ConceptRecord, DesignationRecord, PropertyRecord
from smt.model import Coding
from smt.publish.concept_history import ConceptVersion, concept_history
from smt.publish.concept_html import concept_href
from smt.releases.registry import Registry
from smt.store.releases import ReleaseInfo
from smt.terminology.translate import Concept, Match, TranslateQuery, candidate_maps, translate

MAX_ANCESTORS = 30


@dataclass(frozen=True, slots=True)
class Node:
    """A concept shown as a link (and, in trees, whether it has children to unfold)."""

    code: str
    display: str | None
    href: str
    leaf: bool = True
    status: str = "active"

    @property
    def children_href(self) -> str:
        """The address of the fragment listing this node's children."""
        path, _, params = self.href.partition("?")
        return f"{path}/children" + (f"?{params}" if params else "")


@dataclass(frozen=True, slots=True)
class Mapping:
    direction: str
    """``to``: this concept is the source of the mapping; ``from``: it is the target."""
    equivalence: str
    other: Concept | None
    other_title: str | None
    other_href: str | None
    map_canonical: str | None
    map_href: str | None
    comment: str | None


@dataclass(slots=True)
class PropertyRow:
    code: str
    description: str | None
    value: str


@dataclass(slots=True)
class ConceptPage:
    resource: resources.Resource
    release: ReleaseInfo
    concept: ConceptRecord
    iri: str
    designations: list[DesignationRecord]
    properties: list[PropertyRow]
    parents: list[Node]
    children: list[Node]
    ancestors: list[Node]
    history: list[ConceptVersion]
    language: str | None = None
    mappings: list[Mapping] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)


def node(resource: resources.Resource, release: ReleaseInfo, concept: ConceptRecord) -> Node:
    return Node(concept.code, concept.display, concept_path(resource, concept.code, release.version), concept.leaf,
                concept.status)


def concept_iri(index: CodeSystemIndex, code: str) -> str:
    """The concept's linked-data IRI (the same in every version; see ``CodeSystemRelease.concept_iri``)."""
    base = index.meta.get("concept_iri_base") or index.url.rstrip("/") + "/"
    return base + quote(code, safe="")


def _ancestors(index: CodeSystemIndex, concept: ConceptRecord) -> list[ConceptRecord]:
    """The path from a root down to the concept's first parent (following first parents)."""
    path: list[ConceptRecord] = []
    seen = {concept.id}
    current = concept
    while len(path) < MAX_ANCESTORS:
        parents = index.parents(current)
        if not parents or parents[0].id in seen:
            break
        current = parents[0]
        seen.add(current.id)
        path.append(current)
    return list(reversed(path))


def _property_text(value: object) -> str:
    if isinstance(value, Coding):
        return f"{value.code} — {value.display}" if value.display else value.code
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _properties(index: CodeSystemIndex, records: list[PropertyRecord]) -> list[PropertyRow]:
    described = {p["code"]: p.get("description") for p in index.meta.get("properties", [])}
    return [PropertyRow(r.code, described.get(r.code), _property_text(r.value)) for r in records]


def _mappings(registry: Registry, url: str, code: str) -> list[Mapping]:
    """Mappings from and to the concept in every concept map served (their default versions)."""
    maps = candidate_maps(registry)
    if not maps:
        return []
    code_systems = {r.url: r for r in resources.resources(registry, "CodeSystem")}
    map_ids = {f"{r.url}|{r.version}": r.id for r in registry.releases() if r.kind == "ConceptMap"}
    found: list[Mapping] = []
    for direction, reverse in (("to", False), ("from", True)):
        result = translate(maps, TranslateQuery([Concept(url, code)], reverse=reverse))
        found += [_mapping(direction, match, code_systems, map_ids) for match in result.matches]
    return found


def _mapping(direction: str, match: Match, code_systems: dict[str, resources.Resource],
             map_ids: dict[str, str]) -> Mapping:
    other = match.concept
    target = code_systems.get(other.system.rstrip("/")) if other and other.system else None
    map_id = map_ids.get(match.origin or "")
    return Mapping(direction, match.equivalence, other, target.title if target else None,
                   concept_path(target, other.code) if target and other else None, match.origin,
                   f"/fhir/ConceptMap/{map_id}" if map_id else None, match.comment)


def concept_page(registry: Registry, resource: resources.Resource, release: ReleaseInfo,
                 concept: ConceptRecord) -> ConceptPage:
    index = registry.index(release)
    iri = concept_iri(index, concept.code)
    version = release.version
    page = ConceptPage(
        resource=resource, release=release, concept=concept, iri=iri,
        designations=index.designations(concept), properties=_properties(index, index.properties(concept)),
        parents=[node(resource, release, p) for p in index.parents(concept)],
        children=[node(resource, release, c) for c in index.children(concept)],
        ancestors=[node(resource, release, a) for a in _ancestors(index, concept)],
        history=concept_history(registry, list(resource.releases), concept.code),
        language=index.meta.get("language"), mappings=_mappings(registry, resource.url, concept.code),
    )
    lookup = query(system=resource.url, code=concept.code, version=version)
    page.links = {
        "lookup": f"/fhir/CodeSystem/$lookup{lookup}",
        "turtle": concept_href(iri, format="turtle", version=version),
        "jsonld": concept_href(iri, format="jsonld", version=version),
        "rdfxml": concept_href(iri, format="rdfxml", version=version),
        "all_versions": concept_href(iri, format="turtle", version="all"),
        "default_version": concept_path(resource, concept.code),
    }
    return page


def children_nodes(registry: Registry, resource: resources.Resource, release: ReleaseInfo,
                   concept: ConceptRecord | None) -> list[Node]:
    """The children of ``concept``, or the roots of the release when ``concept`` is None."""
    index = registry.index(release)
    found = index.children(concept) if concept is not None else index.roots()
    return [node(resource, release, c) for c in found]
