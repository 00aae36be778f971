"""SSSOM slots carried by FHIR ConceptMaps as extensions (see ``docs/alignments.md``).

Every SSSOM slot that has no native FHIR element is an extension whose URL is ``EXT_BASE + <slot name>``
(e.g. ``…/StructureDefinition/sssom-mapping_justification``): on a ``target`` for a mapping slot, on the
ConceptMap for a mapping-set slot. Values are ``valueString`` (the SSSOM text), ``valueDecimal`` for
``confidence``-like numbers whose text a float reproduces, ``valueDate`` for ``YYYY-MM-DD`` dates; a
multi-valued slot repeats its extension; a structured set-level value (``curie_map``,
``extension_definitions``) is a complex extension with one ``json`` sub-extension.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import orjson

EXT_BASE = "https://smt.esante.gouv.fr/fhir/StructureDefinition/sssom-"
GENERATED_COMMENT = "https://smt.esante.gouv.fr/fhir/StructureDefinition/conceptmap-generated-comment"
"""A ``target`` extension (valueBoolean true) marking a ``comment`` SMT wrote only because FHIR R4 requires
one for ``narrower``/``inexact`` (invariant cmd-1): it is not exported to SSSOM."""

DECIMAL_SLOTS = frozenset({"confidence", "similarity_score", "reviewer_agreement"})
DATE_SLOTS = frozenset({"mapping_date", "publication_date", "review_date"})
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def slot_url(slot: str) -> str:
    return EXT_BASE + slot


def slot_of(url: str) -> str | None:
    """The SSSOM slot an extension URL carries, None for other extensions."""
    return url.removeprefix(EXT_BASE) if url.startswith(EXT_BASE) else None


def slot_extension(slot: str, value: str) -> dict:
    """One extension carrying one text value of ``slot``."""
    if slot in DECIMAL_SLOTS:
        try:
            number = float(value)
        except ValueError:
            number = None
        if number is not None and repr(number) == value:
            return {"url": slot_url(slot), "valueDecimal": number}
    if slot in DATE_SLOTS and _DATE.fullmatch(value):
        return {"url": slot_url(slot), "valueDate": value}
    return {"url": slot_url(slot), "valueString": value}


def structured_extension(slot: str, value: object) -> dict:
    """A set-level value that is not text (a dict, a list of dicts…): JSON in a ``json`` sub-extension."""
    return {"url": slot_url(slot), "extension": [{"url": "json", "valueString": orjson.dumps(value).decode()}]}


def extension_text(extension: dict) -> str | None:
    """The SSSOM text of a value extension."""
    if "valueDecimal" in extension:
        return repr(float(extension["valueDecimal"]))
    for key, value in extension.items():
        if key.startswith("value") and isinstance(value, str | int | bool):
            return str(value)
    return None


def extension_value(extension: dict) -> object:
    """The value of an SSSOM extension: text, or the decoded JSON of a structured one."""
    for sub in extension.get("extension", []):
        if sub.get("url") == "json":
            return orjson.loads(sub["valueString"])
    return extension_text(extension)


def slot_values(extensions: Iterable[dict]) -> dict[str, list]:
    """SSSOM slot → its values, in order, from a list of extensions (other extensions ignored)."""
    found: dict[str, list] = {}
    for extension in extensions:
        slot = slot_of(str(extension.get("url", "")))
        if slot:
            found.setdefault(slot, []).append(extension_value(extension))
    return found


def has_generated_comment(target: dict) -> bool:
    return any(e.get("url") == GENERATED_COMMENT and e.get("valueBoolean") for e in target.get("extension", []))
