"""Read side used by the engines and the API: which releases exist and which one a request means.

Releases are discovered from their manifests and noticed without a restart: the listing is re-read whenever
the store's generation changes (every load, removal and status change bumps it; ``ReleaseStore.state``), which
is checked on every listing, so every process sharing ``SMT_HOME`` sees a change at its next request.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Callable
from functools import cache, lru_cache
from pathlib import Path
from typing import TypeVar, cast

from smt.catalogue.terminologies import load_catalogue, url_for_oid
from smt.errors import NotFound
from smt.index import FORMAT_VERSION as INDEX_FORMAT
from smt.index.reader import CodeSystemIndex
from smt.store.releases import ReleaseInfo, ReleaseStore

T = TypeVar("T")

_NUMBER = re.compile(r"(\d+)")


@cache
def _version_orders() -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(item.version_pattern), item.version_order) for item in load_catalogue().values()
                 if item.version_pattern and item.version_order)


def version_key(version: str) -> tuple:
    """Natural ordering of versions: "2.10" after "2.9", "20210101" after "20201231".

    A version of a terminology whose catalogue entry gives a ``version_order`` is ordered by it: SNOMED CT edition
    URIs (``…/sct/{module}/version/{date}``) by release date first, then module, so that across editions the
    newest release is the latest (and so the default), whatever its module id.
    """
    text = version.strip()
    for pattern, order in _version_orders():
        if match := pattern.match(text):
            version = order.format(**match.groupdict())
            break
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in _NUMBER.split(version) if p)


def equivalent_version(version: str) -> str:
    """The form versions are compared in: a catalogue ``version_aliases`` prefix replaced by its canonical one
    (a SNOMED CT edition loaded as an ``xsct`` edition answers requests for its ``sct`` URI and the reverse)."""
    version = version.strip()
    for item in load_catalogue().values():
        for alias, canonical in item.version_aliases:
            if version.startswith(alias):
                return canonical + version[len(alias):]
    return version


@lru_cache(maxsize=4096)
def normalise_system(url: str) -> str:
    """Canonical form of a system URL: trailing slash dropped, OIDs and catalogue aliases resolved (the catalogue
    is read once per process, so the answers are kept)."""
    url = url.strip()
    if url.startswith("urn:oid:"):
        return url_for_oid(url) or url
    url = url.rstrip("/")
    for item in load_catalogue().values():
        if url in item.aliases:
            return item.url
    return url


MAX_KEPT_ANSWERS = 4096
"""``Registry.versions_of`` answers kept per listing."""


def _versions_of(releases: list[ReleaseInfo], url: str, kind: str) -> list[ReleaseInfo]:
    url = normalise_system(url)
    found = [r for r in releases if r.kind == kind and r.url.rstrip("/") == url]
    if not found and url.startswith("urn:oid:"):
        oid = url.removeprefix("urn:oid:")
        named = sorted((r for r in releases if r.kind == kind and oid in r.oids), key=lambda r: version_key(r.version))
        if named:
            canonical = named[-1].url.rstrip("/")
            found = [r for r in releases if r.kind == kind and r.url.rstrip("/") == canonical]
    return sorted(found, key=lambda r: version_key(r.version))


class Registry:
    """Releases in the store, what is opened or built from each of them on demand (its compiled index, its code
    system provider), and version resolution."""

    def __init__(self, home: Path) -> None:
        self.store = ReleaseStore(home)
        self._lock = threading.RLock()
        self._state: tuple[bytes, int] | None = None
        self._releases: list[ReleaseInfo] = []
        self._attached: dict[str, dict[str, object]] = {}
        """Release id → kind ("index", "provider"…) → the object built for that release."""
        self._hide_drafts = False
        self._public: Registry | None = None
        self._versions: dict[tuple[str, str], list[ReleaseInfo]] = {}
        """(URL as asked, kind) → ``versions_of``'s answer for the current listing (emptied when it changes)."""

    def public(self) -> Registry:
        """The same registry as anonymous readers see it: draft releases are hidden (curators only)."""
        if self._public is None:
            view = copy.copy(self)
            view._hide_drafts = True
            view._state = None
            view._versions = {}
            self._public = view
        return self._public

    def releases(self) -> list[ReleaseInfo]:
        """Current releases (without drafts in the public view); re-read when the store's generation changed."""
        state = self.store.state()
        if state != self._state:
            with self._lock:
                releases = self.store.list()
                live = {r.id for r in releases}
                for gone in set(self._attached) - live:
                    self._drop(gone)
                self._releases, self._state, self._versions = releases, state, {}
        if self._hide_drafts:
            return [r for r in self._releases if r.status != "draft"]
        return self._releases

    def code_systems(self) -> list[ReleaseInfo]:
        return [r for r in self.releases() if r.kind == "CodeSystem"]

    def versions_of(self, url: str, kind: str = "CodeSystem") -> list[ReleaseInfo]:
        """Releases of one canonical URL, oldest version first.

        The URL may be written as the catalogue knows it (an alias, an OID) or as ``urn:oid:`` + an OID that
        stored releases declare (a JDV named by its OID): then the releases of the canonical URL of the latest
        release declaring it. The answer is kept until the listing changes (the store's generation).
        """
        releases = self.releases()  # current (re-read, and the answers kept forgotten, if the generation changed)
        answers = self._versions
        found = answers.get((url, kind))
        if found is None:
            if len(answers) >= MAX_KEPT_ANSWERS:  # URLs come from requests: keep a bounded number
                answers.clear()
            found = answers[(url, kind)] = _versions_of(releases, url, kind)
        return list(found)

    def resolve(self, url: str, version: str | None = None, kind: str = "CodeSystem") -> ReleaseInfo:
        """The release a request means: the version named, else the latest active one.

        A version that matches no release exactly selects the latest release whose version starts with it
        (e.g. a SNOMED CT module URI without a date); versions are compared in their ``equivalent_version``
        form. Raises ``NotFound`` naming what is missing.
        """
        candidates = self.versions_of(url, kind)
        if not candidates:
            raise NotFound(f"{kind} {url} is not known to this server")
        if version:
            wanted = equivalent_version(version)
            exact = ([r for r in candidates if r.version == version]
                     or [r for r in candidates if equivalent_version(r.version) == wanted])
            partial = exact or [r for r in candidates if equivalent_version(r.version).startswith(wanted)]
            if not partial:
                known = ", ".join(r.version for r in candidates)
                raise NotFound(f"{kind} {url} has no version {version} (known versions: {known})")
            return partial[-1]
        active = [r for r in candidates if r.status == "active"]
        usable = active or [r for r in candidates if r.status != "retired"] or candidates
        return usable[-1]

    def attached(self, info: ReleaseInfo, kind: str, build: Callable[[], T]) -> T:
        """The object of ``kind`` built from one release by ``build`` (its index, its code system provider…):
        built once, then shared, and dropped (closed when it can be) with the release."""
        found = self._attached.get(info.id, {}).get(kind)
        if found is None:
            with self._lock:
                slot = self._attached.setdefault(info.id, {})
                found = slot.get(kind)
                if found is None:
                    found = slot[kind] = build()
        return cast(T, found)

    def _drop(self, release_id: str) -> None:
        for item in self._attached.pop(release_id).values():
            close = getattr(item, "close", None)
            if callable(close):
                close()

    def index(self, info: ReleaseInfo) -> CodeSystemIndex:
        """The compiled index of a code system release (opened once, then shared). A release compiled in another
        index format is refused (``ArtefactOutdated``, naming ``smt recompile <id>``)."""
        info.require("index", INDEX_FORMAT)
        return self.attached(info, "index", lambda: CodeSystemIndex(info.index_path))

    def code_system(self, url: str, version: str | None = None) -> CodeSystemIndex:
        return self.index(self.resolve(url, version))
