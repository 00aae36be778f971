"""Validate FHIR XML answers against the FHIR R4 XML schema.

The official R4 schema (``fhir-single.xsd`` 4.0.1 with ``fhir-xhtml.xsd``, ``xml.xsd`` and
``xmldsig-core-schema.xsd`` beside it) is used when ``SMT_FHIR_XSD`` names it, or when it is under
``$SMT_DATA_DIR/fhir-r4-xsd/``. No package registry this project reaches ships it, so otherwise the schema is
generated here from the R4 StructureDefinitions (the element table ``smt/fhir_r4/r4_elements.json.gz``, built
from ``hl7.fhir.r4.core`` 4.0.1) the way the FHIR build generates ``fhir-single.xsd``: one complex type per data
type, resource and backbone element, children in a sequence in definition order with their cardinalities,
choice elements as an ``xs:choice``, resources wrapped in a container of every resource type, primitives with an
``id`` and a ``value`` attribute restricted by the type's regex, the narrative ``div`` in the XHTML namespace.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from xml.sax.saxutils import quoteattr

from lxml import etree

from smt.config import data_dir
from smt.fhir_r4.definitions import NAMESPACE, RESOURCE, XHTML, XHTML_NAMESPACE, r4

XS = "http://www.w3.org/2001/XMLSchema"


def official_schema_path() -> Path | None:
    """The official ``fhir-single.xsd`` (R4) if this machine has it."""
    given = os.environ.get("SMT_FHIR_XSD")
    candidates = [Path(given)] if given else []
    candidates.append(data_dir() / "fhir-r4-xsd" / "fhir-single.xsd")
    return next((path for path in candidates if path.is_file()), None)


def _type_ref(code: str) -> str:
    return "ResourceContainer" if code == RESOURCE else code


def _particle(name: str, code: str, minimum: int, many: bool) -> str:
    occurs = f'minOccurs="{minimum}" maxOccurs="{"unbounded" if many else 1}"'
    if code == XHTML:
        return f'<xs:any namespace="{XHTML_NAMESPACE}" processContents="lax" {occurs}/>'
    return f'<xs:element name="{name}" type="{_type_ref(code)}" {occurs}/>'


def generated_schema_text() -> str:
    """An XSD 1.0 for FHIR R4 generated from the StructureDefinition element table."""
    table = r4().table
    patterns: dict[str, str] = table["patterns"]
    out = [f'<xs:schema xmlns:xs="{XS}" xmlns="{NAMESPACE}" targetNamespace="{NAMESPACE}" '
           'elementFormDefault="qualified">']
    for primitive in table["primitives"]:
        restriction = (f"<xs:pattern value={quoteattr(patterns[primitive])}/>" if primitive in patterns else "")
        out.append(f'<xs:simpleType name="{primitive}-primitive"><xs:restriction base="xs:string">'
                   f'<xs:minLength value="1"/>{restriction}</xs:restriction></xs:simpleType>')
    for type_name, elements in table["types"].items():
        particles, attributes = [], []
        for name, codes, minimum, many, attribute, _summary in elements:
            if attribute:
                attributes.append(f'<xs:attribute name="{name}" type="xs:string"/>')
            elif name.endswith("[x]"):
                base = name[:-3]
                options = "".join(f'<xs:element name="{base}{c[0].upper()}{c[1:]}" type="{_type_ref(c)}"/>'
                                  for c in codes)
                occurs = f'minOccurs="{minimum}" maxOccurs="{"unbounded" if many else 1}"'
                particles.append(f"<xs:choice {occurs}>{options}</xs:choice>")
            elif codes:
                particles.append(_particle(name, codes[0], minimum, many))
        if type_name in table["primitives"]:
            attributes.append(f'<xs:attribute name="value" type="{type_name}-primitive"/>')
        out.append(f'<xs:complexType name="{type_name}"><xs:sequence>{"".join(particles)}</xs:sequence>'
                   f'{"".join(attributes)}</xs:complexType>')
    resources = "".join(f'<xs:element name="{r}" type="{r}"/>' for r in table["resources"])
    out.append(f'<xs:complexType name="ResourceContainer"><xs:choice>{resources}</xs:choice></xs:complexType>')
    out.append(resources)
    out.append("</xs:schema>")
    return "".join(out)


@cache
def fhir_schema() -> etree.XMLSchema:
    """The official R4 schema when available, else the one generated from the StructureDefinitions."""
    path = official_schema_path()
    if path is not None:
        return etree.XMLSchema(etree.parse(str(path)))
    return etree.XMLSchema(etree.fromstring(generated_schema_text().encode()))


def assert_valid_fhir_xml(body: bytes) -> etree._Element:
    """Parse ``body`` and validate it against the FHIR R4 schema; fails the test with the schema's errors."""
    document = etree.fromstring(body)
    schema = fhir_schema()
    if not schema.validate(document):
        errors = "; ".join(f"line {e.line}: {e.message}" for e in list(schema.error_log)[:5])
        raise AssertionError(f"FHIR XML not valid against the R4 schema: {errors}")
    return document
