"""SNOMED CT implicit concept maps: ``http://snomed.info/sct[/{module}[/version/{date}]]?fhir_cm={refset id}``.

Built on demand from the reference set members of a loaded SNOMED CT release (the index's ``refset_member``
table, see ``smt.index.build``), as FHIR R4 ConceptMaps, so that ``$translate`` reads them like stored maps.
``$translate`` reads an ``ImplicitMap`` one source code at a time (one indexed query for that code's members); the
whole ConceptMap is built only for ``$export`` and reverse look-ups:

* historical **association** reference sets (REPLACED BY, SAME AS, POSSIBLY EQUIVALENT TO, WAS A, …): inactive
  concept → ``targetComponentId``, both SNOMED CT; the equivalence per reference set is ``ASSOCIATION_EQUIVALENCE``;
* **map** reference sets (simple, complex, extended): concept → ``mapTarget`` in the target system of
  ``MAP_TARGET_SYSTEMS`` (no ``group.target`` when unknown). Targets are sorted by map group then priority;
  ``mapGroup``, ``mapPriority``, ``mapRule``, ``mapAdvice``, ``correlationId`` and ``mapCategoryId`` are kept as
  extensions ``SNOMED_MAP_EXT + <field>``, the advice also as ``comment``; the equivalence comes from
  ``correlationId`` (``CORRELATION_EQUIVALENCE``), ``unmatched`` when there is no map target.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from smt.codesystems.snomed import SNOMED_URL
from smt.errors import NotFound
from smt.index.reader import CodeSystemIndex, RefsetMemberRecord, RefsetRecord
from smt.releases.registry import Registry

SNOMED_MAP_EXT = "https://smt.esante.gouv.fr/fhir/StructureDefinition/snomed-map-"
MAP_FIELDS = ("mapGroup", "mapPriority", "mapRule", "mapAdvice", "correlationId", "mapCategoryId")

ASSOCIATION_EQUIVALENCE: dict[str, str] = {
    "900000000000527005": "equal",         # SAME AS
    "900000000000526001": "equivalent",    # REPLACED BY
    "900000000000523009": "inexact",       # POSSIBLY EQUIVALENT TO
    "1186921001": "inexact",               # POSSIBLY REPLACED BY
    "1186924009": "inexact",               # PARTIALLY EQUIVALENT TO
    "900000000000530003": "inexact",       # ALTERNATIVE
    "900000000000528000": "wider",         # WAS A
    "900000000000524003": "relatedto",     # MOVED TO
    "900000000000525002": "relatedto",     # MOVED FROM
    "900000000000531004": "relatedto",     # REFERS TO
}
"""Historical association reference set → R4 equivalence (any other association: ``relatedto``)."""

CORRELATION_EQUIVALENCE: dict[str, str] = {
    "447557004": "equivalent",  # exact match
    "447558009": "wider",       # narrow to broad: the target is broader
    "447559001": "narrower",    # broad to narrow
    "447560006": "inexact",     # partial overlap
    "447556008": "unmatched",   # not mappable
    "447561005": "relatedto",   # correlation not specified
}

MAP_TARGET_SYSTEMS: dict[str, str] = {
    "447562003": "http://hl7.org/fhir/sid/icd-10",  # ICD-10 extended map (International)
    "446608001": "http://terminology.hl7.org/CodeSystem/icd-o-3",  # ICD-O simple map
}


def parse_implicit_url(url: str) -> tuple[str | None, str] | None:
    """(version, refset id) of an implicit SNOMED CT map URL, None for any other URL."""
    base, sep, query = url.partition("?")
    if not sep or not (base == SNOMED_URL or base.startswith(SNOMED_URL + "/")):
        return None
    refsets = parse_qs(query).get("fhir_cm")
    if not refsets:
        return None
    return (base if base != SNOMED_URL else None), refsets[0]


def _target(displays: dict[str, str | None], fields: dict, kind: str, refset: str) -> dict:
    if kind == "Association":
        code = str(fields.get("targetComponentId", ""))
        display = displays.get(code)
        return {"code": code, **({"display": display} if display else {}),
                "equivalence": ASSOCIATION_EQUIVALENCE.get(refset, "relatedto")}
    item: dict = {}
    extensions = [{"url": SNOMED_MAP_EXT + name, "valueString": str(fields[name])}
                  for name in MAP_FIELDS if fields.get(name) not in (None, "")]
    if extensions:
        item["extension"] = extensions
    target = fields.get("mapTarget")
    if target:
        item["code"] = target
        item["equivalence"] = CORRELATION_EQUIVALENCE.get(str(fields.get("correlationId")), "relatedto")
    else:
        item["equivalence"] = "unmatched"
    if fields.get("mapAdvice"):
        item["comment"] = fields["mapAdvice"]
    elif item["equivalence"] in ("narrower", "inexact"):
        item["comment"] = "SNOMED CT map reference set member"
    return item


def _order(fields: dict) -> tuple[int, int]:
    def number(name: str) -> int:
        text = str(fields.get(name) or "0")
        return int(text) if text.isdigit() else 0

    return number("mapGroup"), number("mapPriority")


def _elements(index: CodeSystemIndex, refset: RefsetRecord, members: list[RefsetMemberRecord]) -> list[dict]:
    """ConceptMap elements of reference set members: one per referenced concept, targets in map order (the
    displays of sources and association targets read in one query)."""
    by_code: dict[str, list[RefsetMemberRecord]] = {}
    for member in sorted(members, key=lambda m: (m.referenced, _order(m.fields or {}))):
        by_code.setdefault(member.referenced, []).append(member)
    codes = list(by_code)
    if refset.kind == "Association":
        codes += [str((m.fields or {}).get("targetComponentId", "")) for m in members]
    displays = index.displays(codes)
    return [{"code": code, **({"display": displays[code]} if displays.get(code) else {}),
             "target": [_target(displays, m.fields or {}, refset.kind, refset.id) for m in rows]}
            for code, rows in by_code.items()]


@dataclass
class ImplicitMap:
    """One implicit map of one release, read on demand: ``header`` (the ConceptMap without its elements), the map
    restricted to one source code (``for_code``), or the whole ``resource``."""

    index: CodeSystemIndex
    version: str
    refset: RefsetRecord
    url: str
    key: tuple[str, str]
    """(release id, URL): what the map is, for caches."""
    _resource: dict | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def header(self) -> dict:
        concept = self.index.concept(self.refset.id)
        title = f"SNOMED CT {concept.display if concept and concept.display else self.refset.id} (implicit map)"
        group: dict = {"source": SNOMED_URL, "sourceVersion": self.version}
        if self.refset.kind == "Association":
            group.update(target=SNOMED_URL, targetVersion=self.version)
        elif self.refset.id in MAP_TARGET_SYSTEMS:
            group["target"] = MAP_TARGET_SYSTEMS[self.refset.id]
        group["element"] = []
        return {"resourceType": "ConceptMap", "url": self.url, "version": self.version,
                "name": f"SnomedImplicitMap{self.refset.id}", "title": title, "status": "active", "group": [group]}

    def for_code(self, code: str) -> dict:
        """The ConceptMap with only the element of the source concept ``code`` (none when it is no member)."""
        resource = self.header
        resource["group"][0]["element"] = _elements(self.index, self.refset,
                                                    self.index.refset_members(self.refset.id, code))
        return resource

    def resource(self) -> dict:
        """The whole ConceptMap (built once per map; shared: do not modify)."""
        with self._lock:
            if self._resource is None:
                resource = self.header
                resource["group"][0]["element"] = _elements(self.index, self.refset,
                                                            self.index.refset_members(self.refset.id))
                self._resource = resource
            return self._resource


_CACHE: OrderedDict[tuple[str, str], ImplicitMap] = OrderedDict()
_CACHE_SIZE = 16
_CACHE_LOCK = threading.Lock()


def implicit_map_view(registry: Registry, url: str) -> ImplicitMap | None:
    """The implicit map ``url`` names, read on demand (None when it is not an implicit SNOMED CT map URL)."""
    parsed = parse_implicit_url(url)
    if parsed is None:
        return None
    version, refset_id = parsed
    info = registry.resolve(SNOMED_URL, version)
    key = (info.id, url)
    with _CACHE_LOCK:
        found = _CACHE.get(key)
        if found is not None:
            _CACHE.move_to_end(key)
            return found
    index = registry.index(info)
    refset = next((r for r in _refsets(index) if r.id == refset_id), None)
    if refset is None:
        raise NotFound(f"SNOMED CT version {info.version} has no reference set {refset_id}")
    view = ImplicitMap(index, info.version, refset, url, key)
    with _CACHE_LOCK:
        _CACHE[key] = view
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return view


def _refsets(index: CodeSystemIndex) -> list[RefsetRecord]:
    try:
        return index.refsets()
    except sqlite3.OperationalError:  # an index compiled without reference set tables
        return []


def map_refset_urls(registry: Registry) -> list[str]:
    """Implicit map URLs of the map reference sets of the default SNOMED CT release ([] when none is loaded)."""
    try:
        info = registry.resolve(SNOMED_URL)
    except NotFound:
        return []
    return [f"{SNOMED_URL}?fhir_cm={r.id}" for r in _refsets(registry.index(info)) if r.kind.endswith("Map")]
