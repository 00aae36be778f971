"""Scrubbing and sorting of actual responses, ported from ``TxTesterScrubbers`` and ``TxTesterSorters``.

Scrub: drop ``text`` and ``meta`` of the resource and remove every extension whose URL is absolute and not
*managed* (the reference's list, plus every extension URL the expected responses of the suite mention, since
the upstream list grows with the tests). ``ValueSet.compose`` content is left untouched.

Sort: the actual response is put in the order the expected files are written in (parameters by name,
expansion contains by code, issues by severity/code/expression/text …). Like Java's ``Collections.sort``,
the nested lists of an item are only sorted when that item gets compared, i.e. when its list has 2+ items.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cmp_to_key

from .jsonio import Json

REFERENCE_MANAGED_EXTENSIONS = frozenset({
    "http://hl7.org/fhir/StructureDefinition/codesystem-alternate",
    "http://hl7.org/fhir/StructureDefinition/codesystem-conceptOrder",
    "http://hl7.org/fhir/StructureDefinition/codesystem-label",
    "http://hl7.org/fhir/StructureDefinition/coding-sctdescid",
    "http://hl7.org/fhir/StructureDefinition/itemWeight",
    "http://hl7.org/fhir/StructureDefinition/rendering-style",
    "http://hl7.org/fhir/StructureDefinition/rendering-xhtml",
    "http://hl7.org/fhir/StructureDefinition/translation",
    "http://hl7.org/fhir/StructureDefinition/valueset-concept-definition",
    "http://hl7.org/fhir/StructureDefinition/valueset-conceptOrder",
    "http://hl7.org/fhir/StructureDefinition/valueset-deprecated",
    "http://hl7.org/fhir/StructureDefinition/valueset-label",
    "http://hl7.org/fhir/StructureDefinition/valueset-supplement",
    "http://hl7.org/fhir/test/CodeSystem/de-multi",
    "http://hl7.org/fhir/test/CodeSystem/en-multi",
    "http://hl7.org/fhir/test/StructureDefinition/unknown-extension-1",
    "http://hl7.org/fhir/test/StructureDefinition/unknown-extension-3",
    "http://hl7.org/fhir/test/StructureDefinition/unknown-extension-4",
    "http://hl7.org/fhir/test/StructureDefinition/unknown-extension-5",
    "http://hl7.org/fhir/test/ValueSet/extensions-bad-supplement",
    "http://hl7.org/fhir/test/ValueSet/simple-all",
    "http://hl7.org/fhir/test/ValueSet/simple-enumerated",
    "http://hl7.org/fhir/StructureDefinition/alternate-code-use",
    "http://hl7.org/fhir/StructureDefinition/alternate-code-status",
    "http://hl7.org/fhir/test/ValueSet/simple-filter-isa",
})


def extension_urls(document: Json) -> set[str]:
    """Every ``url`` of an object that has an ``extension`` or a ``value[x]`` (i.e. of every extension)."""
    found: set[str] = set()

    def walk(node: Json) -> None:
        if isinstance(node, dict):
            url = node.get("url")
            if isinstance(url, str) and any(k == "extension" or k.startswith("value") for k in node):
                found.add(url)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    return found


# -- scrubbing -----------------------------------------------------------------------------------------
def _absolute(url: str) -> bool:
    return url.startswith(("http:", "https:", "urn:", "ftp:", "file:"))


def scrub(resource: Json, managed: Iterable[str], *, tight: bool = False) -> Json:
    """Scrub a resource in place (and return it)."""
    if not isinstance(resource, dict):
        return resource
    keep = frozenset(managed)

    def kept(ext: Json) -> bool:
        url = ext.get("url") if isinstance(ext, dict) else None
        return tight or not isinstance(url, str) or not _absolute(url) or url in keep

    def walk(node: Json, path: str) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, path)
            return
        if not isinstance(node, dict):
            return
        if isinstance(node.get("extension"), list):
            node["extension"] = [e for e in node["extension"] if kept(e)]
            if not node["extension"]:
                del node["extension"]
        if path == "ValueSet.compose":
            return
        for key, value in node.items():
            if key == "resource" and isinstance(value, dict):
                walk(value, str(value.get("resourceType", "")))
            elif key == "contained":
                for item in value if isinstance(value, list) else []:
                    walk(item, str(item.get("resourceType", "")) if isinstance(item, dict) else "")
            else:
                walk(value, f"{path}.{key.lstrip('_')}")

    resource.pop("meta", None)
    if resource.get("resourceType") != "Parameters":
        resource.pop("text", None)
    walk(resource, str(resource.get("resourceType", "")))
    return resource


# -- sorting helpers -------------------------------------------------------------------------------------
def _cmp(a: str, b: str) -> int:
    return (a > b) - (a < b)


def _sort(items: list, compare: Callable[[Json, Json], int], touch: Callable[[Json], None] | None = None) -> None:
    """Stable sort in place; ``touch`` each item first when Java would compare it (2+ items)."""
    if len(items) < 2:
        return
    if touch:
        for item in items:
            touch(item)
    items.sort(key=cmp_to_key(compare))


def _list(node: Json, key: str) -> list:
    value = node.get(key) if isinstance(node, dict) else None
    return value if isinstance(value, list) else []


def primitive_value(element: Json, prefix: str = "value") -> str | None:
    """The primitive ``value[x]`` of a parameter/extension as text, if any."""
    if not isinstance(element, dict):
        return None
    for key, value in element.items():
        if key.startswith(prefix) and not isinstance(value, dict | list) and value is not None:
            if isinstance(value, bool):
                return "true" if value else "false"
            return str(value)
    return None


def _url(ext: Json) -> str:
    return str(ext.get("url", "")) if isinstance(ext, dict) else ""


def _touch_extension(ext: Json) -> None:
    _sort(_list(ext, "extension"), _extension_cmp, _touch_extension)


def _extension_cmp(a: Json, b: Json) -> int:
    return _cmp(_url(a), _url(b))


def sort_extensions(node: Json) -> None:
    _sort(_list(node, "extension"), _extension_cmp, _touch_extension)


# -- Parameters -----------------------------------------------------------------------------------------
def _part(param: Json, name: str) -> Json:
    for part in _list(param, "part"):
        if isinstance(part, dict) and part.get("name") == name:
            return part
    return None


def _parameter_cmp(a: Json, b: Json) -> int:
    name_a, name_b = str(a.get("name", "")), str(b.get("name", ""))
    if name_a == name_b == "property":
        code_a = (primitive_value(_part(a, "code")) or "").lower()
        code_b = (primitive_value(_part(b, "code")) or "").lower()
        if code_a != code_b:
            return _cmp(code_a, code_b)
        val_a, val_b = primitive_value(_part(a, "value")), primitive_value(_part(b, "value"))
        if val_a is not None and val_b is not None and val_a.lower() != val_b.lower():
            return _cmp(val_a.lower(), val_b.lower())
    if name_a == name_b == "designation":
        lang_a = (primitive_value(_part(a, "language")) or "").lower()
        lang_b = (primitive_value(_part(b, "language")) or "").lower()
        if lang_a != lang_b:
            return _cmp(lang_a, lang_b)
        val_a, val_b = primitive_value(_part(a, "value")), primitive_value(_part(b, "value"))
        if val_a is not None and val_b is not None and val_a.lower() != val_b.lower():
            return _cmp(val_a.lower(), val_b.lower())
    return _cmp(name_a, name_b)


def _touch_parameter(param: Json) -> None:
    sort_extensions(param)
    _sort(_list(param, "part"), _parameter_cmp, _touch_parameter)


def sort_parameters(params: Json) -> None:
    """``TxTesterSorters.sortParameters``."""
    plist = _list(params, "parameter")
    _sort(plist, _parameter_cmp, _touch_parameter)
    for param in plist:
        resource = param.get("resource") if isinstance(param, dict) else None
        if isinstance(resource, dict) and resource.get("resourceType") == "OperationOutcome":
            sort_operation_outcome(resource)
        if isinstance(resource, dict) and resource.get("resourceType") == "Parameters":
            sort_parameters(resource)
        if isinstance(param, dict) and param.get("name") == "message":
            for key, value in list(param.items()):
                if key.startswith("value") and isinstance(value, str) and "; " in value:
                    param[key] = "; ".join(sorted(value.split("; ")))


# -- OperationOutcome ------------------------------------------------------------------------------------
def _issue_key(issue: Json) -> tuple[str, str, str, str]:
    expressions = _list(issue, "expression")
    details = issue.get("details") if isinstance(issue.get("details"), dict) else {}
    return (str(issue.get("severity", "")), str(issue.get("code", "")),
            str(expressions[0]) if expressions else "", str(details.get("text", "")))


def sort_operation_outcome(outcome: Json) -> None:
    _sort(_list(outcome, "issue"), lambda a, b: (_issue_key(a) > _issue_key(b)) - (_issue_key(a) < _issue_key(b)))


# -- ValueSet ---------------------------------------------------------------------------------------------
def _code_cmp(a: Json, b: Json) -> int:
    return _cmp(str(a.get("code", "")), str(b.get("code", "")))


def _designation_cmp(a: Json, b: Json) -> int:
    if "language" in a and "language" in b:
        return _cmp(str(a["language"]), str(b["language"]))
    return _cmp(str(a.get("value", "")), str(b.get("value", "")))


def _property_defn_cmp(a: Json, b: Json) -> int:
    uri_a, uri_b = a.get("uri"), b.get("uri")
    if uri_a is None or uri_b is None:
        result = 0 if uri_a is None and uri_b is None else (-1 if uri_a is None else 1)
    else:
        result = _cmp(str(uri_a), str(uri_b))
    return result or _code_cmp(a, b)


def _exp_parameter_cmp(a: Json, b: Json) -> int:
    return (_cmp(str(a.get("name", "")), str(b.get("name", "")))
            or _cmp(primitive_value(a) or "", primitive_value(b) or ""))


def _sort_contains(contains: Json) -> None:
    _sort(_list(contains, "contains"), _code_cmp)
    sort_extensions(contains)
    _sort(_list(contains, "designation"), _designation_cmp)
    _sort(_list(contains, "property"), _code_cmp)
    for child in _list(contains, "contains"):
        _sort_contains(child)


def sort_value_set(vs: Json) -> None:
    """``TxTesterSorters.sortValueSet``."""
    sort_extensions(vs)
    expansion = vs.get("expansion")
    if not isinstance(expansion, dict):
        return
    _sort(_list(expansion, "parameter"), _exp_parameter_cmp, sort_extensions)
    _sort(_list(expansion, "property"), _property_defn_cmp)
    sort_extensions(expansion)
    _sort(_list(expansion, "contains"), _code_cmp)
    for contains in _list(expansion, "contains"):
        _sort_contains(contains)


# -- CapabilityStatement / TerminologyCapabilities --------------------------------------------------------
def _by(key: str) -> Callable[[Json, Json], int]:
    return lambda a, b: _cmp(str(a.get(key, "")) if isinstance(a, dict) else str(a),
                             str(b.get(key, "")) if isinstance(b, dict) else str(b))


def _first_coding_key(cc: Json) -> str:
    codings = _list(cc, "coding")
    if codings:
        return f"{codings[0].get('system', '')}\x00{codings[0].get('code', '')}"
    return str(cc.get("text", ""))


def sort_capability_statement(cs: Json) -> None:
    """``TxTesterSorters.sortCapStmt``."""
    for key in ("format", "instantiates", "imports", "acceptLanguage"):
        _sort(_list(cs, key), _by(""))
    rests = _list(cs, "rest")
    _sort(rests, _by("mode"))
    for rest in rests:
        security = rest.get("security")
        if isinstance(security, dict):
            for cc in _list(security, "service"):
                _sort(_list(cc, "coding"), lambda a, b: _cmp(f"{a.get('system', '')}\x00{a.get('code', '')}",
                                                             f"{b.get('system', '')}\x00{b.get('code', '')}"))
            _sort(_list(security, "service"), lambda a, b: _cmp(_first_coding_key(a), _first_coding_key(b)))
        _sort(_list(rest, "resource"), _by("type"))
        for res in _list(rest, "resource"):
            _sort(_list(res, "supportedProfile"), _by(""))
            _sort(_list(res, "interaction"), _by("code"))
            _sort(_list(res, "searchInclude"), _by(""))
            _sort(_list(res, "searchRevInclude"), _by(""))
            _sort(_list(res, "searchParam"), _by("name"))
            _sort(_list(res, "operation"), _by("name"))
        _sort(_list(rest, "interaction"), _by("code"))
        _sort(_list(rest, "searchParam"), _by("name"))
        _sort(_list(rest, "operation"), _by("name"))
        _sort(_list(rest, "compartment"), _by(""))


def sort_terminology_capabilities(tc: Json) -> None:
    """``TxTesterSorters.sortTermCaps``."""
    systems = _list(tc, "codeSystem")
    _sort(systems, _by("uri"))
    for system in systems:
        _sort(_list(system, "version"), _by("code"))
        for version in _list(system, "version"):
            _sort(_list(version, "language"), _by(""))
            _sort(_list(version, "property"), _by(""))
            _sort(_list(version, "filter"), _by("code"))
    expansion = tc.get("expansion")
    if isinstance(expansion, dict):
        _sort(_list(expansion, "parameter"), _by("name"))


def normalize(resource: Json, managed: Iterable[str], *, tight: bool = False) -> Json:
    """Scrub then sort, by resource type, as the runner does for a successful response."""
    scrub(resource, managed, tight=tight)
    kind = resource.get("resourceType") if isinstance(resource, dict) else None
    if kind == "Parameters":
        sort_parameters(resource)
    elif kind == "ValueSet":
        sort_value_set(resource)
    elif kind == "CapabilityStatement":
        sort_capability_statement(resource)
    elif kind == "TerminologyCapabilities":
        sort_terminology_capabilities(resource)
    return resource


# -- expected files ------------------------------------------------------------------------------------
DEPRECATED_ISSUE_ELEMENTS = ("location",)
"""``OperationOutcome.issue`` elements an expected file may list or leave out: ``location`` is deprecated (R4
operationoutcome-definitions.html#OperationOutcome.issue.location: "XML specific … replaced by
issue.expression"), the reference server never populates it (FHIRsmith ``tx/library/operation-outcome.js``
``Issue.asIssue`` writes ``expression`` only) and the test author ruled that not populating it is correct;
the files written since then mark it ``"$optional-properties$": ["location"]`` on each issue, the older ones
still list it and the newest omit it. Reading every expected issue with that marker is what lets one server
answer them all the same way (see docs/conformance.md, "Reference-runner fidelity")."""


def deprecated_elements_optional(expected: Json) -> Json:
    """Mark ``DEPRECATED_ISSUE_ELEMENTS`` optional on every issue of every OperationOutcome in an expected file."""
    if isinstance(expected, dict):
        if expected.get("resourceType") == "OperationOutcome":
            for issue in expected.get("issue") or []:
                if isinstance(issue, dict):
                    listed = issue.setdefault("$optional-properties$", [])
                    listed.extend(n for n in DEPRECATED_ISSUE_ELEMENTS if n not in listed)
        for value in expected.values():
            deprecated_elements_optional(value)
    elif isinstance(expected, list):
        for value in expected:
            deprecated_elements_optional(value)
    return expected
