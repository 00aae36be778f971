"""SNOMED CT implicit concept maps: ``http://snomed.info/sct[/{module}[/version/{date}]]?fhir_cm={refset id}``.

Built on demand from the reference set members of a loaded SNOMED CT release (the index's ``refset_member``
table, see ``smt.index.build``), as FHIR R4 ConceptMaps, so that ``$translate`` reads them like stored maps:

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
from collections import OrderedDict
from urllib.parse import parse_qs

from smt.codesystems.snomed import SNOMED_URL
from smt.errors import NotFound
from smt.index.reader import CodeSystemIndex, RefsetRecord
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


def _target(index: CodeSystemIndex, fields: dict, kind: str, refset: str) -> dict:
    if kind == "Association":
        code = str(fields.get("targetComponentId", ""))
        concept = index.concept(code)
        return {"code": code, **({"display": concept.display} if concept and concept.display else {}),
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


def _build(index: CodeSystemIndex, version: str, refset: RefsetRecord, url: str) -> dict:
    elements: dict[str, list[dict]] = {}
    members = sorted(index.refset_members(refset.id), key=lambda m: (m.referenced, _order(m.fields or {})))
    for member in members:
        elements.setdefault(member.referenced, []).append(_target(index, member.fields or {}, refset.kind, refset.id))
    concept = index.concept(refset.id)
    title = f"SNOMED CT {concept.display if concept and concept.display else refset.id} (implicit map)"
    group: dict = {"source": SNOMED_URL, "sourceVersion": version}
    if refset.kind == "Association":
        group.update(target=SNOMED_URL, targetVersion=version)
    elif refset.id in MAP_TARGET_SYSTEMS:
        group["target"] = MAP_TARGET_SYSTEMS[refset.id]
    group["element"] = [{"code": code, **({"display": c.display} if (c := index.concept(code)) else {}),
                         "target": targets} for code, targets in elements.items()]
    return {"resourceType": "ConceptMap", "url": url, "version": version, "name": f"SnomedImplicitMap{refset.id}",
            "title": title, "status": "active", "group": [group]}


_CACHE: OrderedDict[tuple[str, str], dict] = OrderedDict()
_CACHE_SIZE = 4


def implicit_map(registry: Registry, url: str) -> dict | None:
    """The implicit ConceptMap ``url`` names (None when it is not an implicit SNOMED CT map URL)."""
    parsed = parse_implicit_url(url)
    if parsed is None:
        return None
    version, refset_id = parsed
    info = registry.resolve(SNOMED_URL, version)
    key = (info.id, url)
    if key not in _CACHE:
        index = registry.index(info)
        refset = next((r for r in _refsets(index) if r.id == refset_id), None)
        if refset is None:
            raise NotFound(f"SNOMED CT version {info.version} has no reference set {refset_id}")
        _CACHE[key] = _build(index, info.version, refset, url)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return _CACHE[key]


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
