"""FHIR JSON (as decoded by orjson) → FHIR XML, following the R4 element table.

The rules are those of the FHIR XML format (R4 ``xml.html``): elements in StructureDefinition order, primitives
as a ``value`` attribute with their ``_name`` id and extensions folded in, ``id`` of elements and
``Extension.url`` as attributes, resources wrapped in an element named by their type inside ``contained``,
``Bundle.entry.resource`` or ``Parameters.parameter.resource``, the narrative ``div`` as XHTML. A JSON
property the definitions do not know (an R5 element, a typo) has no place in valid R4 XML and is left out.
"""

from __future__ import annotations

import re
from functools import cache
from operator import attrgetter

from lxml import etree

from smt.fhir_r4.definitions import NAMESPACE, RESOURCE, XHTML, XHTML_NAMESPACE, Definitions, Slot, r4

_NEEDS_ESCAPE = re.compile(r'[&<>"\x00-\x1f\ud800-\udfff\ufffe\uffff]')
_ATTRIBUTE_ESCAPES: dict[int, str | None] = {code: None for code in range(0x20)}  # not allowed in XML 1.0
_ATTRIBUTE_ESCAPES.update({ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord('"'): "&quot;",
                           ord("\n"): "&#10;", ord("\r"): "&#13;", ord("\t"): "&#9;"})
_ATTRIBUTE_ESCAPES.update({code: None for code in (*range(0xD800, 0xE000), 0xFFFE, 0xFFFF)})
_BY_INDEX = attrgetter("index")
_MAX_PLANS = 4096
_DIV_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


class XmlWriteError(ValueError):
    """The JSON cannot be written as FHIR XML (not a resource, or a resource type R4 does not define)."""


def attribute_text(value: object) -> str:
    """A JSON primitive as the text of an XML attribute (escaped; characters XML 1.0 forbids dropped)."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    text = value if isinstance(value, str) else str(value)
    return text.translate(_ATTRIBUTE_ESCAPES) if _NEEDS_ESCAPE.search(text) else text


def _xhtml(value: object) -> str:
    """The narrative ``div``: the XHTML as given when it is well-formed XHTML, else its text escaped."""
    text = value if isinstance(value, str) else ""
    try:
        element = etree.fromstring(text.encode(), _DIV_PARSER)
    except (etree.XMLSyntaxError, ValueError):
        element = None
    if element is not None and element.tag == f"{{{XHTML_NAMESPACE}}}div":
        return etree.tostring(element, encoding="unicode")
    escaped = text.translate(_ATTRIBUTE_ESCAPES) if _NEEDS_ESCAPE.search(text) else text
    return f'<div xmlns="{XHTML_NAMESPACE}">{escaped}</div>'


class XmlWriter:
    """Writes FHIR resources (JSON dicts) as FHIR XML text."""

    def __init__(self, definitions: Definitions | None = None) -> None:
        self.definitions = definitions or r4()
        self._types = self.definitions.types
        self._attributes = self.definitions.attributes
        self._plans: dict[tuple[str, tuple[str, ...]], tuple[Slot, ...]] = {}

    def write(self, resource: dict) -> bytes:
        """The UTF-8 XML document of one resource."""
        out = ['<?xml version="1.0" encoding="UTF-8"?>']
        self._resource(out, resource)
        return "".join(out).encode()

    def _resource(self, out: list[str], resource: object) -> None:
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        if not isinstance(kind, str) or kind not in self.definitions.resources:
            raise XmlWriteError(f"not a FHIR R4 resource: resourceType {kind!r}")
        out.append(f'<{kind} xmlns="{NAMESPACE}">')
        self._children(out, resource, kind)  # type: ignore[arg-type]  # a dict: it has a resourceType
        out.append(f"</{kind}>")

    def _children(self, out: list[str], obj: dict, type_name: str) -> None:
        keys = tuple(obj)
        plan = self._plans.get((type_name, keys))
        if plan is None:
            plan = self._plans[(type_name, keys)] = self._plan(type_name, keys)
        for slot in plan:
            name = slot.name
            if slot.primitive:
                value = obj.get(name)
                if (value.__class__ is str and slot.type != XHTML and not _NEEDS_ESCAPE.search(value)
                        and ("_" + name) not in obj):
                    out.append(f'<{name} value="{value}"/>')  # the common case, inlined
                else:
                    self._primitives(out, slot, value, obj.get("_" + name))
            else:
                self._element(out, slot, obj.get(name))

    def _plan(self, type_name: str, keys: tuple[str, ...]) -> tuple[Slot, ...]:
        """The slots to write for an object with these keys, in element order (cached per key tuple)."""
        if len(self._plans) > _MAX_PLANS:
            self._plans.clear()
        slots = self._types[type_name]
        present: dict[str, Slot] = {}
        for key in keys:
            name = key[1:] if key[:1] == "_" else key
            slot = slots.get(name)
            if slot is not None and not slot.attribute:
                present[name] = slot
        return tuple(sorted(present.values(), key=_BY_INDEX))

    def _primitives(self, out: list[str], slot: Slot, value: object, extra: object) -> None:
        """A primitive element, or each of a repeating one (values and ``_name`` entries paired by position)."""
        if isinstance(value, list) or isinstance(extra, list):
            values = value if isinstance(value, list) else []
            extras = extra if isinstance(extra, list) else []
            for i in range(max(len(values), len(extras))):
                self._primitive(out, slot, values[i] if i < len(values) else None,
                                extras[i] if i < len(extras) else None)
        else:
            self._primitive(out, slot, value, extra)

    def _element(self, out: list[str], slot: Slot, value: object) -> None:
        """A complex element or resource, or each of a repeating one."""
        name = slot.name
        for item in value if isinstance(value, list) else (value,):
            if not isinstance(item, dict):
                continue
            if slot.type == RESOURCE:
                out.append(f"<{name}>")
                self._resource(out, item)
                out.append(f"</{name}>")
            else:
                self._complex(out, name, item, slot.type)

    def _primitive(self, out: list[str], slot: Slot, value: object, extra: object) -> None:
        if slot.type == XHTML:
            if value is not None:
                out.append(_xhtml(value))
            return
        extra = extra if isinstance(extra, dict) else None
        head = slot.name
        if extra and extra.get("id") is not None:
            head += f' id="{attribute_text(extra["id"])}"'
        if value is not None:
            head += f' value="{attribute_text(value)}"'
        extensions = extra.get("extension") if extra else None
        if extensions:
            out.append(f"<{head}>")
            self._element(out, self._types["Element"]["extension"], extensions)
            out.append(f"</{slot.name}>")
        elif value is not None or extra:
            out.append(f"<{head}/>")

    def _complex(self, out: list[str], tag: str, obj: dict, type_name: str) -> None:
        head = tag
        for attribute in self._attributes[type_name]:
            if obj.get(attribute) is not None:
                head += f' {attribute}="{attribute_text(obj[attribute])}"'
        start = len(out)
        out.append(f"<{head}>")
        self._children(out, obj, type_name)
        if len(out) == start + 1:
            out[start] = f"<{head}/>"
        else:
            out.append(f"</{tag}>")


@cache
def r4_writer() -> XmlWriter:
    """The writer of FHIR R4 XML (its element plans are kept between answers)."""
    return XmlWriter()


def to_xml(resource: dict) -> bytes:
    """One FHIR R4 resource as an XML document (``XmlWriteError`` when it is not an R4 resource)."""
    return r4_writer().write(resource)
