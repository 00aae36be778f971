"""The value-set composer's state: a terminology version, rules (include or exclude codes, is-a, descendants,
property values, other value sets) and metadata, read from a query string and written as a FHIR ValueSet.

The state lives in the page address (every rule is an ``op``/``kind``/``prop``/``value`` quadruple, in order),
so a composition can be pasted in a mail; the ValueSet built from it is what the composer expands, checks,
downloads and saves.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass, field

from starlette.datastructures import ImmutableMultiDict

from fhir_api.ui import resources
from smt.releases.registry import Registry

OPS = ("include", "exclude")
KINDS = ("codes", "is-a", "descendent-of", "property", "valueset")
_CODE_SEPARATORS = re.compile(r"[\s,;]+")
MAX_RULES = 50


@dataclass(frozen=True, slots=True)
class Rule:
    op: str
    kind: str
    value: str
    prop: str = ""

    @property
    def codes(self) -> list[str]:
        return [c for c in _CODE_SEPARATORS.split(self.value.strip()) if c]


@dataclass(slots=True)
class Composition:
    system: str = ""
    version: str = ""
    rules: list[Rule] = field(default_factory=list)
    title: str = ""
    name: str = ""
    url: str = ""
    vs_version: str = ""
    oid: str = ""

    def params(self) -> list[tuple[str, str]]:
        """The query string items that give this composition back (``parse``)."""
        items = [(k, v) for k, v in (("system", self.system), ("version", self.version), ("title", self.title),
                                      ("name", self.name), ("url", self.url), ("vs_version", self.vs_version),
                                      ("oid", self.oid)) if v]
        for rule in self.rules:
            items += [("op", rule.op), ("kind", rule.kind), ("prop", rule.prop), ("value", rule.value)]
        return items


def parse(params: ImmutableMultiDict) -> Composition:
    """A composition from a query string or a form: rules whose value is blank are dropped."""
    def many(name: str) -> list[str]:
        return [v for v in params.getlist(name) if isinstance(v, str)]

    def one(name: str) -> str:
        values = many(name)
        return values[0].strip() if values else ""

    ops, kinds, props, values = many("op"), many("kind"), many("prop"), many("value")
    rules = []
    for index, value in enumerate(values[:MAX_RULES]):
        op = ops[index] if index < len(ops) and ops[index] in OPS else "include"
        kind = kinds[index] if index < len(kinds) and kinds[index] in KINDS else "codes"
        prop = props[index].strip() if index < len(props) else ""
        if value.strip():
            rules.append(Rule(op, kind, value.strip(), prop))
    return Composition(one("system"), one("version"), rules, one("title"), one("name"), one("url"),
                       one("vs_version"), one("oid"))


def _part(rule: Rule, system: str, version: str | None, value_sets: list[resources.Resource]) -> dict:
    if rule.kind == "valueset":
        found = next((r for r in value_sets if r.key.lower() == rule.value.lower()), None)
        return {"valueSet": [found.url if found else rule.value]}
    part: dict = {"system": system}
    if version:
        part["version"] = version
    if rule.kind == "codes":
        part["concept"] = [{"code": code} for code in rule.codes]
    elif rule.kind == "property":
        part["filter"] = [{"property": rule.prop or "concept", "op": "=", "value": rule.value}]
    else:
        part["filter"] = [{"property": "concept", "op": rule.kind, "value": rule.value}]
    return part


def default_url(composition: Composition) -> str:
    """A stable ``urn:uuid:`` for a composition without a canonical URL (the same rules give the same one)."""
    digest = hashlib.sha256(repr((composition.system, composition.version, composition.rules)).encode()).digest()
    return f"urn:uuid:{uuid.UUID(bytes=digest[:16], version=5)}"


def value_set(registry: Registry, composition: Composition, code_system: resources.Resource | None) -> dict:
    """The FHIR ValueSet (definition, status draft) the composition describes."""
    value_sets = resources.resources(registry, "ValueSet")
    system = code_system.url if code_system else composition.system
    compose: dict = {}
    for rule in composition.rules:
        compose.setdefault(rule.op, []).append(_part(rule, system, composition.version or None, value_sets))
    name = composition.name or re.sub(r"[^A-Za-z0-9_]", "", composition.title.title()) or "Composition"
    resource: dict = {
        "resourceType": "ValueSet", "url": composition.url or default_url(composition),
        "version": composition.vs_version or "1", "name": name, "title": composition.title or name,
        "status": "draft",
    }
    if composition.oid:
        resource["identifier"] = [{"system": "urn:ietf:rfc:3986", "value": f"urn:oid:{composition.oid}"}]
    resource["compose"] = {key: compose[key] for key in OPS if key in compose}
    return resource


def svs_oid(composition: Composition, resource: dict) -> str:
    """The OID an SVS download names the value set by: the composition's, else one derived from its URL (the
    ``2.25`` arc of UUID-based OIDs)."""
    if composition.oid:
        return composition.oid
    digest = hashlib.sha256(str(resource["url"]).encode()).digest()
    return f"2.25.{uuid.UUID(bytes=digest[:16], version=5).int}"
