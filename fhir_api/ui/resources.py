"""Code systems and value sets as the web interface names them: one short, stable key per canonical URL.

A code system's key is its catalogue key (``cim10``) when the catalogue describes it, else its name
(``TRE_R213-ModePriseEnCharge``); a value set's key is its name (``JDV_J19-ModePriseEnCharge-ROR``). Keys make
the page addresses a person pastes in a mail (``/terminologies/cim10/concepts/E11``); the versions of one URL
share its key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

from fhir_api.ui.errors import not_found
from smt.catalogue.terminologies import CatalogueEntry, load_catalogue
from smt.releases.registry import Registry, normalise_system, version_key
from smt.search import analysis
from smt.store.releases import ReleaseInfo

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_WORDS = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class Resource:
    """Every version of one canonical URL (oldest first) and the one served by default."""

    key: str
    kind: str
    url: str
    releases: tuple[ReleaseInfo, ...]
    default: ReleaseInfo
    entry: CatalogueEntry | None

    @property
    def title(self) -> str:
        return (self.entry.title if self.entry else None) or self.default.title or self.default.name or self.url

    @property
    def publisher(self) -> str | None:
        return self.default.publisher or (self.entry.publisher if self.entry else None)

    @property
    def licence(self) -> str | None:
        return self.entry.licence if self.entry else None

    @property
    def latest(self) -> ReleaseInfo:
        return self.releases[-1]

    def release(self, version: str | None) -> ReleaseInfo | None:
        """The release of exactly ``version``, or the default one when no version is asked for."""
        if not version:
            return self.default
        return next((r for r in reversed(self.releases) if r.version == version), None)

    @property
    def path(self) -> str:
        return resource_path(self.kind, self.key)


def resource_path(kind: str, key: str) -> str:
    return f"/{'terminologies' if kind == 'CodeSystem' else 'valuesets'}/{quote(key, safe='')}"


def _entries_by_url() -> dict[str, CatalogueEntry]:
    return {entry.url.rstrip("/"): entry for entry in load_catalogue().values()}


def _base_key(kind: str, url: str, default: ReleaseInfo, entry: CatalogueEntry | None) -> str:
    if kind == "CodeSystem" and entry is not None:
        return entry.key
    name = default.name or url.rstrip("/").rsplit("/", 1)[-1]
    return _UNSAFE.sub("-", name).strip("-") or "resource"


def resources(registry: Registry, kind: str) -> list[Resource]:
    """Every code system (``kind="CodeSystem"``) or value set of the registry, by key; keys are unique (a
    later URL with a taken key gets a numbered one)."""
    by_url: dict[str, list[ReleaseInfo]] = {}
    for info in registry.releases():
        if info.kind == kind:
            by_url.setdefault(normalise_system(info.url) if kind == "CodeSystem" else info.url.rstrip("/"),
                              []).append(info)
    entries = _entries_by_url()
    found: list[Resource] = []
    taken: set[str] = set()
    for url in sorted(by_url):
        releases = tuple(sorted(by_url[url], key=lambda r: version_key(r.version)))
        default = _default(releases)
        entry = entries.get(url)
        key = base = _base_key(kind, url, default, entry)
        number = 2
        while key.lower() in taken:
            key, number = f"{base}-{number}", number + 1
        taken.add(key.lower())
        found.append(Resource(key, kind, url, releases, default, entry))
    return found


def _default(releases: tuple[ReleaseInfo, ...]) -> ReleaseInfo:
    """The latest active release, else the latest one not retired, else the latest (``Registry.resolve``)."""
    active = [r for r in releases if r.status == "active"]
    return (active or [r for r in releases if r.status != "retired"] or list(releases))[-1]


def find(registry: Registry, kind: str, key: str) -> Resource | None:
    """The code system or value set with this key (case-insensitive), or whose canonical URL is ``key``."""
    wanted = key.lower()
    listed = resources(registry, kind)
    return next((r for r in listed if r.key.lower() == wanted), None) or next(
        (r for r in listed if r.url == key.rstrip("/") or (kind == "CodeSystem" and r.url == normalise_system(key))),
        None)


MISSING = {"CodeSystem": "error.no_terminology", "ValueSet": "error.no_value_set"}


def located(registry: Registry, kind: str, key: str, version: str | None) -> tuple[Resource, ReleaseInfo]:
    """The code system or value set of a page address and the release asked for (``PageError`` 404 when
    either is unknown)."""
    resource = find(registry, kind, key)
    if resource is None:
        raise not_found(MISSING[kind], key=key)
    release = resource.release(version)
    if release is None:
        raise not_found("error.no_version", title=resource.title, version=version)
    return resource, release


def for_url(registry: Registry, kind: str, url: str) -> Resource | None:
    """The resource of a canonical URL (OIDs and catalogue aliases accepted for code systems)."""
    wanted = normalise_system(url) if kind == "CodeSystem" else url.rstrip("/")
    return next((r for r in resources(registry, kind) if r.url == wanted), None)


def _folded(text: str) -> str:
    return " ".join(analysis.fold(word) for word in _WORDS.findall(text))


def matching(listed: list[Resource], text: str, system_titles: Mapping[str, str] | None = None) -> list[Resource]:
    """The resources whose key, name, title, OIDs, URL or included code systems (URL, and title when
    ``system_titles`` gives it) contain every word of ``text`` (case and accents ignored)."""
    words = [analysis.fold(w) for w in _WORDS.findall(text)]
    if not words:
        return []
    found = []
    for item in listed:
        info = item.default
        systems = _included_systems(info)
        titles = [system_titles[u] for u in systems if system_titles and u in system_titles]
        haystack = _folded(" ".join([item.key, item.url, info.name, info.title, item.title, *_oids(info),
                                     *systems, *titles]))
        if all(word in haystack for word in words):
            found.append(item)
    return found


def _oids(info: ReleaseInfo) -> list[str]:
    if info.kind == "CodeSystem":
        return []
    resource = info.resource()
    return [str(i.get("value", "")) for i in resource.get("identifier", []) if isinstance(i, dict)]


def _included_systems(info: ReleaseInfo) -> list[str]:
    if info.kind != "ValueSet":
        return []
    compose = info.resource().get("compose") or {}
    return [str(part.get("system", "")).rstrip("/") for key in ("include", "exclude")
            for part in compose.get(key, []) if isinstance(part, dict)]
