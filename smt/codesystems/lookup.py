"""What ``$lookup`` answers for one concept: the result types and the selection of its properties and
designations, shared by the generic lookup of ``CodeSystemProvider`` and the terminologies that answer it
their own way (SNOMED CT)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from smt.index.reader import ConceptRecord, DesignationRecord
from smt.model import PropertyValue


@dataclass(frozen=True, slots=True)
class LookupProperty:
    """A property of the looked-up concept; ``type`` is the FHIR type (code, Coding, string, boolean, …)."""

    code: str
    value: PropertyValue
    type: str
    description: str | None = None
    code_display: str | None = None
    """The property's own name when its code is a concept (a SNOMED CT attribute: ``code-display``)."""


@dataclass(frozen=True, slots=True)
class LookupResult:
    system: str
    name: str
    version: str | None
    code: str
    display: str | None
    definition: str | None
    abstract: bool
    inactive: bool
    designations: list[DesignationRecord] = field(default_factory=list)
    properties: list[LookupProperty] = field(default_factory=list)


class Hierarchy(Protocol):
    """The part of a code system provider that ``hierarchy_properties`` reads."""

    def parents(self, concept: ConceptRecord) -> list[ConceptRecord]: ...

    def children(self, concept: ConceptRecord) -> list[ConceptRecord]: ...


def property_filter(properties: Iterable[str] | None) -> Callable[[str], bool]:
    """Filter of requested property codes: none requested or ``*`` = all."""
    codes = {p for p in (properties or ()) if p}
    if not codes or "*" in codes:
        return lambda code: True
    return codes.__contains__


def designations_asked(records: list[DesignationRecord], properties: Iterable[str] | None) -> list[DesignationRecord]:
    """Designations asked for: all by default or with ``designation``; ``lang.X`` keeps language X."""
    codes = {p for p in (properties or ()) if p}
    if not codes or codes & {"*", "designation"}:
        return records
    languages = {c.removeprefix("lang.").lower() for c in codes if c.startswith("lang.")}
    return [d for d in records if (d.language or "").lower() in languages]


def hierarchy_properties(provider: Hierarchy, concept: ConceptRecord,
                         want: Callable[[str], bool]) -> list[LookupProperty]:
    """The ``parent``, ``child`` (with their displays as descriptions) and ``inactive`` properties asked for."""
    found: list[LookupProperty] = []
    if want("parent"):
        found += [LookupProperty("parent", p.code, "code", p.display) for p in provider.parents(concept)]
    if want("child"):
        found += [LookupProperty("child", c.code, "code", c.display) for c in provider.children(concept)]
    if want("inactive"):
        found.append(LookupProperty("inactive", not concept.active, "boolean"))
    return found
