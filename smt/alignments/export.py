"""Any FHIR ConceptMap → SSSOM (``conceptmap_to_sssom``), the inverse of ``smt.alignments.conceptmap``.

A ConceptMap loaded from SSSOM (it has the ``sssom-curie_map`` extension) gives back its mapping set: the
metadata from its SSSOM extensions (``mapping_set_id``/``mapping_set_version`` from ``url``/``version``), every
row from its targets and their extensions. Any other ConceptMap is described from its FHIR elements: title,
description, ``copyright`` as ``license`` when it is an IRI (else the SSSOM "unspecified" licence),
publisher as ``creator_label``, date as ``publication_date``; rows get ``semapv:UnspecifiedMatching`` unless a
target says otherwise, group versions as ``subject/object_source_version``; ``dependsOn``/``product`` and other
extensions (SNOMED CT map group, rule, advice…) go in ``other`` as one JSON object. Group ``unmapped`` rules
have no SSSOM form and are left out.
"""

from __future__ import annotations

import re

import orjson

from smt.alignments.curies import prefix_for
from smt.alignments.extensions import extension_text, slot_values
from smt.alignments.model import MapRow, map_rows
from smt.alignments.sssom import MULTIVALUED_SLOTS, MappingSet, write_sssom
from smt.alignments.vocab import NO_TERM_FOUND, UNSPECIFIED_JUSTIFICATION, UNSPECIFIED_LICENSE, predicate_for

_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")


def is_sssom_born(resource: dict) -> bool:
    return "curie_map" in slot_values(resource.get("extension", []))


def _scalar(values: list) -> object:
    return values[0] if len(values) == 1 else values


def _metadata(resource: dict) -> dict:
    slots = slot_values(resource.get("extension", []))
    if "curie_map" in slots:
        metadata: dict = {"curie_map": dict(slots.pop("curie_map")[0] or {})}
        metadata["mapping_set_id"] = resource.get("url")
        if resource.get("version"):
            metadata["mapping_set_version"] = resource["version"]
        for slot, values in slots.items():
            metadata[slot] = values if slot in MULTIVALUED_SLOTS else _scalar(values)
        return metadata
    copyright_text = resource.get("copyright")
    metadata = {"curie_map": {}, "mapping_set_id": resource.get("url")}
    for key, value in (
        ("mapping_set_version", resource.get("version")),
        ("mapping_set_title", resource.get("title") or resource.get("name")),
        ("mapping_set_description", resource.get("description")),
        ("license", copyright_text if copyright_text and _IRI.match(copyright_text) else UNSPECIFIED_LICENSE),
        ("creator_label", [resource["publisher"]] if resource.get("publisher") else None),
        ("publication_date", str(resource["date"])[:10] if resource.get("date") else None),
    ):
        if value:
            metadata[key] = value
    return metadata


class _Curies:
    def __init__(self, curie_map: dict[str, str]) -> None:
        self.curie_map = curie_map
        self._prefixes: dict[str, str] = {}

    def curie(self, system: str | None, code: str) -> str:
        if system is None:
            return code
        prefix = self._prefixes.get(system)
        if prefix is None:
            prefix, expansion = prefix_for(system, self.curie_map)
            self.curie_map.setdefault(prefix, expansion)
            self._prefixes[system] = prefix
        return f"{prefix}:{code}"


def _extension_key(url: str) -> str:
    """A short key for an extension in the ``other`` column: ``…/snomed-map-mapGroup`` → ``mapGroup``."""
    return url.rstrip("/").rsplit("/", 1)[-1].removeprefix("snomed-map-") or url


def _row(item: MapRow, curies: _Curies, sssom_born: bool) -> dict[str, str]:
    slots = {slot: "|".join(str(v) for v in values) for slot, values in item.slots.items()}
    row: dict[str, str] = {"subject_id": slots.pop("subject_id", "")
                           or curies.curie(item.source_system, item.source_code)}
    if "subject_label" in slots:
        row["subject_label"] = slots.pop("subject_label")
    elif item.source_display:
        row["subject_label"] = item.source_display
    predicate = slots.pop("predicate_id", None) or predicate_for(item.equivalence)
    if predicate is None:  # disjoint / unmatched from a FHIR-born map
        predicate = "skos:relatedMatch"
        if item.equivalence == "disjoint":
            slots.setdefault("predicate_modifier", "Not")
    row["predicate_id"] = predicate
    if "object_id" in slots:
        row["object_id"] = slots.pop("object_id")
    elif item.target_code is None:
        row["object_id"] = NO_TERM_FOUND
    else:
        row["object_id"] = curies.curie(item.target_system, item.target_code)
    if item.target_display:
        row["object_label"] = item.target_display
    if item.comment and not item.comment_generated:
        row["comment"] = item.comment
    if not sssom_born:
        slots.setdefault("mapping_justification", UNSPECIFIED_JUSTIFICATION)
        if item.source_version:
            slots.setdefault("subject_source_version", item.source_version)
        if item.target_version:
            slots.setdefault("object_source_version", item.target_version)
        extra: dict = {_extension_key(str(e.get("url", ""))): extension_text(e) for e in item.extensions}
        extra.update({k: list(v) for k, v in (("dependsOn", item.depends_on), ("product", item.product)) if v})
        if extra:
            slots.setdefault("other", orjson.dumps(extra).decode())
    row.update(slots)
    return row


def conceptmap_to_mapping_set(resource: dict) -> MappingSet:
    """The SSSOM mapping set of a ConceptMap resource."""
    metadata = _metadata(resource)
    sssom_born = is_sssom_born(resource)
    curies = _Curies(metadata["curie_map"])
    rows = [_row(item, curies, sssom_born) for item in map_rows(resource)]
    return MappingSet(metadata, rows)


def conceptmap_to_sssom(resource: dict) -> str:
    """Any FHIR ConceptMap as SSSOM/TSV text (metadata block + one row per mapping)."""
    return write_sssom(conceptmap_to_mapping_set(resource))
