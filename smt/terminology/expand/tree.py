"""Nesting of expansion entries: when an expansion is hierarchical and how its entries are arranged under
their parents."""

from __future__ import annotations

from smt.index.reader import ConceptRecord
from smt.terminology.expand.compose import Compose, Key
from smt.terminology.expand.entries import ExpansionEntry
from smt.terminology.expand.filters import r5_operator


def hierarchy_possible(vs: dict, searched: bool = False) -> bool:
    """A compose whose includes are whole systems or is-a / descendent-of filters keeps its hierarchy; with a
    text ``filter`` (``searched``) only the is-a / descendent-of ones do (a search of a whole system is a flat
    list of hits)."""
    compose = vs.get("compose") or {}
    if not compose.get("include") or compose.get("exclude"):
        return False
    for include in compose["include"]:
        if not include.get("system") or include.get("concept") or include.get("valueSet"):
            return False
        ops = [r5_operator(f) or f.get("op") for f in include.get("filter", [])]
        if any(op not in ("is-a", "descendent-of") for op in ops) or (searched and not ops):
            return False
    return True


def nest(entries: list[tuple[Key, ExpansionEntry]], compose: Compose,
         records: dict[Key, ConceptRecord], strict: bool = False) -> list[ExpansionEntry] | None:
    """Entries arranged under their direct parents when the parent is a member too (the first such parent).

    ``strict`` (nesting by default, not asked for): None when a member has two parents among the members, as a
    tree cannot show a poly-hierarchy."""
    present = {key: entry for key, entry in entries}
    top: list[ExpansionEntry] = []
    for key, entry in entries:
        provider = compose.providers[(key[0], key[1])]
        parents = [present[(key[0], key[1], p.id)] for p in provider.parents(records[key])
                   if (key[0], key[1], p.id) in present]
        if strict and len(parents) > 1:
            return None
        (parents[0].contains if parents else top).append(entry)
    return top


def default_nesting(compose: Compose) -> bool:
    """Whether an expansion is hierarchical when the request does not say (``excludeNested`` absent): not for
    description-logic terminologies (SNOMED CT), whose concepts have several parents."""
    return not any(p.multi_hierarchy for p in compose.providers.values())
