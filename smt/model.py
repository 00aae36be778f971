"""Release model: what every loader produces and what the store and index consume.

A loader turns source files into one ``CodeSystemRelease`` (or several); nothing here touches storage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

PropertyType = Literal["code", "Coding", "string", "integer", "boolean", "dateTime", "decimal"]
ReleaseStatus = Literal["draft", "active", "retired"]
ConceptStatus = Literal["active", "inactive", "retired"]
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")
"""Characters ``quote(safe="")`` leaves as they are: a code made of them is its own IRI segment."""

@dataclass(frozen=True, slots=True)
class Coding:
    system: str | None
    code: str
    display: str | None = None


@dataclass(frozen=True, slots=True)
class Designation:
    """One term for a concept: a label in a language, with an optional use (short label, FSN, …).

    Optional, for terminologies that have them (SNOMED CT): ``id`` of the term in the source (description
    id), ``active`` (an inactive term is kept but is not a valid display) and ``acceptability`` per dialect,
    e.g. ``(("en-US", "preferred"), ("en-GB", "acceptable"))``.
    """

    value: str
    language: str | None = None
    use: Coding | None = None
    id: str | None = None
    active: bool = True
    acceptability: tuple[tuple[str, str], ...] = ()
    source: str | None = None
    """Canonical (``url|version``) of the supplement the term comes from, if any."""
    extensions: tuple[dict, ...] = field(default=(), compare=False)
    """The designation's FHIR extensions (e.g. ``coding-sctdescid``), echoed in expansions."""


PropertyValue = str | int | bool | float | Coding


@dataclass(frozen=True, slots=True)
class ConceptProperty:
    """A property value of a concept. ``type`` is the FHIR property type."""

    code: str
    value: PropertyValue
    type: PropertyType = "string"


@dataclass(frozen=True, slots=True)
class PropertyDef:
    """Declaration of a property the code system uses (CodeSystem.property)."""

    code: str
    type: PropertyType
    uri: str | None = None
    description: str | None = None


RETIREMENT_DATE = "retirementDate"
"""Concept property: when the concept was retired (FHIR ``concept-properties#retirementDate``, dateTime)."""
STATUS_REASON = "statusReason"
"""Concept property: why the concept is no longer active (text), as the source or a curator says it."""
REPLACED_BY = "replacedBy"
"""Concept property: a concept of the same code system that replaces a retired one (code; may repeat)."""
SMT_CONCEPT_PROPERTIES = "https://smt.esante.gouv.fr/fhir/concept-properties#"
RETIREMENT_PROPERTIES = (
    PropertyDef(RETIREMENT_DATE, "dateTime", "http://hl7.org/fhir/concept-properties#retirementDate",
                "The date at which the concept was retired"),
    PropertyDef(STATUS_REASON, "string", SMT_CONCEPT_PROPERTIES + STATUS_REASON,
                "Why the concept is no longer active"),
    PropertyDef(REPLACED_BY, "code", SMT_CONCEPT_PROPERTIES + REPLACED_BY,
                "A concept of the same code system that replaces this retired one"),
)
"""Declarations of the retirement properties, for the code systems whose loaders set them."""


@dataclass(slots=True)
class Concept:
    """A concept of a code system release.

    ``parents`` holds codes of the same release. ``origin`` ("file:line") lets the quality gate point at the
    source line a problem comes from. ``extensions`` are kept for code systems given in requests only.
    """

    code: str
    display: str
    definition: str | None = None
    designations: list[Designation] = field(default_factory=list)
    properties: list[ConceptProperty] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)
    status: ConceptStatus = "active"
    abstract: bool = False
    origin: str | None = None
    extensions: list[dict] = field(default_factory=list)
    """The concept's FHIR extensions (order, label, weight, rendering…), for request resources."""


@dataclass(frozen=True, slots=True)
class SourceFile:
    """A file a release was built from, with its checksum (provenance)."""

    name: str
    sha256: str
    size: int


@dataclass(slots=True)
class ReleaseTables:
    """Optional columnar tables of a code system release (polars DataFrames), compiled into the index.

    For description-logic terminologies (SNOMED CT); codes are concept codes of the release, as text:

    * ``relationship``: source, type, destination, grp (int), characteristic ("inferred", "stated", …);
    * ``concrete``: source, type, value (text), kind ("integer" | "decimal" | "string"), grp, characteristic;
    * ``refset``: id, kind (e.g. "Association", "ExtendedMap"), columns (JSON list of the extra columns);
    * ``refset_member``: refset, referenced (any component id), fields (JSON object of the extra columns).
    """

    relationship: Any = None
    concrete: Any = None
    refset: Any = None
    refset_member: Any = None


@dataclass(slots=True)
class CodeSystemRelease:
    """One version of one code system, complete, as a loader produced it."""

    url: str
    version: str
    name: str
    title: str
    concepts: list[Concept]
    publisher: str | None = None
    copyright: str | None = None
    oids: list[str] = field(default_factory=list)
    language: str | None = "fr"
    status: ReleaseStatus = "active"
    date: str | None = None
    description: str | None = None
    properties: list[PropertyDef] = field(default_factory=list)
    hierarchy_meaning: str | None = "is-a"
    case_sensitive: bool = True
    content: str = "complete"
    concept_iri_base: str | None = None
    sources: list[SourceFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)
    tables: ReleaseTables | None = None

    kind: str = "CodeSystem"

    def concept_iri(self, code: str) -> str:
        """The stable IRI of a concept: the same in every version of the code system."""
        from urllib.parse import quote

        base = self.concept_iri_base or (self.url.rstrip("/") + "/")
        return base + (code if _UNRESERVED.fullmatch(code) else quote(code, safe=""))


@dataclass(slots=True)
class ResourceRelease:
    """One version of a ValueSet or ConceptMap, kept as its FHIR R4 JSON resource.

    ``resource`` is the complete resource (``compose`` and/or ``expansion`` for a value set, ``group`` for a
    concept map); the other fields are the registry metadata read from it.
    """

    kind: str
    url: str
    version: str
    name: str
    title: str
    resource: dict
    publisher: str | None = None
    copyright: str | None = None
    oids: list[str] = field(default_factory=list)
    language: str | None = "fr"
    status: ReleaseStatus = "active"
    date: str | None = None
    description: str | None = None
    sources: list[SourceFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)


Release = CodeSystemRelease | ResourceRelease


def resource_concept_count(resource: dict) -> int:
    """Concepts a value set enumerates (compose concept lists, else expansion) or a concept map maps."""
    if resource.get("resourceType") == "ConceptMap":
        return sum(len(group.get("element", [])) for group in resource.get("group", []))
    listed = sum(len(inc.get("concept", [])) for inc in resource.get("compose", {}).get("include", []))
    return listed or len(resource.get("expansion", {}).get("contains", []))


def release_meta(release: Release) -> dict[str, object]:
    """Descriptive metadata of a release (what the registry and resource searches show)."""
    if isinstance(release, ResourceRelease):
        return {
            "kind": release.kind, "url": release.url, "version": release.version, "name": release.name,
            "title": release.title, "publisher": release.publisher, "copyright": release.copyright,
            "oids": release.oids, "language": release.language, "date": release.date,
            "description": release.description, "count": resource_concept_count(release.resource),
            "stats": release.stats,
        }
    return {
        "kind": release.kind,
        "url": release.url,
        "version": release.version,
        "name": release.name,
        "title": release.title,
        "publisher": release.publisher,
        "copyright": release.copyright,
        "oids": release.oids,
        "language": release.language,
        "date": release.date,
        "description": release.description,
        "hierarchy_meaning": release.hierarchy_meaning,
        "case_sensitive": release.case_sensitive,
        "content": release.content,
        "concept_iri_base": release.concept_iri_base,
        "properties": [
            {"code": p.code, "type": p.type, "uri": p.uri, "description": p.description}
            for p in release.properties
        ],
        "count": len(release.concepts),
        "stats": release.stats,
    }


@dataclass(frozen=True, slots=True)
class CodeTable:
    """The codes of a stored code system release as plain values: what a loader may need from the store (to
    expand code ranges, check targets, take displays), given to it by the composition root (the CLI)."""

    url: str
    version: str
    displays: dict[str, str | None]
    """Display of every code, in the release's concept order."""
    parents: dict[str, tuple[str, ...]]
    """Parent codes of every code that has some."""
