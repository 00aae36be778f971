"""Expansion entries (``expansion.contains``) built from concept records according to the ``$expand`` options.

An entry has the concept's display (in the requested language, else one the value set gives it), its
designations (filtered by the ``designation`` parameter, the value set's listed designations added), the
requested properties (``status`` of an inactive concept always), the order/label/weight extensions as
properties and the concept extensions kept from the code system and the value set.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from smt.codesystems.languages import PREFERRED_FOR_LANGUAGE, language_preferences, requested_languages_first
from smt.codesystems.provider import CodeSystemProvider
from smt.index.reader import ConceptRecord, DesignationRecord, PropertyRecord
from smt.model import Coding, PropertyValue
from smt.terminology.display_language import accepts, only_listed
from smt.terminology.expand.compose import Compose, Key
from smt.terminology.expand.concept_extensions import PROPERTY_URIS, echoed_extensions, extension_properties
from smt.terminology.expand.options import ExpandOptions

CONCEPT_PROPERTY_URI = "http://hl7.org/fhir/concept-properties#"

LANGUAGE_SYSTEM = "urn:ietf:bcp:47"


@dataclass(slots=True)
class ContainsProperty:
    code: str
    value: PropertyValue
    type: str


@dataclass(slots=True)
class ExpansionEntry:
    """One ``expansion.contains`` item."""

    system: str
    version: str | None
    code: str
    display: str | None
    abstract: bool = False
    inactive: bool = False
    definition: str | None = None
    designations: list[DesignationRecord] = field(default_factory=list)
    properties: list[ContainsProperty] = field(default_factory=list)
    extensions: list[dict] = field(default_factory=list)
    contains: list[ExpansionEntry] = field(default_factory=list)


def versions_shown(compose: Compose) -> bool:
    """Whether entries carry their code system version: when the expansion uses (or its includes name) more
    than one version of a system."""
    versions_per_system: dict[str, set[str | None]] = {}
    for system, version in compose.providers:
        versions_per_system.setdefault(system, set()).add(version)
    for system, includes in compose.includes.items():  # includes naming different versions (even if forced)
        declared = {i.declared for i in includes if i.declared}
        if len(declared) > 1:
            versions_per_system.setdefault(system, set()).update(declared)
    return any(len(v) > 1 for v in versions_per_system.values())


def _designations_wanted(records: list[DesignationRecord], wanted: list[str]) -> list[DesignationRecord]:
    """Designations kept by the ``designation`` parameter: ``system|code`` uses, ``urn:ietf:bcp:47|tag``
    languages (that exact tag) or a bare tag (every language it starts)."""
    if not wanted:
        return records
    kept = []
    for record in records:
        for token in wanted:
            system, _, code = token.rpartition("|")
            if system == LANGUAGE_SYSTEM:
                if (record.language or "").lower() == code.lower():
                    kept.append(record)
                    break
                continue
            if "|" in token:
                if record.use and record.use.code == code and (not system or record.use.system == system):
                    kept.append(record)
                    break
                continue
            if record.language and record.language.lower().startswith(token.lower()):
                kept.append(record)
                break
    return kept


def _listed_designation(raw: dict) -> DesignationRecord:
    """A designation a value set gives one of its listed concepts."""
    use = raw.get("use")
    return DesignationRecord(
        str(raw.get("value", "")), raw.get("language"),
        Coding(use.get("system"), use.get("code", ""), use.get("display")) if use else None,
        extensions=tuple(e for e in raw.get("extension", []) if isinstance(e, dict)))


class EntryBuilder:
    """Turns concept records into expansion entries according to the options."""

    def __init__(self, compose: Compose, options: ExpandOptions, show_version: bool) -> None:
        self.compose = compose
        self.only_listed = only_listed(options.display_language)
        """The display language refuses every language it does not list (``*;q=0``), read once."""
        self.options = options
        self.show_version = show_version
        self.declared: dict[str, str | None] = {}
        self.stored_codes = frozenset(options.properties) | {"status"}
        """The stored properties entries show: those asked for, and ``status``."""
        self.loaded: dict[Key, tuple[list[DesignationRecord], list[PropertyRecord]]] = {}
        self.reads_designations = bool(options.include_designations or options.designations
                                       or language_preferences(options.display_language))
        """Entries read the designations only to show them or to choose a display in a requested language."""

    def preload(self, records: dict[Key, ConceptRecord]) -> None:
        """Read the designations and shown properties of the concepts of a page, one query per code system
        version (what ``entry`` reads for them)."""
        by_pair: dict[tuple[str, str | None], list[ConceptRecord]] = {}
        for (system, version, number), record in records.items():
            if number >= 0:
                by_pair.setdefault((system, version), []).append(record)
        for pair, concepts in by_pair.items():
            provider = self.compose.providers[pair]
            designations = provider.designations_of(concepts) if self.reads_designations else {}
            properties = provider.properties_of(concepts, self.stored_codes)
            for concept in concepts:
                self.loaded[(*pair, concept.id)] = (designations.get(concept.id, []), properties.get(concept.id, []))

    def entry(self, key: Key, concept: ConceptRecord) -> ExpansionEntry:
        options = self.options
        provider = self.compose.providers[(key[0], key[1])]
        loaded = self.loaded.get(key)
        designations = loaded[0] if loaded is not None else provider.designations(concept)
        display, source = provider.preferred_display(concept, designations, options.display_language)
        if source is None and key in self.compose.display_overrides:
            display = self.compose.display_overrides[key]
        refused = source is None and self.only_listed and not accepts(
            options.display_language, provider.meta.get("language"))
        if refused:  # "de,*;q=0": no German term, so no display (the default one stays a designation)
            display = None
        entry = ExpansionEntry(
            system=provider.url, version=provider.version if self.show_version else None, code=concept.code,
            display=display, abstract=concept.abstract, inactive=not concept.active,
            definition=concept.definition if options.include_definition else None)
        if options.include_designations or options.designations:
            offered = designations if options.designations else provider.expansion_designations(designations)
            offered = requested_languages_first(offered, options.display_language)
            shown = [d for d in offered if d is not source]
            if (source is not None or refused) and concept.display:
                language = provider.meta.get("language")
                shown.insert(0, DesignationRecord(concept.display, language, PREFERRED_FOR_LANGUAGE))
            shown += [_listed_designation(d) for d in self.compose.listed_designations.get(key, [])]
            entry.designations = _designations_wanted(shown, options.designations)
        own = provider.concept_extensions(concept)
        stored = loaded[1] if loaded is not None else [
            p for p in provider.properties(concept) if p.code in self.stored_codes]
        entry.properties = self.properties(provider, concept, stored)
        entry.properties += self.extension_properties(key, own, {p.code for p in entry.properties})
        entry.extensions = echoed_extensions(own, self.compose.concept_extensions.get(key, []))
        return entry

    def extension_properties(self, key: Key, own: list[dict], given: set[str]) -> list[ContainsProperty]:
        """Order, label and weight of the concept (code system extensions, replaced by the value set's)."""
        found = extension_properties(own, self.compose.listed_properties.get(key, []))
        for code in found:
            self.declared.setdefault(code, PROPERTY_URIS.get(code))
        return [ContainsProperty(code, value, kind) for code, (value, kind) in found.items()  # type: ignore[arg-type]
                if code not in given]

    def properties(self, provider: CodeSystemProvider, concept: ConceptRecord,
                   stored: list[PropertyRecord]) -> list[ContainsProperty]:
        """The properties an entry shows (``stored``: the concept's stored values of ``stored_codes``)."""
        found: list[ContainsProperty] = []
        for code in self.options.properties:
            values: list[ContainsProperty] = []
            if code == "definition" and concept.definition:
                values = [ContainsProperty(code, concept.definition, "string")]
            elif code == "parent":
                values = [ContainsProperty(code, p.code, "code") for p in provider.parents(concept)]
            elif code == "child":
                values = [ContainsProperty(code, c.code, "code") for c in provider.children(concept)]
            elif code == "inactive":
                values = [ContainsProperty(code, not concept.active, "boolean")]
            else:
                values = [ContainsProperty(p.code, p.value, p.type) for p in stored if p.code == code]
            if values:
                default = CONCEPT_PROPERTY_URI + code if code in ("definition", "parent", "child", "inactive") else None
                uris = {p["code"]: p.get("uri") for p in provider.meta.get("properties", [])}
                self.declared.setdefault(code, uris.get(code) or default)
            found += values
        status = [p for p in stored if p.code == "status" and p.value != "active"]
        if (status or not concept.active) and "status" not in self.options.properties:
            value = status[0].value if status else concept.status
            found.append(ContainsProperty("status", value, "code"))
            self.declared.setdefault("status", CONCEPT_PROPERTY_URI + "status")
        return found
