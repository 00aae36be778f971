"""The codes of a value set version, for diffs: enumerated in its compose, else its expansion.

A value set that only lists concepts is read as it is. Otherwise the stored ``expansion`` is used when
present, else the value set is expanded by the engine against the code system versions the store serves now.
"""

from __future__ import annotations

from collections.abc import Iterable

from smt.publish.diff import Member, Members
from smt.releases.registry import Registry
from smt.terminology.context import ResourceContext
from smt.terminology.expand.expand import ExpandOptions, expand, iter_entries

EXPANSION_LIMIT = 5_000_000


def _enumerated(compose: dict) -> bool:
    includes = compose.get("include", [])
    return bool(includes) and not compose.get("exclude") and all(
        inc.get("concept") and not inc.get("filter") and not inc.get("valueSet") for inc in includes)


def _from_compose(compose: dict) -> Members:
    return {
        (inc.get("system", ""), str(concept["code"])): Member(concept.get("display"))
        for inc in compose.get("include", []) for concept in inc.get("concept", [])
    }


def _flatten(contains: Iterable[dict]) -> Iterable[dict]:
    for item in contains:
        yield item
        yield from _flatten(item.get("contains", []))


def _from_expansion(expansion: dict) -> Members:
    return {
        (item.get("system", ""), str(item["code"])): Member(item.get("display"), bool(item.get("inactive")))
        for item in _flatten(expansion.get("contains", [])) if "code" in item
    }


def value_set_members(resource: dict, registry: Registry | None) -> Members:
    """Every (system, code) of the value set with its display; raises the engine's ``ValueSetError``."""
    compose = resource.get("compose") or {}
    if _enumerated(compose):
        return _from_compose(compose)
    if resource.get("expansion", {}).get("contains"):
        return _from_expansion(resource["expansion"])
    expansion = expand(resource, ResourceContext(registry), ExpandOptions(count=EXPANSION_LIMIT))
    return {(e.system, e.code): Member(e.display, e.inactive) for e in iter_entries(expansion.contains)}
