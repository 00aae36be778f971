"""The implicit "replaced-by" ConceptMap of a code system: ``{system}?fhir_cm=replaced-by``.

Named like SNOMED CT's implicit maps (``?fhir_cm=<refset>``), built on demand for any stored code system from
every replacement ``smt.terminology.retirement`` knows: the ``replacedBy`` properties of every stored version,
what the provider of the default version reads in it (``all_replacements``: SNOMED CT's historical associations
REPLACED BY, SAME AS, POSSIBLY REPLACED BY, …), and the curators' published replacement maps. One group, from
the code system to itself; each target's ``comment`` is the reason when one is known. ``$translate`` and
``ConceptMap/$export`` read it like a stored map.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from urllib.parse import parse_qs, quote

from smt.codesystems.factory import stored_provider
from smt.codesystems.provider import Replacement
from smt.errors import NotFound
from smt.model import REPLACED_BY, STATUS_REASON
from smt.releases.registry import Registry, normalise_system
from smt.store.releases import ReleaseInfo
from smt.terminology.retirement import curated_notes, curated_state

MAP_NAME = "replaced-by"


def replaced_by_url(system: str) -> str:
    return f"{system}?fhir_cm={MAP_NAME}"


def system_of(url: str) -> str | None:
    """The code system of a replaced-by map URL, None for any other URL."""
    base, sep, query = url.partition("?")
    if not sep or parse_qs(query).get("fhir_cm") != [MAP_NAME]:
        return None
    return normalise_system(base)


def _stated(info: ReleaseInfo) -> dict[str, tuple[list[Replacement], str | None]]:
    """code → (replacements, reason) the properties of one release state."""
    db = sqlite3.connect(f"file:{quote(str(info.index_path))}?mode=ro&immutable=1", uri=True)
    found: dict[str, tuple[list[Replacement], str | None]] = {}
    try:
        rows = db.execute(
            "SELECT c.code, p.code, p.value FROM property p JOIN concept c ON c.id = p.concept "
            "WHERE p.code IN (?, ?) ORDER BY p.rowid", (REPLACED_BY, STATUS_REASON)).fetchall()
    finally:
        db.close()
    replaced = {code for code, prop, _ in rows if prop == REPLACED_BY}
    for code, prop, value in rows:
        if code not in replaced:
            continue
        targets, reason = found.get(code, ([], None))
        if prop == REPLACED_BY:
            targets.append(Replacement(value, source=f"{info.url}|{info.version}"))
        else:
            reason = reason or value
        found[code] = (targets, reason)
    return found


def build(registry: Registry, system: str) -> dict:
    """The replaced-by ConceptMap of ``system`` (``NotFound`` when no version of it is stored)."""
    versions = registry.versions_of(system)
    if not versions:
        raise NotFound(f"CodeSystem {system} is not known to this server")
    default = registry.resolve(system)
    elements: dict[str, dict[str, Replacement]] = {}
    reasons: dict[str, str] = {}
    for info in versions:
        for code, (targets, reason) in _stated(info).items():
            for target in targets:
                elements.setdefault(code, {})[target.code] = target
            if reason:
                reasons[code] = reason
    for code, targets in stored_provider(registry, default).all_replacements().items():
        for target in targets:
            elements.setdefault(code, {}).setdefault(target.code, target)
    for (source, code), note in curated_notes(registry).items():
        if source != normalise_system(default.url):
            continue
        for target in note.replacements:
            elements.setdefault(code, {})[target.code] = target
        if note.reason and note.replacements:
            reasons[code] = note.reason
    return _resource(registry, default, versions, elements, reasons)


def _display(registry: Registry, versions: list[ReleaseInfo], code: str) -> str | None:
    for info in reversed(versions):
        concept = stored_provider(registry, info).concept(code)
        if concept is not None:
            return concept.display
    return None


def _resource(registry: Registry, default: ReleaseInfo, versions: list[ReleaseInfo],
              elements: dict[str, dict[str, Replacement]], reasons: dict[str, str]) -> dict:
    group_elements = []
    for code in sorted(elements):
        targets = []
        for target in elements[code].values():
            item: dict = {"code": target.code}
            display = target.display or _display(registry, versions, target.code)
            if display:
                item["display"] = display
            item["equivalence"] = target.equivalence
            comment = reasons.get(code)
            if comment or target.equivalence in ("narrower", "inexact"):
                item["comment"] = comment or f"replacement stated by {target.source}"
            targets.append(item)
        element: dict = {"code": code}
        if (display := _display(registry, versions, code)) is not None:
            element["display"] = display
        element["target"] = targets
        group_elements.append(element)
    name = "".join(ch for ch in (default.name or "CodeSystem").title() if ch.isalnum())
    return {
        "resourceType": "ConceptMap", "url": replaced_by_url(default.url), "version": default.version,
        "name": f"{name}ReplacedBy"[:255] if name[:1].isalpha() else f"ReplacedBy{name}",
        "title": f"{default.title or default.name}: replaced-by (implicit map)", "status": "active",
        "description": "Retired codes and the codes that replace them, from the releases, the historical "
                       "associations and the curators' replacement maps.",
        "group": [{"source": default.url, "target": default.url, "element": group_elements}],
    }


_lock = threading.Lock()
_cache: OrderedDict[tuple, dict] = OrderedDict()


def replaced_by_map(registry: Registry, url: str) -> dict | None:
    """The replaced-by map ``url`` names (None when it is not a replaced-by map URL); cached per store state."""
    system = system_of(url)
    if system is None:
        return None
    key = (system, tuple(r.id for r in registry.versions_of(system)), curated_state(registry))
    with _lock:
        found = _cache.get(key)
    if found is None:
        found = build(registry, system)
        with _lock:
            _cache[key] = found
            while len(_cache) > 8:
                _cache.popitem(last=False)
    return found
