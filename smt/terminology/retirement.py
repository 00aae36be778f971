"""Why a code is no longer active, since when, and what replaces it: read from every source that says it.

Sources, merged in this order (the first that gives a field wins, replacements accumulate):

1. **curators**: the published (``active``) ConceptMaps whose targets carry a replacement predicate
   (SSSOM ``predicate_id`` ``IAO:0100001`` "term replaced by", ``obo:IAO_0100001`` or ``dcterms:isReplacedBy``,
   in the ``sssom-predicate_id`` target extension, which ``smt load sssom`` writes) from a code of a code system
   to a code of the same system; a target without code (``sssom:NoTermFound``) gives a reason alone; the
   target's ``comment`` is the reason. Curators load them as any map: ``smt load sssom``, ``POST /releases``
   (``loader=sssom``) or ``POST /fhir/ConceptMap``, then publish them.
2. **the release itself**: the concept properties ``retirementDate``, ``statusReason`` and ``replacedBy``
   (``smt.model.RETIREMENT_PROPERTIES``) that loaders set where the source says it (NOS ``dateFin``), and what
   the release's provider reads in it (``replacements``, ``inactivation_reason``: SNOMED CT's historical
   associations and inactivation indicator).
3. **earlier versions** of the same code system (newest first): what they said about the code is kept, so a
   reason or replacement given once carries over to later versions where the code is still retired.

``since`` is the first version of the run of versions, ending at the one asked for, in which the code is
inactive (or absent): unknown when the code is already inactive in the oldest stored version.

Served in ``$lookup`` (the three properties, those the release lacks) and in ``$validate-code`` as one more
issue after tx.fhir.org's ``INACTIVE_CONCEPT_FOUND`` warning, whose text stays as tx.fhir.org writes it: an
``information`` issue (tx-issue-type ``code-comment``) whose text also goes in the ``message``, only when a
reason or a replacement is known. A provider whose ``reports_retirement`` is off (SNOMED CT: tx.fhir.org
reports an inactive concept with the warning alone) keeps those answers unchanged: its retirements are served
by the replaced-by map, and in ``$lookup`` when a retirement property is asked for by name.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from smt.alignments.extensions import GENERATED_COMMENT, slot_url
from smt.codesystems.factory import stored_provider
from smt.codesystems.lookup import LookupProperty, LookupResult, property_filter
from smt.codesystems.provider import CodeSystemProvider, Replacement
from smt.errors import NotFound
from smt.index.reader import ConceptRecord
from smt.model import REPLACED_BY, RETIREMENT_DATE, STATUS_REASON, Coding
from smt.releases.registry import Registry, normalise_system, version_key
from smt.store.releases import ReleaseInfo
from smt.terminology.codesystem import Issue

REPLACEMENT_PREDICATES = frozenset({"IAO:0100001", "obo:IAO_0100001", "dcterms:isReplacedBy"})
PREDICATE_EXTENSION = slot_url("predicate_id")
@dataclass(frozen=True, slots=True)
class Retirement:
    """What is known of a retired (or removed) code in one version of its code system."""

    system: str
    code: str
    active: bool = False
    date: str | None = None
    since: str | None = None
    reason: str | None = None
    replacements: tuple[Replacement, ...] = ()
    sources: tuple[str, ...] = ()

    @property
    def known(self) -> bool:
        """Whether anything beyond the status is known (a date, a version, a reason or a replacement)."""
        return bool(self.date or self.since or self.reason or self.replacements)

    def text(self) -> str:
        """One sentence, e.g. "The concept 'SA11' was retired on 2020-06-26 (reason: …); replaced by SA62 …"."""
        when = f" on {self.date[:10]}" if self.date else f" in version {self.since}" if self.since else ""
        reason = f" (reason: {self.reason})" if self.reason else ""
        text = f"The concept '{self.code}' was retired{when}{reason}"
        if self.replacements:
            names = [f"'{r.code}'" + (f" ({r.display})" if r.display else "") for r in self.replacements]
            text += "; replaced by " + " or ".join(names)
        return text


@dataclass(slots=True)
class _Note:
    """What one source says of one code."""

    date: str | None = None
    reason: str | None = None
    replacements: list[Replacement] = field(default_factory=list)


# -- curators' replacement maps ------------------------------------------------------------------------------


def _predicate(target: dict) -> str | None:
    return next((e.get("valueString") for e in target.get("extension", []) if e.get("url") == PREDICATE_EXTENSION),
                None)


def is_replacement(target: dict) -> bool:
    """Whether a ConceptMap target states a replacement (its SSSOM predicate is a replacement predicate)."""
    return _predicate(target) in REPLACEMENT_PREDICATES


def _comment(target: dict) -> str | None:
    generated = any(e.get("url") == GENERATED_COMMENT for e in target.get("extension", []))
    return None if generated else target.get("comment")


def replacement_map_notes(resource: dict) -> dict[tuple[str, str], _Note]:
    """(system, code) → note, from the replacement targets of one ConceptMap."""
    canonical = f"{resource.get('url')}|{resource.get('version')}"
    notes: dict[tuple[str, str], _Note] = {}
    for group in resource.get("group", []):
        source = normalise_system(group.get("source") or "")
        target_system = normalise_system(group.get("target") or source)
        if not source or target_system != source:
            continue
        for element in group.get("element", []):
            for target in element.get("target", []):
                if not is_replacement(target):
                    continue
                note = notes.setdefault((source, str(element.get("code"))), _Note())
                note.reason = note.reason or _comment(target)
                if target.get("code"):
                    note.replacements.append(Replacement(str(target["code"]), target.get("display"),
                                                         target.get("equivalence") or "equivalent",
                                                         f"ConceptMap {canonical}"))
    return notes


_curated_lock = threading.Lock()
_curated: dict[tuple[str, ...], dict[tuple[str, str], _Note]] = {}


def _published_maps(registry: Registry) -> dict[str, ReleaseInfo]:
    """The latest published (``active``) version of every concept map."""
    latest: dict[str, ReleaseInfo] = {}
    for info in registry.releases():
        if info.kind == "ConceptMap" and info.status == "active":
            known = latest.get(info.url)
            if known is None or version_key(info.version) >= version_key(known.version):
                latest[info.url] = info
    return latest


def curated_state(registry: Registry) -> tuple[str, ...]:
    """What the curators' notes depend on: the ids of the published concept map versions."""
    return tuple(sorted(info.id for info in _published_maps(registry).values()))


def curated_notes(registry: Registry) -> dict[tuple[str, str], _Note]:
    """Replacement notes of the latest published version of every concept map (cached per set of maps)."""
    latest = _published_maps(registry)
    key = tuple(sorted(info.id for info in latest.values()))
    with _curated_lock:
        found = _curated.get(key)
    if found is not None:
        return found
    merged: dict[tuple[str, str], _Note] = {}
    for info in sorted(latest.values(), key=lambda i: i.url):
        for item, note in replacement_map_notes(info.resource()).items():
            into = merged.setdefault(item, _Note())
            into.reason = into.reason or note.reason
            into.replacements += note.replacements
    with _curated_lock:
        _curated.clear()
        _curated[key] = merged
    return merged


# -- what a release says -------------------------------------------------------------------------------------


def _release_note(provider: CodeSystemProvider, concept: ConceptRecord) -> _Note:
    """What one release says of a retired concept: its retirement properties, then its provider's reading."""
    note = _Note()
    source = f"{provider.url}|{provider.version}"
    for prop in provider.properties(concept):
        if prop.code == RETIREMENT_DATE and note.date is None:
            note.date = str(prop.value)
        elif prop.code == STATUS_REASON and note.reason is None:
            note.reason = str(prop.value)
        elif prop.code == REPLACED_BY:
            code = prop.value.code if isinstance(prop.value, Coding) else str(prop.value)
            note.replacements.append(Replacement(code, source=source))
    note.reason = note.reason or provider.inactivation_reason(concept)
    note.replacements += provider.replacements(concept)
    return note


class RetirementNotes:
    """The retirement of codes of one code system version, read on demand."""

    def __init__(self, registry: Registry, versions: list[ReleaseInfo], position: int) -> None:
        self.registry = registry
        self.versions = versions
        self.position = position
        self.info = versions[position]
        self.system = normalise_system(self.info.url)

    @classmethod
    def of(cls, registry: Registry, url: str, version: str | None = None) -> RetirementNotes:
        info = registry.resolve(url, version)
        versions = registry.versions_of(info.url)
        return cls(registry, versions, next(i for i, r in enumerate(versions) if r.id == info.id))

    @classmethod
    def for_release(cls, registry: Registry, info: ReleaseInfo) -> RetirementNotes | None:
        versions = registry.versions_of(info.url)
        position = next((i for i, r in enumerate(versions) if r.id == info.id), None)
        return None if position is None else cls(registry, versions, position)

    def _concept(self, info: ReleaseInfo, code: str) -> tuple[CodeSystemProvider, ConceptRecord | None]:
        provider = stored_provider(self.registry, info)
        return provider, provider.concept(code)

    def get(self, code: str) -> Retirement | None:
        """What is known of ``code`` in this version; None when it is active and no curator retired it."""
        index, concept = self._concept(self.info, code)
        if concept is not None and concept.active:
            return None
        notes: list[tuple[str, _Note]] = []
        curated = curated_notes(self.registry).get((self.system, concept.code if concept else code))
        if curated is not None:
            notes.append(("curator", curated))
        if concept is not None:
            notes.append((f"{self.info.url}|{self.info.version}", _release_note(index, concept)))
        since: str | None = self.info.version
        for earlier in reversed(self.versions[:self.position]):
            old_index, old = self._concept(earlier, code)
            if old is not None and old.active:
                break
            since = earlier.version
            if old is not None:
                notes.append((f"{earlier.url}|{earlier.version}", _release_note(old_index, old)))
        else:
            since = None  # already retired (or absent) in the oldest version: when is not known
        if concept is None and not notes:
            return None
        return self._merge(code if concept is None else concept.code, since, notes, index)

    def _merge(self, code: str, since: str | None, notes: list[tuple[str, _Note]],
               index: CodeSystemProvider) -> Retirement:
        date = next((n.date for _, n in notes if n.date), None)
        reason = next((n.reason for _, n in notes if n.reason), None)
        replacements: dict[str, Replacement] = {}
        for _, note in notes:
            for item in note.replacements:
                replacements.setdefault(item.code, item)
        shown = tuple(self._displayed(item, index) for item in replacements.values())
        sources = tuple(dict.fromkeys(s for s, n in notes if n.date or n.reason or n.replacements))
        return Retirement(self.system, code, False, date, since, reason, shown, sources)

    def _displayed(self, item: Replacement, index: CodeSystemProvider) -> Replacement:
        if item.display:
            return item
        found = index.concept(item.code)
        if found is None:
            for info in reversed(self.versions):
                found = stored_provider(self.registry, info).concept(item.code)
                if found is not None:
                    break
        return replace(item, display=found.display) if found is not None and found.display else item

    def many(self, codes: Iterable[str]) -> dict[str, Retirement]:
        return {code: note for code in codes if (note := self.get(code)) is not None}


def retirement_of(registry: Registry | None, url: str, version: str | None, code: str) -> Retirement | None:
    """The retirement of ``code`` in a stored code system version (None for request code systems)."""
    if registry is None:
        return None
    try:
        notes = RetirementNotes.of(registry, url, version)
    except NotFound:
        return None
    found = notes.get(code)
    return found if found is not None and found.known else None


RETIREMENT_CODES = frozenset({RETIREMENT_DATE, STATUS_REASON, REPLACED_BY})


def with_retirement(result: LookupResult, registry: Registry | None, provider: CodeSystemProvider,
                    properties: Iterable[str] | None) -> LookupResult:
    """Add the retirement properties the release does not state itself to a ``$lookup`` of an inactive code of a
    stored release (named by ``property``, or unasked when its provider ``reports_retirement``)."""
    if not result.inactive or not provider.is_shared:
        return result
    asked = {p for p in properties or () if p}
    if not provider.reports_retirement and not asked & RETIREMENT_CODES:
        return result
    note = retirement_of(registry, provider.url, provider.version, result.code)
    if note is None:
        return result
    want = property_filter(properties)
    stated = {p.code for p in result.properties}
    added: list[LookupProperty] = []
    if note.date and want(RETIREMENT_DATE) and RETIREMENT_DATE not in stated:
        added.append(LookupProperty(RETIREMENT_DATE, note.date, "dateTime"))
    if note.reason and want(STATUS_REASON) and STATUS_REASON not in stated:
        added.append(LookupProperty(STATUS_REASON, note.reason, "string"))
    if want(REPLACED_BY):
        listed = {str(p.value.code if isinstance(p.value, Coding) else p.value) for p in result.properties
                  if p.code == REPLACED_BY}
        added += [LookupProperty(REPLACED_BY, Coding(provider.url, r.code, r.display), "Coding")
                  for r in note.replacements if r.code not in listed]
    return replace(result, properties=[*result.properties, *added]) if added else result


def retirement_issues(registry: Registry | None, provider: CodeSystemProvider, concept: ConceptRecord,
                      where: str) -> list[Issue]:
    """The retirement note of an inactive concept of a stored release for ``$validate-code`` (none when its
    provider does not ``reports_retirement``)."""
    if concept.active or not provider.is_shared or not provider.reports_retirement:
        return []
    note = retirement_of(registry, provider.url, provider.version, concept.code)
    if note is None or not (note.reason or note.replacements):
        return []
    return [Issue("information", "business-rule", "code-comment", note.text(), where or "code", in_message=True)]
