"""FHIR XML → FHIR JSON (the dicts the JSON parser would give), following the R4 element table.

The parser resolves no entity, reads no DTD and fetches nothing (no XXE, no billion laughs); comments and
processing instructions are dropped. Element names are checked against the definitions: an unknown element,
a foreign namespace or a malformed primitive is an ``XmlReadError`` naming where it is.
"""

from __future__ import annotations

from lxml import etree

from smt.fhir_r4.definitions import NAMESPACE, RESOURCE, XHTML, XHTML_NAMESPACE, Definitions, Slot, r4

_FHIR = f"{{{NAMESPACE}}}"
_XHTML_DIV = f"{{{XHTML_NAMESPACE}}}div"
_INTEGERS = frozenset({"integer", "positiveInt", "unsignedInt"})
_MAX_BYTES = 50 * 1024 * 1024


class XmlReadError(ValueError):
    """The XML is not a FHIR R4 resource; the message says where."""


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           remove_comments=True, remove_pis=True, huge_tree=False)


def _local(element: etree._Element, where: str) -> str:
    tag = element.tag
    if not isinstance(tag, str) or not tag.startswith(_FHIR):
        raise XmlReadError(f"{where}: element {tag!r} is not in the FHIR namespace {NAMESPACE}")
    return tag[len(_FHIR):]


def _primitive_value(text: str, type_code: str, where: str) -> object:
    if type_code == "boolean":
        if text not in ("true", "false"):
            raise XmlReadError(f"{where}: '{text}' is not a boolean")
        return text == "true"
    if type_code in _INTEGERS:
        try:
            return int(text)
        except ValueError:
            raise XmlReadError(f"{where}: '{text}' is not an integer") from None
    if type_code == "decimal":
        try:
            number = float(text)
        except ValueError:
            raise XmlReadError(f"{where}: '{text}' is not a decimal") from None
        return int(text) if text.lstrip("-").isdigit() else number
    return text


class XmlReader:
    """Reads FHIR XML resources into FHIR JSON dicts."""

    def __init__(self, definitions: Definitions | None = None) -> None:
        self.definitions = definitions or r4()

    def read(self, data: bytes) -> dict:
        """The resource of an XML document."""
        if len(data) > _MAX_BYTES:
            raise XmlReadError("the XML document is too large")
        try:
            root = etree.fromstring(data, _parser())
        except etree.XMLSyntaxError as exc:
            raise XmlReadError(f"not well-formed XML: {exc}") from None
        return self._resource(root, "/")

    def _resource(self, element: etree._Element, where: str) -> dict:
        kind = _local(element, where)
        if kind not in self.definitions.resources:
            raise XmlReadError(f"{where}: '{kind}' is not a FHIR R4 resource type")
        resource: dict = {"resourceType": kind}
        self._fill(resource, element, kind, kind)
        return resource

    def _fill(self, target: dict, element: etree._Element, type_name: str, where: str) -> None:
        slots = self.definitions.slots(type_name)
        for name in self.definitions.attributes.get(type_name, ()):
            attribute = element.get(name)
            if attribute is not None:
                target[name] = attribute
        for child in element:
            name = "div" if child.tag == _XHTML_DIV else _local(child, where)
            slot = slots.get(name)
            path = f"{where}.{name}"
            if slot is None or slot.attribute:
                raise XmlReadError(f"{path}: unknown element for {type_name}")
            if slot.primitive:
                self._primitive(target, child, slot, path)
                continue
            if slot.type == RESOURCE:
                inner = list(child)
                if len(inner) != 1:
                    raise XmlReadError(f"{path}: must hold exactly one resource")
                value = self._resource(inner[0], path)
            else:
                value = {}
                self._fill(value, child, slot.type, path)
            if slot.many:
                target.setdefault(name, []).append(value)
            else:
                target[name] = value

    def _primitive(self, target: dict, element: etree._Element, slot: Slot, where: str) -> None:
        name = slot.name
        if slot.type == XHTML:
            if element.tag != _XHTML_DIV:
                raise XmlReadError(f"{where}: the narrative must be an XHTML div")
            target[name] = etree.tostring(element, encoding="unicode", with_tail=False)
            return
        text = element.get("value")
        value = None if text is None else _primitive_value(text, slot.type, where)
        extra: dict = {}
        if element.get("id") is not None:
            extra["id"] = element.get("id")
        if len(element):
            holder: dict = {}
            self._fill(holder, element, "Element", where)
            extra.update({k: v for k, v in holder.items() if k == "extension"})
        if slot.many:
            values = target.setdefault(name, [])
            extras = target.get("_" + name)
            if extra and extras is None:
                extras = target["_" + name] = [None] * len(values)
            values.append(value)
            if extras is not None:
                extras.append(extra or None)
        else:
            if value is not None:
                target[name] = value
            if extra:
                target["_" + name] = extra


def from_xml(data: bytes) -> dict:
    """The FHIR JSON of one FHIR R4 XML resource (``XmlReadError`` when it is not one)."""
    return XmlReader().read(data)
