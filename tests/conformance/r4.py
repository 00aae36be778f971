"""R5 ⇄ R4 conversion of the JSON the tests exchange, limited to what the test data needs.

The test files are R5; against an R4 server the reference runner converts every request (and its
``tx-resource`` resources) to R4 and every response back to R5 (``VersionConvertor_40_50``). Differences that
matter here:

* R5-only elements go into the cross-version extensions ``http://hl7.org/fhir/5.0/StructureDefinition/
  extension-<Path>`` (``versionAlgorithm[x]``, ``copyrightLabel``, ``ValueSet.compose.property``,
  designation ``additionalUse``); the filter operators ``child-of``/``descendent-leaf`` are sent as the
  nearest R4 operator (``is-a``/``descendent-of``, which the expected compose echoes show) with the exact R5
  code in an ``_op`` extension;
  R5 ``CodeSystem.filter.operator`` codes unknown to R4 are dropped;
* JSON language variants (``"title:de"``) are not FHIR elements and are dropped;
* ``ConceptMap``: ``*ScopeUri/Canonical`` → ``sourceUri``/``targetUri``…, ``relationship`` → ``equivalence``,
  ``dependsOn.attribute`` → ``property``, ``unmapped.mode`` ``use-source-code`` → ``provided``;
* back to R5: the ``expansion.property`` and ``contains.property`` extensions become elements, as does the
  TerminologyCapabilities ``content`` extension; an echoed ``_op`` extension is dropped (the op stays R4).

``r4_parse_errors`` lists R5-only elements found in an R4 response: the reference's R4 parser rejects
unknown elements, so the test fails there as well.
"""

from __future__ import annotations

import copy

from .jsonio import Json

XV = "http://hl7.org/fhir/5.0/StructureDefinition/extension-"
R4_FILTER_OPS = frozenset({"=", "is-a", "descendent-of", "is-not-a", "regex", "in", "not-in", "generalizes",
                           "exists"})
# an R5-only operator becomes the nearest R4 one (a superset) plus the exact code in the ``_op`` extension
R4_NEAREST_FILTER_OP = {"child-of": "is-a", "descendent-leaf": "descendent-of"}
CANONICAL_R5_ONLY = ("versionAlgorithmString", "versionAlgorithmCoding", "copyrightLabel")
RELATIONSHIP_TO_EQUIVALENCE = {
    "related-to": "relatedto", "equivalent": "equivalent", "source-is-narrower-than-target": "wider",
    "source-is-broader-than-target": "narrower", "not-related-to": "disjoint",
}
EXPANSION_PROPERTY = XV + "ValueSet.expansion.property"
CONTAINS_PROPERTY = XV + "ValueSet.expansion.contains.property"
FILTER_OP = XV + "ValueSet.compose.include.filter.op"
COMPOSE_PROPERTY = XV + "ValueSet.compose.property"
TC_CONTENT = XV + "TerminologyCapabilities.codeSystem.content"


def _add_ext(node: dict, url: str, key: str, value: Json) -> None:
    node.setdefault("extension", []).append({"url": url, key: value})


def _drop_language_variants(node: Json) -> Json:
    if isinstance(node, dict):
        return {k: _drop_language_variants(v) for k, v in node.items() if ":" not in k}
    if isinstance(node, list):
        return [_drop_language_variants(v) for v in node]
    return node


def _designations_to_r4(designations: Json, path: str) -> None:
    for designation in designations if isinstance(designations, list) else []:
        for use in designation.pop("additionalUse", []) or []:
            _add_ext(designation, XV + path + ".designation.additionalUse", "valueCoding", use)


def _canonical_to_r4(resource: dict) -> None:
    kind = resource["resourceType"]
    for key in CANONICAL_R5_ONLY:
        if key in resource:
            value = resource.pop(key)
            if key.startswith("versionAlgorithm"):
                _add_ext(resource, XV + f"{kind}.versionAlgorithm", "value" + key[len("versionAlgorithm"):], value)
            else:
                _add_ext(resource, XV + f"{kind}.{key}", "valueString", value)


def _concepts_to_r4(concepts: Json) -> None:
    for concept in concepts if isinstance(concepts, list) else []:
        _designations_to_r4(concept.get("designation"), "CodeSystem.concept")
        _concepts_to_r4(concept.get("concept"))


def _code_system_to_r4(cs: dict) -> None:
    filters = []
    for item in cs.get("filter", []) or []:
        ops = [op for op in item.get("operator", []) if op in R4_FILTER_OPS]
        if ops:
            filters.append({**item, "operator": ops})
    if "filter" in cs:
        cs["filter"] = filters
        if not filters:
            del cs["filter"]
    _concepts_to_r4(cs.get("concept"))


def _value_set_to_r4(vs: dict) -> None:
    compose = vs.get("compose")
    if not isinstance(compose, dict):
        return
    for prop in compose.pop("property", []) or []:
        _add_ext(compose, COMPOSE_PROPERTY, "valueString", prop)
    for part in ("include", "exclude"):
        for item in compose.get(part, []) or []:
            for concept in item.get("concept", []) or []:
                _designations_to_r4(concept.get("designation"), "ValueSet.compose.include.concept")
            for flt in item.get("filter", []) or []:
                op = flt.get("op")
                if isinstance(op, str) and op not in R4_FILTER_OPS:
                    flt["op"] = R4_NEAREST_FILTER_OP.get(op, op)
                    flt.setdefault("_op", {}).setdefault("extension", []).append({"url": FILTER_OP, "valueCode": op})


def _depends_to_r4(item: dict) -> None:
    if "attribute" in item:
        item["property"] = item.pop("attribute")
    for key in list(item):
        if key.startswith("value") and key != "value":
            value = item.pop(key)
            if isinstance(value, dict):
                if "system" in value:
                    item["system"] = value["system"]
                value = value.get("code")
            item["value"] = value if isinstance(value, str) else str(value)


def _concept_map_to_r4(cm: dict) -> None:
    for r5, r4 in (("sourceScopeUri", "sourceUri"), ("sourceScopeCanonical", "sourceCanonical"),
                   ("targetScopeUri", "targetUri"), ("targetScopeCanonical", "targetCanonical")):
        if r5 in cm:
            cm[r4] = cm.pop(r5)
    cm.pop("property", None)
    cm.pop("additionalAttribute", None)
    for group in cm.get("group", []) or []:
        for element in group.get("element", []) or []:
            for target in element.get("target", []) or []:
                if "relationship" in target:
                    target["equivalence"] = RELATIONSHIP_TO_EQUIVALENCE.get(target.pop("relationship"), "relatedto")
                target.pop("property", None)
                for key in ("dependsOn", "product"):
                    for item in target.get(key, []) or []:
                        _depends_to_r4(item)
        unmapped = group.get("unmapped")
        if isinstance(unmapped, dict):
            unmapped.pop("relationship", None)
            unmapped.pop("valueSet", None)
            if unmapped.get("mode") == "use-source-code":
                unmapped["mode"] = "provided"


def _resource_to_r4(resource: dict) -> None:
    kind = resource.get("resourceType")
    if kind in ("CodeSystem", "ValueSet", "ConceptMap"):
        _canonical_to_r4(resource)
    if kind == "CodeSystem":
        _code_system_to_r4(resource)
    elif kind == "ValueSet":
        _value_set_to_r4(resource)
    elif kind == "ConceptMap":
        _concept_map_to_r4(resource)
    elif kind == "Parameters":
        for param in resource.get("parameter", []) or []:
            _parameter_to_r4(param)
    elif kind == "Bundle":
        for entry in resource.get("entry", []) or []:
            if isinstance(entry.get("resource"), dict):
                _resource_to_r4(entry["resource"])
    for contained in resource.get("contained", []) or []:
        if isinstance(contained, dict):
            _resource_to_r4(contained)


def _parameter_to_r4(param: dict) -> None:
    if isinstance(param.get("resource"), dict):
        _resource_to_r4(param["resource"])
    for part in param.get("part", []) or []:
        _parameter_to_r4(part)


def to_r4(resource: Json) -> Json:
    """An R4 copy of an R5 resource (request side)."""
    result = _drop_language_variants(copy.deepcopy(resource))
    if isinstance(result, dict):
        _resource_to_r4(result)
    return result


# -- responses: R4 → R5 ------------------------------------------------------------------------------------
def _take_extensions(node: dict, url: str) -> list[dict]:
    exts = node.get("extension")
    if not isinstance(exts, list):
        return []
    taken = [e for e in exts if isinstance(e, dict) and e.get("url") == url]
    if taken:
        rest = [e for e in exts if not (isinstance(e, dict) and e.get("url") == url)]
        if rest:
            node["extension"] = rest
        else:
            del node["extension"]
    return taken


def _sub_values(ext: dict) -> dict[str, tuple[str, Json]]:
    found = {}
    for sub in ext.get("extension", []) or []:
        if isinstance(sub, dict):
            for key, value in sub.items():
                if key.startswith("value"):
                    found[str(sub.get("url"))] = (key, value)
    return found


def _contains_to_r5(items: Json) -> None:
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        props = []
        for ext in _take_extensions(item, CONTAINS_PROPERTY):
            subs = _sub_values(ext)
            prop: dict = {}
            if "code" in subs:
                prop["code"] = subs["code"][1]
            value = subs.get("value[x]") or subs.get("value")
            if value:
                prop[value[0]] = value[1]
            props.append(prop)
        if props:
            item["property"] = props
        _contains_to_r5(item.get("contains"))


def _value_set_to_r5(vs: dict) -> None:
    expansion = vs.get("expansion")
    if isinstance(expansion, dict):
        props = []
        for ext in _take_extensions(expansion, EXPANSION_PROPERTY):
            subs = _sub_values(ext)
            props.append({k: subs[k][1] for k in ("code", "uri") if k in subs})
        if props:
            expansion["property"] = props
        _contains_to_r5(expansion.get("contains"))
    compose = vs.get("compose")
    if isinstance(compose, dict):
        props = [e.get("valueString") for e in _take_extensions(compose, COMPOSE_PROPERTY)]
        if props:
            compose["property"] = props
        for part in ("include", "exclude"):
            for item in compose.get(part, []) or []:
                for flt in item.get("filter", []) or []:
                    holder = flt.get("_op")
                    if isinstance(holder, dict):
                        _take_extensions(holder, FILTER_OP)
                        if not holder:
                            del flt["_op"]


def _resource_to_r5(resource: dict) -> None:
    kind = resource.get("resourceType")
    if kind == "ValueSet":
        _value_set_to_r5(resource)
    elif kind == "TerminologyCapabilities":
        for system in resource.get("codeSystem", []) or []:
            content = _take_extensions(system, TC_CONTENT)
            if content and "content" not in system:
                system["content"] = content[0].get("valueCode")
    elif kind == "Parameters":
        for param in resource.get("parameter", []) or []:
            _parameter_to_r5(param)
    elif kind == "Bundle":
        for entry in resource.get("entry", []) or []:
            if isinstance(entry.get("resource"), dict):
                _resource_to_r5(entry["resource"])


def _parameter_to_r5(param: dict) -> None:
    if isinstance(param.get("resource"), dict):
        _resource_to_r5(param["resource"])
    for part in param.get("part", []) or []:
        _parameter_to_r5(part)


def to_r5(resource: Json) -> Json:
    """An R5 copy of an R4 resource (response side)."""
    result = copy.deepcopy(resource)
    if isinstance(result, dict):
        _resource_to_r5(result)
    return result


def r4_parse_errors(resource: Json) -> list[str]:
    """R5-only elements in an R4 response that a strict R4 parser rejects."""
    errors: list[str] = []

    def contains(items: Json, path: str) -> None:
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict):
                if "property" in item:
                    errors.append(f"{path}.property")
                contains(item.get("contains"), path + ".contains")

    def visit(res: Json) -> None:
        if not isinstance(res, dict):
            return
        if res.get("resourceType") == "ValueSet" and isinstance(res.get("expansion"), dict):
            if "property" in res["expansion"]:
                errors.append("ValueSet.expansion.property")
            contains(res["expansion"].get("contains"), "ValueSet.expansion.contains")
        if res.get("resourceType") == "Parameters":
            for param in res.get("parameter", []) or []:
                visit(param.get("resource") if isinstance(param, dict) else None)

    visit(resource)
    return sorted(set(errors))
