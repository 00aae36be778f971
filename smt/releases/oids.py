"""OID ⇄ canonical URL of code systems, in one place.

An OID resolves, in this order, through: the catalogue (``terminologies/*.toml``: international standards
and the NOS tables the ANS publishes), the OIDs of the releases being loaded together (``batch``), then the
OIDs of the code system releases already in the store. The catalogue wins so that a NOS table that reuses a
standard's OID (e.g. ``TRE_A04-Loinc`` with the LOINC OID) never hides the standard's URL.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping

from smt.catalogue.terminologies import load_catalogue, oid_for_url, plain_oid, url_for_oid
from smt.releases.registry import Registry, version_key
from smt.store.releases import ReleaseInfo

_INDEXES: weakref.WeakKeyDictionary[Registry, tuple[list[ReleaseInfo], OidIndex]] = weakref.WeakKeyDictionary()


class OidIndex:
    """Stored releases by OID and code system releases by URL, built from one registry listing."""

    def __init__(self, releases: list[ReleaseInfo]) -> None:
        self.by_oid: dict[str, list[ReleaseInfo]] = {}
        self.oids_of: dict[str, tuple[str, ...]] = {}
        for info in releases:
            oids = info.oids
            self.oids_of[info.id] = oids
            for oid in oids:
                self.by_oid.setdefault(oid, []).append(info)
        for infos in self.by_oid.values():
            infos.sort(key=lambda r: version_key(r.version))
        self.code_systems: dict[str, list[ReleaseInfo]] = {}
        for info in releases:
            if info.kind == "CodeSystem":
                self.code_systems.setdefault(info.url.rstrip("/"), []).append(info)

    def releases(self, oid: str, kind: str) -> list[ReleaseInfo]:
        """Releases of ``kind`` identified by ``oid``, oldest version first."""
        return [r for r in self.by_oid.get(plain_oid(oid), []) if r.kind == kind]


def oid_index(registry: Registry) -> OidIndex:
    """The OID index of the registry's current listing (rebuilt when the listing changes)."""
    releases = registry.releases()
    cached = _INDEXES.get(registry)
    if cached is not None and cached[0] is releases:
        return cached[1]
    index = OidIndex(releases)
    _INDEXES[registry] = (releases, index)
    return index


def _latest(infos: list[ReleaseInfo]) -> ReleaseInfo:
    active = [r for r in infos if r.status == "active"]
    return (active or infos)[-1]


def resolve_system_oid(oid: str, registry: Registry | None = None,
                       batch: Mapping[str, str] | None = None) -> str | None:
    """The canonical URL of the code system identified by ``oid``, or ``None`` when nothing knows it."""
    oid = plain_oid(oid)
    url = url_for_oid(oid)
    if url:
        return url
    if batch and oid in batch:
        return batch[oid]
    if registry is not None:
        found = oid_index(registry).releases(oid, "CodeSystem")
        if found:
            return _latest(found).url
    return None


def system_oid(system: str, registry: Registry | None = None) -> str | None:
    """The OID of a code system URL (``urn:oid:`` systems give their own OID), or ``None``."""
    if system.startswith("urn:oid:"):
        return plain_oid(system)
    oid = oid_for_url(system)
    if oid:
        return oid
    if registry is not None:
        index = oid_index(registry)
        for info in reversed(index.code_systems.get(system.rstrip("/"), [])):
            if index.oids_of.get(info.id):
                return index.oids_of[info.id][0]
    return None


def system_name(system: str, registry: Registry | None = None) -> str | None:
    """A short name of a code system URL (catalogue name, else the stored release's name)."""
    for item in load_catalogue().values():
        if item.url == system or system in item.aliases:
            return item.name
    if registry is not None:
        infos = oid_index(registry).code_systems.get(system.rstrip("/"))
        if infos:
            return _latest(infos).name or None
    return None
