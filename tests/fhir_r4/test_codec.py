"""FHIR XML writer and reader (``smt.fhir_r4``): the XML format's rules, checked against the R4 schema."""

from __future__ import annotations

import orjson
import pytest
from lxml import etree

from smt.config import data_dir
from smt.fhir_r4.definitions import r4
from smt.fhir_r4.xml_reader import XmlReadError, from_xml
from smt.fhir_r4.xml_writer import XmlWriteError, to_xml
from tests.fhir_xml_schema import assert_valid_fhir_xml, fhir_schema, generated_schema_text

NS = "{http://hl7.org/fhir}"

VALUE_SET = {
    "resourceType": "ValueSet", "id": "j19", "language": "fr",
    "text": {"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml"><p>Mode &amp; prise</p></div>'},
    "contained": [{"resourceType": "CodeSystem", "id": "cs", "status": "draft", "content": "complete",
                   "concept": [{"code": "a", "display": "A"}]}],
    "extension": [{"url": "http://example.org/ext", "valueCoding": {"system": "http://s", "code": "c"}}],
    "url": "http://example.org/vs", "identifier": [{"system": "urn:ietf:rfc:3986", "value": "urn:oid:1.2.3"}],
    "version": "1", "name": "Test", "status": "active", "experimental": False,
    "description": "Ligne 1\nLigne 2 <b> & \"guillemets\"",
    "compose": {"include": [{"system": "http://s", "concept": [{"code": "c", "display": "Cé"}]}]},
    "expansion": {
        "identifier": "urn:uuid:5b0e7c1e-8f3a-4c55-9b44-2b61f1f0d6a1", "timestamp": "2024-05-01T10:00:00Z",
        "total": 2, "offset": 0,
        "parameter": [{"name": "count", "valueInteger": 10}, {"name": "activeOnly", "valueBoolean": True}],
        "contains": [
            {"system": "http://s", "abstract": True, "code": "p", "display": "Parent", "_display": {
                "id": "d1", "extension": [{"url": "http://example.org/x", "valueString": "trad"}]},
             "contains": [{"system": "http://s", "code": "c", "display": "Enfant"}]},
        ]},
}


def test_written_xml_is_valid_r4_and_reads_back_to_the_same_json() -> None:
    xml = to_xml(VALUE_SET)
    document = assert_valid_fhir_xml(xml)
    assert document.tag == f"{NS}ValueSet" and document.nsmap[None] == "http://hl7.org/fhir"
    assert from_xml(xml) == VALUE_SET


def test_element_order_attributes_and_primitive_extensions_follow_the_xml_rules() -> None:
    document = assert_valid_fhir_xml(to_xml(VALUE_SET))
    names = [child.tag.removeprefix(NS) for child in document]
    assert names[:7] == ["id", "language", "text", "contained", "extension", "url", "identifier"]
    assert document.find(f"{NS}extension").get("url") == "http://example.org/ext"  # Extension.url: attribute
    assert document.find(f"{NS}contained/{NS}CodeSystem/{NS}id").get("value") == "cs"  # resource wrapped
    display = document.find(f"{NS}expansion/{NS}contains/{NS}display")
    assert display.get("value") == "Parent" and display.get("id") == "d1"
    assert display.find(f"{NS}extension/{NS}valueString").get("value") == "trad"
    assert document.find(f"{NS}description").get("value") == VALUE_SET["description"]  # newlines kept
    assert document.find(f"{NS}text/{{http://www.w3.org/1999/xhtml}}div") is not None


def test_repeating_primitives_keep_their_extensions_by_position() -> None:
    resource = {"resourceType": "CodeSystem", "status": "active", "content": "complete",
                "concept": [{"code": "a", "designation": [{"value": "x"}]}],
                "useContext": [], "filter": [{"code": "f", "operator": ["=", "is-a"],
                                              "_operator": [None, {"id": "op2"}], "value": "v"}]}
    xml = to_xml(resource)
    assert_valid_fhir_xml(xml)
    back = from_xml(xml)
    assert back["filter"] == resource["filter"]


def test_elements_r4_does_not_define_are_left_out_and_non_resources_refused() -> None:
    resource = {"resourceType": "Parameters", "parameter": [
        {"name": "x", "valueString": "y", "unknownR5Element": 1}], "$optional$": True}
    xml = to_xml(resource)
    assert_valid_fhir_xml(xml)
    assert from_xml(xml) == {"resourceType": "Parameters", "parameter": [{"name": "x", "valueString": "y"}]}
    with pytest.raises(XmlWriteError):
        to_xml({"releases": []})
    with pytest.raises(XmlWriteError):
        to_xml({"resourceType": "NotAType"})


@pytest.mark.parametrize(("xml", "message"), [
    (b"<Parameters/>", "not in the FHIR namespace"),
    (b'<Parameters xmlns="http://hl7.org/fhir"><oops value="1"/></Parameters>', "unknown element"),
    (b'<Patientt xmlns="http://hl7.org/fhir"/>', "not a FHIR R4 resource type"),
    (b'<Parameters xmlns="http://hl7.org/fhir"><parameter><name value="a"/><valueBoolean value="yes"/>'
     b"</parameter></Parameters>", "not a boolean"),
    (b"<Parameters", "not well-formed"),
])
def test_reader_names_what_is_wrong(xml: bytes, message: str) -> None:
    with pytest.raises(XmlReadError, match=message):
        from_xml(xml)


def test_reader_resolves_no_entity_and_reads_no_external_file() -> None:
    xxe = (b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
           b'<Parameters xmlns="http://hl7.org/fhir"><parameter><name value="&e;"/></parameter></Parameters>')
    try:
        read = from_xml(xxe)
    except XmlReadError:
        return
    assert "root:" not in orjson.dumps(read).decode()


def test_hl7_suite_resources_round_trip(shared_data: object) -> None:
    """Every resource of the HL7 terminology test suite that the R4 schema accepts reads back identically."""
    folder = data_dir() / "fhir-tx-tests"
    checked = 0
    for path in sorted(folder.rglob("*.json")):
        try:
            resource = orjson.loads(path.read_bytes())
        except orjson.JSONDecodeError:
            continue
        if not isinstance(resource, dict) or resource.get("resourceType") not in r4().resources:
            continue
        xml = to_xml(resource)
        if not fhir_schema().validate(etree.fromstring(xml)):
            continue  # the suite's templates ($id$, $instant$…) and R5-only content
        assert orjson.dumps(from_xml(xml), option=orjson.OPT_SORT_KEYS) == orjson.dumps(
            from_xml(to_xml(from_xml(xml))), option=orjson.OPT_SORT_KEYS), path
        checked += 1
    assert checked > 1000


def test_generated_schema_checks_order_primitives_and_resource_types() -> None:
    """The fallback schema (no official XSD on this machine) still refuses what the R4 XSD refuses."""
    schema = etree.XMLSchema(etree.fromstring(generated_schema_text().encode()))
    ok = b'<Parameters xmlns="http://hl7.org/fhir"><parameter><name value="a"/><valueBoolean value="true"/>' \
         b"</parameter></Parameters>"
    assert schema.validate(etree.fromstring(ok))
    for bad in (ok.replace(b'<name value="a"/><valueBoolean value="true"/>',
                           b'<valueBoolean value="true"/><name value="a"/>'),  # order
                ok.replace(b'"true"', b'"yes"'),  # boolean pattern
                ok.replace(b"Parameters", b"Patientt")):  # unknown resource
        assert not schema.validate(etree.fromstring(bad))
