"""CodeSystem supplements (``content = supplement``): extra designations and properties for a base system.

A supplement applies only when asked for: the ``useSupplement`` parameter or a value set's
``valueset-supplement`` extension. ``apply`` merges it into a copy of the base CodeSystem resource (matching
concepts by code); an unknown supplement is a ``SupplementNotFound`` (an HTTP 404 OperationOutcome).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator

from smt.formats.fhir_json import SUPPLEMENT_SOURCE

VALUESET_SUPPLEMENT = "http://hl7.org/fhir/StructureDefinition/valueset-supplement"


def value_set_supplements(vs: dict) -> list[str]:
    """Canonicals of the supplements a value set requires (``valueset-supplement`` extensions)."""
    return [str(e.get("valueCanonical") or e.get("valueUri")) for e in vs.get("extension", []) or []
            if e.get("url") == VALUESET_SUPPLEMENT and (e.get("valueCanonical") or e.get("valueUri"))]


def is_supplement(resource: dict) -> bool:
    return resource.get("resourceType") == "CodeSystem" and resource.get("content") == "supplement"


def _concepts(concepts: list[dict]) -> Iterator[dict]:
    for concept in concepts:
        yield concept
        yield from _concepts(concept.get("concept", []))


def _canonical(resource: dict) -> str:
    url = str(resource.get("url") or "")
    return f"{url}|{resource['version']}" if resource.get("version") else url


def apply(base: dict, supplements: list[dict]) -> dict:
    """A copy of the ``base`` CodeSystem resource with the supplements' designations, properties and
    concept extensions; each merged designation is marked with the supplement's canonical (its ``source``)."""
    merged = copy.deepcopy(base)
    by_code = {c.get("code"): c for c in _concepts(merged.get("concept", []))}
    declared = {p.get("code") for p in merged.get("property", [])}
    for supplement in supplements:
        for prop in supplement.get("property", []):
            if prop.get("code") not in declared:
                merged.setdefault("property", []).append(prop)
                declared.add(prop.get("code"))
        for extra in _concepts(supplement.get("concept", [])):
            target = by_code.get(extra.get("code"))
            if target is None:
                continue
            target.setdefault("designation", []).extend(
                {**d, SUPPLEMENT_SOURCE: _canonical(supplement)} for d in extra.get("designation", []))
            target.setdefault("property", []).extend(extra.get("property", []))
            target.setdefault("extension", []).extend(extra.get("extension", []))
    return merged
