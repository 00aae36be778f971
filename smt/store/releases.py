"""Release store: atomic loads, listing, status changes and removal of releases under ``SMT_HOME``.

Layout::

    SMT_HOME/oxigraph/            RDF store of record (one named graph per release + registry graph)
    SMT_HOME/releases/<id>/       compiled, relocatable release: manifest.json + index.sqlite
    SMT_HOME/tmp/                 work folders of loads in progress
    SMT_HOME/write.lock           one writer at a time

A load builds the release folder under ``tmp/``, writes the RDF graph and registry entry, and commits by
renaming the folder into ``releases/``. A release exists only when both its folder and its registry entry
exist; ``reconcile`` removes what a killed load left behind, so a partial release is never listed or served.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import orjson

from smt.errors import NotFound, ReleaseExists
from smt.index.build import build_index, release_meta
from smt.model import CodeSystemRelease, Release
from smt.quality import enforce
from smt.search.build import build_search_index
from smt.security.audit import AuditLog, AuditRecord, local_agent
from smt.store.rdf import RdfStore, registry_nquads

MANIFEST = "manifest.json"
INDEX = "index.sqlite"
RESOURCE = "resource.json"
STATUSES = ("draft", "active", "retired")


@dataclass(slots=True)
class ReleaseInfo:
    """A stored release as its manifest describes it."""

    id: str
    kind: str
    url: str
    version: str
    status: str
    name: str
    title: str
    loaded_at: str
    count: int
    path: Path
    stats: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)
    publisher: str | None = None
    oids: tuple[str, ...] = ()
    """OIDs the release declares (without ``urn:oid:``), from its manifest."""

    @property
    def index_path(self) -> Path:
        return self.path / INDEX

    def resource(self) -> dict:
        """The stored FHIR JSON of a value set or concept map release, parsed once (shared: do not mutate)."""
        return _parsed_resource(self.path / RESOURCE)


@lru_cache(maxsize=2048)
def _parsed_cached(path: Path, stamp: tuple[int, int]) -> dict:
    return orjson.loads(path.read_bytes())


def _parsed_resource(path: Path) -> dict:
    """A stored resource, parsed once per file state (releases are immutable; a reload changes the stamp)."""
    stat = path.stat()
    return _parsed_cached(path, (stat.st_mtime_ns, stat.st_size))


def compile_release(release: Release, work: Path) -> None:
    """Write the release's serving artefacts: a compiled index for a code system, the resource otherwise."""
    if isinstance(release, CodeSystemRelease):
        build_index(release, work / INDEX)
        build_search_index(release, work / "search")
    else:
        (work / RESOURCE).write_bytes(orjson.dumps(release.resource))


def release_id(url: str, version: str) -> str:
    """A readable, filesystem-safe and collision-free id for (canonical URL, version)."""
    tail = url.rstrip("/").rsplit("/", 1)[-1] or "release"
    slug = re.sub(r"[^A-Za-z0-9]+", "-", f"{tail}-{version.rsplit('/', 1)[-1]}").strip("-").lower()[:60]
    digest = hashlib.sha256(f"{url}|{version}".encode()).hexdigest()[:10]
    return f"{slug}-{digest}"


def _write_json_atomic(path: Path, data: dict, sync: bool = True) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2))
    if sync:
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
    tmp.replace(path)


def _read_manifest(folder: Path) -> ReleaseInfo | None:
    try:
        data = orjson.loads((folder / MANIFEST).read_bytes())
    except (FileNotFoundError, orjson.JSONDecodeError):
        return None
    return ReleaseInfo(
        id=folder.name, kind=data["kind"], url=data["url"], version=data["version"], status=data["status"],
        name=data.get("name", ""), title=data.get("title", ""), loaded_at=data["loaded_at"],
        count=data.get("count", 0), path=folder, stats=data.get("stats", {}),
        warnings=data.get("warnings", []), sources=data.get("sources", []), publisher=data.get("publisher"),
        oids=tuple(data.get("oids") or ()),
    )


def _summary(info: ReleaseInfo) -> dict:
    """What an audit record keeps of a release's state."""
    return {"status": info.status, "count": info.count, "loaded_at": info.loaded_at,
            "sources": [s.get("sha256") for s in info.sources]}


class ReleaseStore:
    """Write side of the store (used by the CLI and, later, the write API) and release listing."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.releases_dir = home / "releases"
        self.tmp_dir = home / "tmp"
        self.rdf_dir = home / "oxigraph"
        for folder in (self.releases_dir, self.tmp_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self.audit = AuditLog(home)

    # -- reading --------------------------------------------------------------------------------------------

    def list(self) -> list[ReleaseInfo]:
        """Every complete release, ordered by URL then load time."""
        infos = [info for folder in self.releases_dir.iterdir() if (info := _read_manifest(folder))]
        return sorted(infos, key=lambda r: (r.url, r.loaded_at))

    def get(self, release: str) -> ReleaseInfo:
        """A release by id."""
        info = _read_manifest(self.releases_dir / release)
        if info is None:
            raise NotFound(f"no release with id {release}")
        return info

    def find(self, url: str, version: str | None = None) -> list[ReleaseInfo]:
        """Releases of ``url`` (all versions, or the one named)."""
        url = url.rstrip("/")
        return [r for r in self.list() if r.url.rstrip("/") == url and version in (None, r.version)]

    # -- writing --------------------------------------------------------------------------------------------

    @contextmanager
    def _write_lock(self) -> Iterator[None]:
        with (self.home / "write.lock").open("w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextmanager
    def _rdf(self) -> Iterator[RdfStore]:
        rdf = RdfStore(self.rdf_dir)
        try:
            yield rdf
        finally:
            rdf.close()

    def reconcile(self) -> list[str]:
        """Remove what interrupted loads left: temp folders, unregistered graphs, entries with no folder."""
        with self._write_lock(), self._rdf() as rdf:
            return self._reconcile(rdf)

    def _reconcile(self, rdf: RdfStore) -> list[str]:
        removed: list[str] = []
        for leftover in self.tmp_dir.iterdir():
            shutil.rmtree(leftover, ignore_errors=True)
            removed.append(f"tmp/{leftover.name}")
        rdf.hide_draft_entries()  # stores written before drafts had a registry graph of their own
        folders = {f.name for f in self.releases_dir.iterdir() if (f / MANIFEST).exists()}
        registered = rdf.registered_ids()
        for orphan in (registered | rdf.release_graph_ids()) - folders:
            rdf.drop_release(orphan)
            removed.append(f"graph {orphan}")
        for folder in folders - registered:
            shutil.rmtree(self.releases_dir / folder, ignore_errors=True)
            removed.append(f"releases/{folder}")
        return removed

    def _record(self, action: str, agent: str | None, info: ReleaseInfo, before: dict | None,
                after: dict | None) -> None:
        self._record_all(action, agent, [(info, before, after)])

    def _record_all(self, action: str, agent: str | None,
                    changes: list[tuple[ReleaseInfo, dict | None, dict | None]]) -> None:
        who = agent or local_agent()
        self.audit.append(*(
            AuditRecord(action=action, agent=who, release_id=info.id, url=info.url, version=info.version,
                        kind=info.kind, before=before, after=after)
            for info, before, after in changes))

    def load(self, release: Release, status: str | None = None, agent: str | None = None) -> ReleaseInfo:
        """Quality-check, compile and store ``release`` atomically; return its registry entry."""
        return self.load_many([release], status=status, agent=agent)[0]

    def load_many(self, releases: list[Release], status: str | None = None,
                  agent: str | None = None) -> list[ReleaseInfo]:
        """Store several releases in one pass (one lock, one RDF bulk load, one registry transaction).

        Every release passes the quality gate and is compiled before anything becomes visible; the releases
        then commit one after the other by folder renames (milliseconds). An interruption before the renames
        leaves no trace; one during them leaves the already-renamed releases complete and the rest absent.
        """
        if status is not None and status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        planned = [(release, release_id(release.url, release.version), enforce(release)) for release in releases]
        ids = [rid for _, rid, _ in planned]
        if len(set(ids)) != len(ids):
            raise ReleaseExists("the same canonical URL and version appears twice in this load")
        with self._write_lock():
            with self._rdf() as rdf:
                self._reconcile(rdf)
            for release, rid, _ in planned:
                if (self.releases_dir / rid).exists():
                    raise ReleaseExists(
                        f"{release.url} version {release.version} is already loaded (release {rid}); "
                        "remove it first with `smt remove`")
            work = self.tmp_dir / f"load.{os.getpid()}"
            work.mkdir()
            try:
                # Compiled artefacts (SQLite, tantivy) are built while the RDF graph is bulk-loaded: both
                # spend most of their time in native code, so they overlap on two cores.
                with ThreadPoolExecutor(max_workers=1) as pool, self._rdf() as rdf:
                    compiled = pool.submit(self._compile_all, planned, status, work)
                    rdf.write_releases([(release, rid) for release, rid, _ in planned], work)
                    rdf.register(compiled.result())
                os.sync()
                for rid in ids:
                    (work / rid).rename(self.releases_dir / rid)
            except BaseException:
                shutil.rmtree(work, ignore_errors=True)
                with self._rdf() as rdf:
                    for rid in ids:
                        if not (self.releases_dir / rid).exists():
                            rdf.drop_release(rid)
                raise
            shutil.rmtree(work, ignore_errors=True)
            infos = [self.get(rid) for rid in ids]
            self._record_all("create", agent, [(info, None, _summary(info)) for info in infos])
        return infos

    def _compile_all(self, planned: list[tuple[Release, str, list[str]]], status: str | None,
                     work: Path) -> str:
        """Compile each release into ``work/<id>`` with its manifest; return their registry N-Quads."""
        registry: list[str] = []
        for release, rid, warnings in planned:
            folder = work / rid
            folder.mkdir()
            compile_release(release, folder)
            loaded_at = datetime.now(UTC).isoformat(timespec="seconds")
            release_status = status or release.status
            manifest = {
                **release_meta(release),
                "id": rid,
                "status": release_status,
                "loaded_at": loaded_at,
                "warnings": warnings,
                "sources": [{"name": s.name, "sha256": s.sha256, "size": s.size} for s in release.sources],
            }
            _write_json_atomic(folder / MANIFEST, manifest, sync=False)  # synced once before the commit
            registry.append(registry_nquads(release, rid, release_status, loaded_at, warnings))
        return "".join(registry)

    def set_status(self, release: str, status: str, agent: str | None = None) -> ReleaseInfo:
        """Change a release's status (draft → active → retired) in the registry and its manifest."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        with self._write_lock():
            info = self.get(release)
            manifest = orjson.loads((info.path / MANIFEST).read_bytes())
            manifest["status"] = status
            with self._rdf() as rdf:
                rdf.set_status(info.id, status)
            _write_json_atomic(info.path / MANIFEST, manifest)
            self._touch()
            after = self.get(release)
            self._record("update", agent, after, _summary(info), _summary(after))
        return after

    def _touch(self) -> None:
        """Mark the release listing as changed so that running servers re-read it."""
        os.utime(self.releases_dir)

    def remove(self, release: str, agent: str | None = None) -> ReleaseInfo:
        """Delete a release: its folder first (it stops being served), then its graph and registry entry."""
        with self._write_lock():
            info = self.get(release)
            trash = self.tmp_dir / f"removed-{info.id}"
            info.path.rename(trash)
            with self._rdf() as rdf:
                rdf.drop_release(info.id)
            shutil.rmtree(trash, ignore_errors=True)
            self._record("delete", agent, info, _summary(info), None)
        return info
