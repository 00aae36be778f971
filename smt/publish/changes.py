"""Which releases a diff compares, the diff itself (cached), and the vendor sync view of it.

``diff_releases`` compares two named versions of one canonical URL; ``changes_since`` compares a client's
version with the version the server serves by default (the latest active one). Diffs of two releases never
change (releases are immutable), so the last few are kept in memory for paging.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from smt.errors import DiffUnavailable, NotFound
from smt.publish.diff import Change, diff_code_system_files, diff_members, summary
from smt.publish.members import value_set_members
from smt.releases.registry import Registry, version_key
from smt.store.releases import ReleaseInfo

DIFFABLE = ("CodeSystem", "ValueSet")
_CACHE_SIZE = 8


@dataclass(slots=True)
class DiffReport:
    """The changes from release ``old`` to release ``new`` of one canonical URL."""

    kind: str
    url: str
    old: ReleaseInfo
    new: ReleaseInfo
    changes: list[Change] = field(default_factory=list)

    @property
    def summary(self) -> dict[str, int]:
        return summary(self.changes)


class _DiffCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: OrderedDict[tuple[str, str], list[Change]] = OrderedDict()

    def get(self, key: tuple[str, str]) -> list[Change] | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[str, str], changes: list[Change]) -> None:
        with self._lock:
            self._items[key] = changes
            while len(self._items) > _CACHE_SIZE:
                self._items.popitem(last=False)


_cache = _DiffCache()


def resource_kind(registry: Registry, url: str) -> str:
    """Whether ``url`` is a code system, value set or concept map of the store."""
    for kind in ("CodeSystem", "ValueSet", "ConceptMap"):
        if registry.versions_of(url, kind):
            return kind
    raise NotFound(f"{url} is not known to this server")


def find_version(registry: Registry, url: str, version: str, kind: str) -> ReleaseInfo:
    """The release of exactly ``version`` (raises ``NotFound`` listing the known versions)."""
    versions = registry.versions_of(url, kind)
    found = [r for r in versions if r.version == version]
    if not found:
        known = ", ".join(r.version for r in versions)
        raise NotFound(f"{kind} {url} has no version {version} (known versions: {known})")
    return found[-1]


def _compute(registry: Registry, kind: str, old: ReleaseInfo, new: ReleaseInfo) -> list[Change]:
    if kind == "CodeSystem":
        cached = _cache.get((old.id, new.id))
        if cached is None:
            cached = diff_code_system_files(old.index_path, new.index_path)
            _cache.put((old.id, new.id), cached)
        return cached
    return diff_members(value_set_members(old.resource(), registry), value_set_members(new.resource(), registry))


def diff_releases(registry: Registry, url: str, from_version: str, to_version: str) -> DiffReport:
    """The diff between two versions of the code system or value set ``url``."""
    kind = resource_kind(registry, url)
    if kind not in DIFFABLE:
        raise DiffUnavailable(f"{url} is a {kind}: diffs are computed for code systems and value sets")
    old = find_version(registry, url, from_version, kind)
    new = find_version(registry, url, to_version, kind)
    return DiffReport(kind, old.url, old, new, _compute(registry, kind, old, new))


def current_release(registry: Registry, url: str) -> ReleaseInfo:
    """The version served by default: the latest active one."""
    return registry.resolve(url, None, resource_kind(registry, url))


def changes_since(registry: Registry, url: str, since: str) -> DiffReport:
    """The diff from the client's version ``since`` to the current default version."""
    current = current_release(registry, url)
    return diff_releases(registry, url, since, current.version)


def previous_release(registry: Registry, info: ReleaseInfo) -> ReleaseInfo | None:
    """The release of the same URL with the next lower version, if any."""
    older = [r for r in registry.versions_of(info.url, info.kind)
             if version_key(r.version) < version_key(info.version)]
    return older[-1] if older else None
