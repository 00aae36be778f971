"""IHE SVS (Sharing Value Sets) XML: reading ``RetrieveValueSetResponse`` files, writing ITI-48/ITI-60 answers.

Reading keeps every attribute of ``ValueSet`` and ``Concept`` as found (the ANS adds ``typeFichier``,
``urlFichier``, ``dateMaj``, ``shortDesignation``… to the IHE schema); loaders decide what they mean. Parsing
never resolves entities nor reaches the network. Writing follows the IHE schema (``urn:ihe:iti:svs:2008``):
concepts are HL7 v3 ``CD`` elements with ``code``, ``codeSystem`` (an OID), ``codeSystemName``, ``displayName``.
Line numbers are libxml2's: the line on which an element's start tag ends.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree

from smt.errors import LoadError

SVS_NS = "urn:ihe:iti:svs:2008"
XML_NS = "http://www.w3.org/XML/1998/namespace"
SOAP_NS = "http://www.w3.org/2003/05/soap-envelope"
OID = re.compile(r"[0-2](\.(0|[1-9][0-9]*))*")
"""An OID as the SVS schema's ``valueSetIdType`` (and the CDA ``uid``) allow it."""

_ROOTS = {f"{{{SVS_NS}}}RetrieveValueSetResponse": "ValueSet",
          f"{{{SVS_NS}}}RetrieveMultipleValueSetsResponse": "DescribedValueSet"}


def is_oid(text: str) -> bool:
    return bool(OID.fullmatch(text))


# -- reading ------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class SvsConcept:
    """A ``Concept`` element: the CD attributes plus any other attribute the file carries (``attrs``)."""

    code: str
    code_system: str
    display: str
    line: int | None
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class SvsValueSet:
    """A ``ValueSet`` (ITI-48) or ``DescribedValueSet`` (ITI-60) element with its concepts."""

    id: str
    display_name: str
    version: str | None
    line: int | None
    attrs: dict[str, str] = field(default_factory=dict)
    concepts: list[SvsConcept] = field(default_factory=list)
    lang: str | None = None


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True,
                           remove_pis=True)


def parse_xml(data: bytes, where: str) -> etree._Element:
    """The root element of an XML document; a syntax error is a ``LoadError`` naming the line."""
    try:
        return etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise LoadError(f"invalid XML: {exc.msg}", file=where, line=exc.lineno) from exc


def is_svs_root(root: etree._Element) -> bool:
    return root.tag in _ROOTS


def _concept(element: etree._Element, where: str) -> SvsConcept:
    attrs = {str(k): str(v) for k, v in element.attrib.items()}
    if "code" not in attrs:
        raise LoadError("Concept has no code attribute", file=where, line=element.sourceline, field="code")
    return SvsConcept(code=attrs["code"], code_system=attrs.get("codeSystem", ""),
                      display=attrs.get("displayName", ""), line=element.sourceline, attrs=attrs)


def _value_set(element: etree._Element, where: str) -> SvsValueSet:
    attrs = {str(k): str(v) for k, v in element.attrib.items()}
    vs_id = attrs.get("id") or attrs.get("ID")
    if not vs_id:
        raise LoadError(f"{etree.QName(element).localname} has no id attribute", file=where,
                        line=element.sourceline, field="id")
    lists = element.findall(f"{{{SVS_NS}}}ConceptList")
    concepts = [_concept(c, where) for cl in lists for c in cl.findall(f"{{{SVS_NS}}}Concept")]
    lang = next((cl.get(f"{{{XML_NS}}}lang") for cl in lists if cl.get(f"{{{XML_NS}}}lang")), None)
    return SvsValueSet(id=vs_id.strip(), display_name=attrs.get("displayName", ""), version=attrs.get("version"),
                       line=element.sourceline, attrs=attrs, concepts=concepts, lang=lang)


def read_svs(root: etree._Element, where: str) -> list[SvsValueSet]:
    """The value sets of a ``RetrieveValueSetResponse`` or ``RetrieveMultipleValueSetsResponse`` root."""
    child = _ROOTS.get(root.tag)
    if child is None:
        raise LoadError(f"not an IHE SVS document (root element {etree.QName(root).localname!r})", file=where,
                        line=root.sourceline)
    found = [_value_set(e, where) for e in root.findall(f"{{{SVS_NS}}}{child}")]
    if not found:
        raise LoadError(f"no {child} element", file=where, line=root.sourceline)
    return found


def parse_svs(data: bytes, where: str) -> list[SvsValueSet]:
    """Parse an SVS document (see ``read_svs``)."""
    return read_svs(parse_xml(data, where), where)


# -- writing ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutConcept:
    """A concept to write: ``code_system`` is an OID (or ``None`` when the system has none)."""

    code: str
    code_system: str | None
    display: str | None
    code_system_name: str | None = None


@dataclass(slots=True)
class DescribedValueSet:
    """What an ITI-60 ``DescribedValueSet`` says about one value set (dates as ``YYYY-MM-DD``)."""

    id: str
    display_name: str
    version: str | None
    concepts: list[OutConcept]
    lang: str | None = None
    source: str | None = None
    source_uri: str | None = None
    purpose: str | None = None
    definition: str | None = None
    type: str = "Expanded"
    binding: str = "Static"
    status: str | None = None
    effective_date: str | None = None
    expiration_date: str | None = None
    revision_date: str | None = None


def _svs(tag: str) -> str:
    return f"{{{SVS_NS}}}{tag}"


def _concept_list(parent: etree._Element, concepts: Iterable[OutConcept], lang: str | None) -> None:
    concept_list = etree.SubElement(parent, _svs("ConceptList"))
    if lang:
        concept_list.set(f"{{{XML_NS}}}lang", lang)
    for concept in concepts:
        item = etree.SubElement(concept_list, _svs("Concept"), code=concept.code)
        if concept.code_system:
            item.set("codeSystem", concept.code_system)
        if concept.code_system_name:
            item.set("codeSystemName", concept.code_system_name)
        if concept.display:
            item.set("displayName", concept.display)


def _serialise(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def retrieve_value_set_response(vs: DescribedValueSet) -> bytes:
    """An ITI-48 ``RetrieveValueSetResponse`` document."""
    root = etree.Element(_svs("RetrieveValueSetResponse"), nsmap={None: SVS_NS})
    element = etree.SubElement(root, _svs("ValueSet"), id=vs.id, displayName=vs.display_name)
    if vs.version:
        element.set("version", vs.version)
    _concept_list(element, vs.concepts, vs.lang)
    return _serialise(root)


def _text(parent: etree._Element, tag: str, value: str | None) -> None:
    if value:
        etree.SubElement(parent, _svs(tag)).text = value


def retrieve_multiple_value_sets_response(value_sets: Iterable[DescribedValueSet]) -> bytes:
    """An ITI-60 ``RetrieveMultipleValueSetsResponse`` document (one ``DescribedValueSet`` per value set)."""
    root = etree.Element(_svs("RetrieveMultipleValueSetsResponse"), nsmap={None: SVS_NS})
    for vs in value_sets:
        element = etree.SubElement(root, _svs("DescribedValueSet"), ID=vs.id, displayName=vs.display_name)
        if vs.version:
            element.set("version", vs.version)
        _concept_list(element, vs.concepts, vs.lang)
        for tag, value in (("Source", vs.source), ("SourceURI", vs.source_uri), ("Purpose", vs.purpose),
                           ("Definition", vs.definition), ("Type", vs.type), ("Binding", vs.binding),
                           ("Status", vs.status), ("EffectiveDate", vs.effective_date),
                           ("ExpirationDate", vs.expiration_date), ("RevisionDate", vs.revision_date)):
            _text(element, tag, value)
    return _serialise(root)


def fault(reason: str, *, subcode: str | None = None, code: str = "Sender", detail: str | None = None) -> bytes:
    """A SOAP 1.2 fault envelope, as IHE SVS repositories report errors (``subcode`` e.g. ``NAV``)."""
    root = etree.Element(f"{{{SOAP_NS}}}Envelope", nsmap={"env": SOAP_NS, "ihesvs": SVS_NS})
    body = etree.SubElement(root, f"{{{SOAP_NS}}}Body")
    fault_element = etree.SubElement(body, f"{{{SOAP_NS}}}Fault")
    code_element = etree.SubElement(fault_element, f"{{{SOAP_NS}}}Code")
    etree.SubElement(code_element, f"{{{SOAP_NS}}}Value").text = f"env:{code}"
    if subcode:
        sub = etree.SubElement(code_element, f"{{{SOAP_NS}}}Subcode")
        etree.SubElement(sub, f"{{{SOAP_NS}}}Value").text = f"ihesvs:{subcode}"
    reason_element = etree.SubElement(fault_element, f"{{{SOAP_NS}}}Reason")
    text = etree.SubElement(reason_element, f"{{{SOAP_NS}}}Text")
    text.set(f"{{{XML_NS}}}lang", "en")
    text.text = reason
    if detail:
        etree.SubElement(fault_element, f"{{{SOAP_NS}}}Detail").text = detail
    return _serialise(root)
