"""The FHIR R4 element table (``r4_elements.json.gz``, built by ``smt.fhir_r4.generate`` from the official
StructureDefinitions) as lookup structures for the XML writer and reader.

For each type (a resource, a data type or a backbone element such as ``ValueSet.expansion.contains``),
``Slot``s are keyed by their JSON property name: a choice element ``value[x]`` gives one slot per type
(``valueString``, ``valueCoding``…), whose name is also its XML element name.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import orjson

TABLE = Path(__file__).with_name("r4_elements.json.gz")
NAMESPACE = "http://hl7.org/fhir"
XHTML_NAMESPACE = "http://www.w3.org/1999/xhtml"
RESOURCE = "Resource"
"""The type code of an element that holds a whole resource (``contained``, ``Bundle.entry.resource``…)."""
XHTML = "xhtml"


@dataclass(frozen=True, slots=True)
class Slot:
    """One child element of a type, for one of its types."""

    index: int
    """Position in the StructureDefinition: XML writes children in this order."""
    name: str
    """JSON property and XML element name (``valueCoding`` for a choice)."""
    type: str
    """Type code, or the path of a backbone element (``ValueSet.expansion.contains``)."""
    many: bool
    attribute: bool
    """Written as an XML attribute (``id`` of elements, ``Extension.url``)."""
    primitive: bool
    required: bool
    """Minimum cardinality 1: "mandatory" for ``_elements`` and ``_summary``."""
    summary: bool
    """Part of the summary view (``isSummary``; ``_summary=true``)."""


class Definitions:
    """Slots by type and JSON name, primitive types and resource types of one FHIR version."""

    def __init__(self, table: dict) -> None:
        self.table = table
        """The element table as ``smt.fhir_r4.generate`` wrote it."""
        self.package: str = table["package"]
        self.primitives: frozenset[str] = frozenset(table["primitives"])
        self.resources: frozenset[str] = frozenset(table["resources"])
        self.types: dict[str, dict[str, Slot]] = {}
        self.attributes: dict[str, tuple[str, ...]] = {}
        """Per type, the names of the children XML writes as attributes."""
        for type_name, elements in table["types"].items():
            slots: dict[str, Slot] = {}
            for index, (name, codes, minimum, many, attribute, summary) in enumerate(elements):
                if name.endswith("[x]"):
                    base = name[:-3]
                    for code in codes:
                        choice = base + code[0].upper() + code[1:]
                        slots[choice] = Slot(index, choice, code, many, attribute, code in self.primitives,
                                             minimum > 0, summary)
                elif codes:
                    code = codes[0]
                    slots[name] = Slot(index, name, code, many, attribute, code in self.primitives, minimum > 0,
                                       summary)
            self.types[type_name] = slots
            self.attributes[type_name] = tuple(name for name, slot in slots.items() if slot.attribute)

    def slots(self, type_name: str) -> dict[str, Slot]:
        """The child slots of a type (empty for an unknown one)."""
        return self.types.get(type_name, {})


@cache
def r4() -> Definitions:
    """The FHIR R4 (4.0.1) definitions, read once."""
    return Definitions(orjson.loads(gzip.decompress(TABLE.read_bytes())))
