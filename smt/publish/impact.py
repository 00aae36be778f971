"""What a new version of a code system changes for the value sets and concept maps the store holds.

For a code system going from version ``old`` to version ``new``, over the version each stored value set and
concept map is served in by default (the latest active one):

* every value set that uses the code system (in its compose, through the value sets it includes, or in its
  stored expansion) is expanded twice, its includes of the code system forced to ``old`` then to ``new``
  (``force-system-version``), so extensional, ``is-a``, regex or property filters are all evaluated; those
  whose members differ are listed with the codes added and removed;
* every concept map whose groups map from or to the code system is listed with the source and target codes
  that ``new`` retires or removes while ``old`` had them active (with the replacements known for them,
  ``smt.terminology.retirement``); the curators' replacement statements, about retired codes on purpose, are
  not;
* every value set and concept map that pins ``old`` (``include.version``, ``group.sourceVersion`` /
  ``targetVersion``) is listed as pinned: it keeps using the old version until its authors move it.

Reports are cached per state of the store (the two releases, the value set and concept map versions).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from smt.errors import MissingParameter, SmtError
from smt.publish.changes import find_version, previous_release
from smt.releases.registry import Registry, normalise_system
from smt.store.releases import ReleaseInfo
from smt.terminology.context import ResourceContext
from smt.terminology.expand.compose import Compose
from smt.terminology.retirement import RetirementNotes, is_replacement
from smt.terminology.versions import VersionRules

Coded = tuple[str, str | None]
"""(code, display)."""


@dataclass(slots=True)
class ValueSetImpact:
    """A value set whose members change: the codes of the code system it gains and loses."""

    info: ReleaseInfo
    added: list[Coded] = field(default_factory=list)
    removed: list[Coded] = field(default_factory=list)


@dataclass(slots=True)
class RetiredCode:
    """A code of a map that the new version retires (``retired``) or drops (``removed``)."""

    code: str
    display: str | None
    change: str
    replaced_by: list[str] = field(default_factory=list)


@dataclass(slots=True)
class MapImpact:
    """A concept map with codes of the code system the new version retires, as sources or as targets."""

    info: ReleaseInfo
    sources: list[RetiredCode] = field(default_factory=list)
    targets: list[RetiredCode] = field(default_factory=list)


@dataclass(slots=True)
class ImpactReport:
    """The impact of code system ``system`` going from release ``old`` to release ``new``."""

    system: str
    old: ReleaseInfo
    new: ReleaseInfo
    value_sets: list[ValueSetImpact] = field(default_factory=list)
    concept_maps: list[MapImpact] = field(default_factory=list)
    pinned: list[ReleaseInfo] = field(default_factory=list)
    errors: list[tuple[ReleaseInfo, str]] = field(default_factory=list)
    """Value sets that could not be expanded with one of the two versions (and why)."""
    checked: int = 0
    """How many value sets use the code system (and were expanded both ways)."""

    @property
    def summary(self) -> dict[str, int]:
        return {"value_sets_checked": self.checked, "value_sets_changed": len(self.value_sets),
                "concept_maps_with_retired_codes": len(self.concept_maps), "pinned_to_old_version": len(self.pinned),
                "errors": len(self.errors)}


# -- which resources use the code system ----------------------------------------------------------------------


def _sets(vs: dict) -> list[dict]:
    compose = vs.get("compose") or {}
    return [*compose.get("include", []), *compose.get("exclude", [])]


def uses_system(vs: dict, system: str, registry: Registry, seen: set[str] | None = None) -> bool:
    """Whether a value set draws codes from ``system`` (directly, through included value sets, or as its
    stored expansion lists them)."""
    seen = set() if seen is None else seen
    for item in _sets(vs):
        if item.get("system") and normalise_system(item["system"]) == system:
            return True
        for reference in item.get("valueSet", []):
            url = reference.split("|", 1)[0]
            if url in seen:
                continue
            seen.add(url)
            try:
                nested = registry.resolve(url, None, kind="ValueSet").resource()
            except SmtError:
                continue
            if uses_system(nested, system, registry, seen):
                return True
    contains = list((vs.get("expansion") or {}).get("contains", []))
    while contains:
        item = contains.pop()
        if item.get("system") and normalise_system(item["system"]) == system:
            return True
        contains.extend(item.get("contains", []))
    return False


def pins(resource: dict, system: str, version: str) -> bool:
    """Whether a value set or concept map names ``system`` at exactly ``version``."""
    if resource.get("resourceType") == "ConceptMap":
        return any((g.get("source") and normalise_system(g["source"]) == system and g.get("sourceVersion") == version)
                   or (g.get("target") and normalise_system(g["target"]) == system
                       and g.get("targetVersion") == version) for g in resource.get("group", []))
    return any(item.get("system") and normalise_system(item["system"]) == system and item.get("version") == version
               for item in _sets(resource))


def default_releases(registry: Registry, kind: str) -> list[ReleaseInfo]:
    """The version of each value set or concept map URL served by default."""
    urls = sorted({r.url for r in registry.releases() if r.kind == kind})
    return [registry.resolve(url, None, kind=kind) for url in urls]


# -- value sets --------------------------------------------------------------------------------------------------


def _relevant(item: dict, system: str) -> bool:
    return normalise_system(item["system"]) == system if item.get("system") else bool(item.get("valueSet"))


def projected(vs: dict, system: str) -> dict:
    """The value set restricted to what can bring codes of ``system``: the includes and excludes of ``system``
    and those of value sets only (other systems' parts cannot change its members of ``system``, and may name
    code systems this store does not hold)."""
    compose = vs.get("compose")
    if compose is None:
        return vs
    kept = {part: [item for item in compose.get(part, []) if _relevant(item, system)] for part in ("include",
                                                                                                   "exclude")}
    return {**vs, "compose": {**compose, **kept}}


def _nested(registry: Registry, vs: dict, system: str, found: dict[str, dict]) -> None:
    """The stored value sets a value set includes, projected, by canonical (what the context resolves first)."""
    for item in _sets(vs):
        for reference in item.get("valueSet", []):
            if reference in found or reference.startswith("#"):
                continue
            url, _, version = reference.partition("|")
            try:
                nested = registry.resolve(url, version or None, kind="ValueSet").resource()
            except SmtError:
                continue
            found[reference] = projected(nested, system)
            _nested(registry, nested, system, found)


def members_with(registry: Registry, vs: dict, system: str, version: str) -> dict[str, str | None]:
    """code → display of the members of ``system`` a value set has with ``system`` forced to ``version``."""
    ctx = ResourceContext(registry, rules=VersionRules.from_params(force_system_version=[f"{system}|{version}"]))
    nested: dict[str, dict] = {}
    _nested(registry, vs, system, nested)
    for resource in nested.values():
        ctx.add_resource(resource)
    compose = Compose(ctx)
    keys = [key for key in compose.members(projected(vs, system)) if normalise_system(key[0]) == system]
    return {record.code: record.display for record in compose.records(keys).values()}


def _value_set_impact(registry: Registry, info: ReleaseInfo, system: str, old: str, new: str,
                      report: ImpactReport) -> None:
    try:
        before = members_with(registry, info.resource(), system, old)
        after = members_with(registry, info.resource(), system, new)
    except SmtError as exc:
        report.errors.append((info, str(exc)))
        return
    report.checked += 1
    if before.keys() == after.keys():
        return
    report.value_sets.append(ValueSetImpact(
        info, added=sorted((c, after[c]) for c in after.keys() - before.keys()),
        removed=sorted((c, before[c]) for c in before.keys() - after.keys())))


# -- concept maps ------------------------------------------------------------------------------------------------


class _Retired:
    """Whether a code active in ``old`` is retired or removed in ``new`` (memoised)."""

    def __init__(self, registry: Registry, old: ReleaseInfo, new: ReleaseInfo) -> None:
        self.old = registry.index(old)
        self.new = registry.index(new)
        self.notes = RetirementNotes.for_release(registry, new)
        self.memo: dict[str, RetiredCode | None] = {}

    def __call__(self, code: str, display: str | None) -> RetiredCode | None:
        if code not in self.memo:
            self.memo[code] = self._check(code, display)
        return self.memo[code]

    def _check(self, code: str, display: str | None) -> RetiredCode | None:
        before = self.old.concept(code)
        if before is None or not before.active:
            return None
        after = self.new.concept(code)
        if after is not None and after.active:
            return None
        note = self.notes.get(code) if self.notes is not None else None
        return RetiredCode(code, display or before.display, "removed" if after is None else "retired",
                           [r.code for r in note.replacements] if note else [])


def _replaced(element: dict) -> bool:
    """An element of a curators' replacement map: its source is retired on purpose."""
    targets = element.get("target", [])
    return bool(targets) and all(is_replacement(t) for t in targets)


def _map_impact(info: ReleaseInfo, system: str, retired: _Retired) -> MapImpact | None:
    found = MapImpact(info)
    for group in info.resource().get("group", []):
        if group.get("source") and normalise_system(group["source"]) == system:
            found.sources += [r for e in group.get("element", [])
                              if not _replaced(e) and (r := retired(str(e.get("code")), e.get("display")))]
        if group.get("target") and normalise_system(group["target"]) == system:
            found.targets += [r for e in group.get("element", []) for t in e.get("target", []) if t.get("code")
                              and (r := retired(str(t["code"]), t.get("display")))]
    found.sources = list({r.code: r for r in found.sources}.values())
    found.targets = list({r.code: r for r in found.targets}.values())
    return found if found.sources or found.targets else None


# -- the report --------------------------------------------------------------------------------------------------


def _compute(registry: Registry, system: str, old: ReleaseInfo, new: ReleaseInfo,
             value_sets: list[ReleaseInfo], maps: list[ReleaseInfo]) -> ImpactReport:
    report = ImpactReport(system, old, new)
    for info in value_sets:
        resource = info.resource()
        if pins(resource, system, old.version):
            report.pinned.append(info)
        if uses_system(resource, system, registry):
            _value_set_impact(registry, info, system, old.version, new.version, report)
    retired = _Retired(registry, old, new)
    for info in maps:
        if pins(info.resource(), system, old.version):
            report.pinned.append(info)
        found = _map_impact(info, system, retired)
        if found is not None:
            report.concept_maps.append(found)
    return report


_lock = threading.Lock()
_cache: OrderedDict[tuple, ImpactReport] = OrderedDict()
_CACHE_SIZE = 16


def impact(registry: Registry, url: str, from_version: str, to_version: str) -> ImpactReport:
    """The impact of code system ``url`` going from ``from_version`` to ``to_version`` (``NotFound`` for an
    unknown code system or version)."""
    old = find_version(registry, url, from_version, "CodeSystem")
    new = find_version(registry, url, to_version, "CodeSystem")
    system = normalise_system(new.url)
    value_sets = default_releases(registry, "ValueSet")
    maps = default_releases(registry, "ConceptMap")
    key = (old.id, new.id, tuple((r.id, r.status) for r in value_sets + maps))
    with _lock:
        found = _cache.get(key)
    if found is None:
        found = _compute(registry, system, old, new, value_sets, maps)
        with _lock:
            _cache[key] = found
            while len(_cache) > _CACHE_SIZE:
                _cache.popitem(last=False)
    return found


def impact_of(registry: Registry, url: str | None, from_version: str | None = None,
              to_version: str | None = None) -> ImpactReport:
    """``impact`` with defaults: ``to`` is the version served by default, ``from`` the version before ``to``."""
    if not url:
        raise MissingParameter("Give the code system: parameter 'url'", "url")
    new = find_version(registry, url, to_version, "CodeSystem") if to_version else registry.resolve(url)
    if not from_version:
        previous = previous_release(registry, new)
        if previous is None:
            raise MissingParameter(f"CodeSystem {new.url} has no version before {new.version}: give 'from'", "from")
        from_version = previous.version
    return impact(registry, url, from_version, new.version)


def state_tag(registry: Registry) -> str:
    """A short tag of what impacts depend on besides the two versions: the value set and map versions served."""
    digest = hashlib.sha256()
    for info in default_releases(registry, "ValueSet") + default_releases(registry, "ConceptMap"):
        digest.update(f"{info.id}:{info.status};".encode())
    return digest.hexdigest()[:16]


def feed_impact(registry: Registry, info: ReleaseInfo, previous: ReleaseInfo | None) -> ImpactReport | None:
    """The impact shown in the feed entry of a code system release: since its previous version."""
    if info.kind != "CodeSystem" or previous is None:
        return None
    try:
        return impact(registry, info.url, previous.version, info.version)
    except SmtError:
        return None
