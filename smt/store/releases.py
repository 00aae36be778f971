"""Release store: atomic loads, listing, status changes and removal of releases under ``SMT_HOME``.

Layout::

    SMT_HOME/oxigraph/            RDF store of record (one named graph per release + registry graph)
    SMT_HOME/releases/<id>/       compiled, relocatable release: manifest.json + the artefacts of its kind
    SMT_HOME/tmp/                 work folders of loads in progress
    SMT_HOME/generation           a counter bumped by every change to the set or status of releases
    SMT_HOME/write.lock           one writer at a time

The store keeps the record and the commit; it does not know how artefacts are built. A load runs the quality
gate, hands each release to the ``compile`` step it was given (``smt.compile``: the SQLite index, the search
index, the FHIR JSON…), which writes the artefacts into the release's work folder and answers their format
versions, written in the manifest. The RDF graph and registry entry are written, and the load commits by
renaming the folders into ``releases/`` then bumping ``generation``, which every reader (``Registry``) checks on
each listing: a change is seen by every process sharing ``SMT_HOME`` at its next request.

A release exists only when both its folder (with its manifest) and its registry entry exist; ``reconcile``
removes what a killed load left behind, so a partial release is never listed or served. Every load gets a new
release id (from its sources' checksums and the load time), so nothing keyed on an id (open indexes, download
files, ETags) can confuse two contents. A removed release's manifest is renamed ``removed.json``: it is no
longer listed, and its files stay for ``PURGE_AFTER`` seconds so that requests already reading them finish.
"""

from __future__ import annotations

import builtins  # ReleaseStore.list shadows the builtin in the class's annotations
import fcntl
import hashlib
import logging
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import orjson

from smt.allocation import bound_fragmentation, gc_paused, release_memory
from smt.errors import ArtefactOutdated, NotFound, ReleaseExists, SmtError
from smt.model import Release, release_meta
from smt.progress import SILENT, Progress
from smt.quality import enforce
from smt.security.audit import AuditLog, AuditRecord, local_agent
from smt.store.rdf import RdfStore, graph_omits, registry_nquads

log = logging.getLogger("smt.store")

MANIFEST = "manifest.json"
REMOVED = "removed.json"
INDEX = "index.sqlite"
RESOURCE = "resource.json"
GENERATION = "generation"
STATUSES = ("draft", "active", "retired")
BATCH_CONCEPTS = 20_000
"""Concepts of the releases whose graphs are written together: many small releases (NOS) in few bulk loads, a
large one (a CIM-10 year) alone, so that a streaming load holds about one large release in memory."""
PURGE_AFTER = 120.0
"""Seconds a removed (or replaced) release's files stay on disk for the requests still reading them."""

Compile = Callable[[Release, Path, Progress], dict[str, int]]
"""A compile step: writes a release's artefacts into a folder, answers ``{artefact name: format version}``."""


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
    artefacts: dict[str, int] = field(default_factory=dict)
    """Format version of each compiled artefact (``index``, ``search``, ``resource``…)."""
    sequence: int = 0
    """The store generation that committed it: of two releases of one url|version, the later one is served."""
    sample: bool = False
    """A bundled sample (``smt load-samples``): a real load of the same url|version replaces it."""
    modified: datetime = field(default_factory=lambda: datetime.fromtimestamp(0, UTC))
    """Last change of the manifest (load or status change), to the second: the HTTP ``Last-Modified``."""
    manifest: dict = field(default_factory=dict, repr=False)
    """The manifest as read (shared: do not mutate)."""

    @property
    def index_path(self) -> Path:
        return self.path / INDEX

    def require(self, artefact: str, version: int) -> None:
        """Raise ``ArtefactOutdated`` unless the release's ``artefact`` was compiled in format ``version``."""
        found = self.artefacts.get(artefact)
        if found != version:
            compiled = f"format {found}" if found is not None else "no format version (an older SMT)"
            raise ArtefactOutdated(
                f"release {self.id} ({self.url} version {self.version}) has its {artefact} artefact in {compiled}; "
                f"this SMT reads format {version}: run `smt recompile {self.id}`")

    def resource(self) -> dict:
        """The stored FHIR JSON of a value set or concept map release, parsed once (shared: do not mutate)."""
        self.require("resource", RESOURCE_FORMAT)
        return _parsed_resource(self.path / RESOURCE)


RESOURCE_FORMAT = 1
"""Format of ``resource.json`` (the FHIR R4 JSON of a value set or concept map, as loaded)."""


@lru_cache(maxsize=2048)
def _parsed_cached(path: Path, stamp: tuple[int, int]) -> dict:
    return orjson.loads(path.read_bytes())


def _parsed_resource(path: Path) -> dict:
    """A stored resource, parsed once per file state (releases are immutable)."""
    stat = path.stat()
    return _parsed_cached(path, (stat.st_mtime_ns, stat.st_size))


def new_release_id(release: Release) -> str:
    """A readable, filesystem-safe id, new for every load: the URL's tail and version, then a digest of the URL,
    version, the sources' checksums and the load time."""
    tail = release.url.rstrip("/").rsplit("/", 1)[-1] or "release"
    slug = re.sub(r"[^A-Za-z0-9]+", "-", f"{tail}-{release.version.rsplit('/', 1)[-1]}").strip("-").lower()[:60]
    sources = ",".join(s.sha256 for s in release.sources)
    seed = f"{release.url}|{release.version}|{sources}|{time.time_ns()}|{os.urandom(8).hex()}"
    return f"{slug}-{hashlib.sha256(seed.encode()).hexdigest()[:12]}"


def _write_json_atomic(path: Path, data: dict, sync: bool = True) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2))
    if sync:
        with tmp.open("rb") as handle:
            os.fsync(handle.fileno())
    tmp.replace(path)


def _read_manifest(folder: Path) -> ReleaseInfo | None:
    try:
        raw = (folder / MANIFEST).read_bytes()
        modified = datetime.fromtimestamp(int((folder / MANIFEST).stat().st_mtime), UTC)
        data = orjson.loads(raw)
    except (FileNotFoundError, NotADirectoryError, orjson.JSONDecodeError):
        return None
    return ReleaseInfo(
        id=folder.name, kind=data["kind"], url=data["url"], version=data["version"], status=data["status"],
        name=data.get("name", ""), title=data.get("title", ""), loaded_at=data["loaded_at"],
        count=data.get("count", 0), path=folder, stats=data.get("stats", {}),
        warnings=data.get("warnings", []), sources=data.get("sources", []), publisher=data.get("publisher"),
        oids=tuple(data.get("oids") or ()), artefacts=data.get("artefacts", {}), sequence=data.get("sequence", 0),
        sample=data.get("sample", False), modified=modified, manifest=data,
    )


def _latest_per_version(infos: list[ReleaseInfo]) -> list[ReleaseInfo]:
    """One release per url|version: the later committed one (two exist only while a replace commits)."""
    chosen: dict[tuple[str, str], ReleaseInfo] = {}
    for info in infos:
        key = (info.url.rstrip("/"), info.version)
        if key not in chosen or info.sequence > chosen[key].sequence:
            chosen[key] = info
    return list(chosen.values())


def _summary(info: ReleaseInfo) -> dict:
    """What an audit record keeps of a release's state."""
    return {"status": info.status, "count": info.count, "loaded_at": info.loaded_at,
            "sources": [s.get("sha256") for s in info.sources]}


@dataclass(slots=True)
class _Planned:
    """A release of a load in progress: its new id, what it replaces, its manifest and registry entry."""

    id: str
    url: str
    version: str
    replaces: ReleaseInfo | None
    manifest: dict = field(default_factory=dict)
    registry: str = ""


class ReleaseStore:
    """Write side of the store (used by the CLI and the write API) and release listing.

    ``compile`` is the step that builds the artefacts of a release (``smt.compile``); a store without one can
    list, change status and remove, not load.
    """

    def __init__(self, home: Path, compile: Compile | None = None) -> None:
        self.home = home
        self.releases_dir = home / "releases"
        self.tmp_dir = home / "tmp"
        self.rdf_dir = home / "oxigraph"
        self.compile = compile
        for folder in (self.releases_dir, self.tmp_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self.audit = AuditLog(home)

    # -- reading --------------------------------------------------------------------------------------------

    def state(self) -> tuple[bytes, int]:
        """What changes whenever the set or status of releases changes (cheap: one small read, one stat)."""
        try:
            generation = (self.home / GENERATION).read_bytes()
        except FileNotFoundError:
            generation = b""
        return generation, self.releases_dir.stat().st_mtime_ns

    def list(self) -> builtins.list[ReleaseInfo]:
        """Every complete release, ordered by URL then load time."""
        infos = [info for folder in self.releases_dir.iterdir() if (info := _read_manifest(folder))]
        return sorted(_latest_per_version(infos), key=lambda r: (r.url, r.loaded_at, r.sequence))

    def manifests(self) -> builtins.list[ReleaseInfo]:
        """Every release folder with a manifest, including one a replace is about to retire (``list`` shows only
        the later of two releases of one url|version)."""
        return self._all_manifests()

    def get(self, release: str) -> ReleaseInfo:
        """A release by id."""
        info = _read_manifest(self.releases_dir / release) if "/" not in release else None
        if info is None:
            raise NotFound(f"no release with id {release}")
        return info

    def find(self, url: str, version: str | None = None) -> builtins.list[ReleaseInfo]:
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

    def _generation(self) -> int:
        try:
            return int((self.home / GENERATION).read_bytes() or b"0")
        except (FileNotFoundError, ValueError):
            return 0

    def _bump(self) -> None:
        """Tell every reader that the releases changed (an atomic replace of the counter file)."""
        target = self.home / GENERATION
        tmp = target.with_name(f".{GENERATION}.{os.getpid()}")
        tmp.write_bytes(str(self._generation() + 1).encode())
        tmp.replace(target)

    def reconcile(self) -> builtins.list[str]:
        """Remove what interrupted loads left: temp folders, unregistered graphs, entries with no folder."""
        with self._write_lock(), self._rdf() as rdf:
            return self._reconcile(rdf)

    def _reconcile(self, rdf: RdfStore) -> builtins.list[str]:
        removed: builtins.list[str] = []
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
        listed = {info.id for info in _latest_per_version(self._all_manifests())}
        for superseded in (folders & registered) - listed:  # a replace killed between its two steps
            self._retire(self.get(superseded), rdf)
            removed.append(f"replaced release {superseded}")
        removed += self._purge()
        return removed

    def _all_manifests(self) -> builtins.list[ReleaseInfo]:
        return [info for folder in self.releases_dir.iterdir() if (info := _read_manifest(folder))]

    def purge(self) -> builtins.list[str]:
        """Delete what removed releases left once no request can still be reading it (``PURGE_AFTER``)."""
        return self._purge()

    def _purge(self) -> builtins.list[str]:
        """Delete the folders of releases removed more than ``PURGE_AFTER`` seconds ago, and stray folders."""
        purged = []
        now = time.time()
        for folder in self.releases_dir.iterdir():
            if (folder / MANIFEST).exists() or not folder.is_dir():
                continue
            try:
                age = now - (folder / REMOVED).stat().st_mtime
            except FileNotFoundError:
                age = now - folder.stat().st_mtime  # no manifest and no marker: not a release
            if age >= PURGE_AFTER:
                shutil.rmtree(folder, ignore_errors=True)
                purged.append(f"purged releases/{folder.name}")
        return purged

    def _retire(self, info: ReleaseInfo, rdf: RdfStore) -> None:
        """Stop listing a release (its manifest becomes ``removed.json``), then drop its graph and entry."""
        (info.path / MANIFEST).rename(info.path / REMOVED)
        os.utime(info.path / REMOVED)
        rdf.drop_release(info.id)

    def _record(self, action: str, agent: str | None, info: ReleaseInfo, before: dict | None,
                after: dict | None, reason: str | None = None) -> None:
        self._record_all(action, agent, [(info, before, after)], reason)

    def _record_all(self, action: str, agent: str | None,
                    changes: builtins.list[tuple[ReleaseInfo, dict | None, dict | None]],
                    reason: str | None = None) -> None:
        who = agent or local_agent()
        self.audit.append(*(
            AuditRecord(action=action, agent=who, release_id=info.id, url=info.url, version=info.version,
                        kind=info.kind, before=before, after=after, reason=reason)
            for info, before, after in changes))

    def load(self, release: Release, status: str | None = None, agent: str | None = None, *,
             replace: bool = False, sample: bool = False) -> ReleaseInfo:
        """Quality-check, compile and store ``release`` atomically; return its registry entry."""
        return self.load_many([release], status=status, agent=agent, replace=replace, sample=sample)[0]

    def load_many(self, releases: Iterable[Release], status: str | None = None, agent: str | None = None, *,
                  replace: bool = False, sample: bool = False,
                  progress: Progress = SILENT) -> builtins.list[ReleaseInfo]:
        """Store several releases in one pass (one lock, one registry transaction), holding at most about
        ``BATCH_CONCEPTS`` concepts in memory when ``releases`` is an iterator (a loader streaming a multi-year
        file): small releases are written to the RDF store together, a large one on its own.

        Each release passes the quality gate and is compiled into the work folder (in a thread, while the RDF
        graphs of its batch are written); graphs are written unregistered, so invisible. Nothing becomes visible
        until all are done: the releases then commit by folder renames (milliseconds), then the store generation
        is bumped. An interruption before the renames leaves no trace; one during them leaves the
        already-renamed releases complete and the rest absent.

        A url|version already stored is refused, unless ``replace`` (or the stored one is a sample and this load
        is not): the stored release is then answered until the new one commits, and removed right after.
        """
        if status is not None and status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        if self.compile is None:
            raise SmtError("this store was opened without a compile step: it cannot load releases")
        bound_fragmentation()
        with self._write_lock():
            with self._rdf() as rdf:
                self._reconcile(rdf)
            stored = {(r.url.rstrip("/"), r.version): r for r in self.list()}
            work = self.tmp_dir / f"load.{os.getpid()}"
            work.mkdir()
            planned: builtins.list[_Planned] = []
            try:
                # Compiled artefacts (SQLite, tantivy) are built while the RDF graphs are written: both spend
                # most of their time in native code, so they overlap on two cores.
                sequence = self._generation() + 1
                with gc_paused(), ThreadPoolExecutor(max_workers=1) as pool:
                    batch: builtins.list[tuple[Release, _Planned]] = []
                    compiled: builtins.list[Future[None]] = []
                    for release in releases:
                        item = self._plan(release, stored, planned, status=status, replace=replace,
                                          sample=sample, sequence=sequence, progress=progress)
                        planned.append(item)
                        compiled.append(pool.submit(self._compile_one, release, item, work, progress))
                        batch.append((release, item))
                        del release
                        if sum(_size(r) for r, _ in batch) >= BATCH_CONCEPTS:
                            self._write_graphs(batch, compiled, progress)
                    self._write_graphs(batch, compiled, progress)
                with self._rdf() as rdf:
                    rdf.register("".join(p.registry for p in planned))
                os.sync()
                infos = [_read_manifest(work / p.id) for p in planned]
                self._record_all("create", agent, [(info, None, _summary(info)) for info in infos if info])
                for item in planned:
                    (work / item.id).rename(self.releases_dir / item.id)
            except BaseException:
                self._abandon(work, [p.id for p in planned])
                raise
            shutil.rmtree(work, ignore_errors=True)
            replaced = [p.replaces for p in planned if p.replaces is not None]
            if replaced:
                with self._rdf() as rdf:
                    for old in replaced:
                        self._retire(old, rdf)
                self._record_all("delete", agent, [(old, _summary(old), None) for old in replaced])
            self._bump()
            return [self.get(p.id) for p in planned]

    def _plan(self, release: Release, stored: dict[tuple[str, str], ReleaseInfo], planned: builtins.list[_Planned], *,
              status: str | None, replace: bool, sample: bool, sequence: int, progress: Progress) -> _Planned:
        """Check one release (identity, quality gate) and write down its manifest and registry entry."""
        label = _label(release)
        key = (release.url.rstrip("/"), release.version)
        if any((p.url, p.version) == key for p in planned):
            raise ReleaseExists(f"{release.url} version {release.version} appears twice in this load")
        existing = stored.get(key)
        if existing is not None and not (replace or (existing.sample and not sample)):
            raise ReleaseExists(
                f"{release.url} version {release.version} is already loaded (release {existing.id}); "
                "remove it first with `smt remove`, or load with --replace")
        gate = progress.phase(f"{label}: quality gate", _size(release))
        warnings = enforce(release)
        gate.advance(_size(release))
        gate.finish()
        item = _Planned(new_release_id(release), key[0], release.version, existing)
        loaded_at = datetime.now(UTC).isoformat(timespec="seconds")
        release_status = status or release.status
        item.manifest = {
            **release_meta(release),
            "id": item.id,
            "status": release_status,
            "loaded_at": loaded_at,
            "warnings": warnings,
            "sources": [{"name": s.name, "sha256": s.sha256, "size": s.size} for s in release.sources],
            "graph_omits": graph_omits(release),
            "sequence": sequence,
            **({"sample": True} if sample else {}),
            **({"replaces": existing.id} if existing is not None else {}),
        }
        item.registry = registry_nquads(release, item.id, release_status, loaded_at, warnings)
        return item

    def _compile_one(self, release: Release, item: _Planned, work: Path, progress: Progress) -> None:
        """Build a release's artefacts in ``work/<id>`` and write its manifest (run in the compile thread)."""
        assert self.compile is not None
        folder = work / item.id
        folder.mkdir()
        artefacts = self.compile(release, folder, progress)
        manifest = {**item.manifest, "artefacts": artefacts}
        _write_json_atomic(folder / MANIFEST, manifest, sync=False)  # synced once before the commit

    def _write_graphs(self, batch: builtins.list[tuple[Release, _Planned]],
                      compiled: builtins.list[Future[None]], progress: Progress) -> None:
        """Write the (unregistered) graphs of ``batch`` while its artefacts compile, then let it go: the RDF
        handle (RocksDB's caches go with it) and the releases' memory."""
        if not batch:
            return
        label = _label(batch[0][0]) if len(batch) == 1 else f"{len(batch)} releases"
        with self._rdf() as rdf:
            rdf.write_releases([(release, item.id) for release, item in batch], progress, f"{label}: ")
        for future in compiled:
            future.result()
        batch.clear()
        compiled.clear()
        release_memory()  # before the next release is built

    def _abandon(self, work: Path, ids: builtins.list[str]) -> None:
        """Undo an interrupted load: its work folder, and the graphs of releases not committed."""
        shutil.rmtree(work, ignore_errors=True)
        try:
            with self._rdf() as rdf:
                for rid in ids:
                    if not (self.releases_dir / rid).exists():
                        rdf.drop_release(rid)
        except Exception:  # the original error is the one to report; the next write's reconcile finishes this
            log.debug("could not drop the graphs of an interrupted load yet", exc_info=True)

    def set_status(self, release: str, status: str, agent: str | None = None,
                   reason: str | None = None) -> ReleaseInfo:
        """Change a release's status (draft → active → retired) in the registry and its manifest; ``reason``
        is kept in the audit record."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        with self._write_lock():
            info = self.get(release)
            manifest = orjson.loads((info.path / MANIFEST).read_bytes())
            manifest["status"] = status
            with self._rdf() as rdf:
                rdf.set_status(info.id, status)
            _write_json_atomic(info.path / MANIFEST, manifest)
            self._bump()
            after = self.get(release)
            self._record("update", agent, after, _summary(info), _summary(after), reason)
        return after

    def remove(self, release: str, agent: str | None = None) -> ReleaseInfo:
        """Remove a release: it stops being listed, then its graph and registry entry go; its files are
        deleted ``PURGE_AFTER`` seconds later (by a later write), once the requests reading them are done."""
        with self._write_lock():
            info = self.get(release)
            with self._rdf() as rdf:
                self._retire(info, rdf)
            self._bump()
            self._record("delete", agent, info, _summary(info), None)
            with suppress(OSError):
                self._purge()
        return info

    def recompile(self, release: str, read: Callable[[ReleaseInfo, RdfStore], Release], agent: str | None = None,
                  progress: Progress = SILENT) -> ReleaseInfo:
        """Rebuild a stored release's artefacts with this store's compile step, from ``read(info, rdf)`` (the
        release as the store of record holds it, ``smt.store.graph_read``). The new folder replaces the old one
        by two renames; the release keeps its id, content, status and load time."""
        if self.compile is None:
            raise SmtError("this store was opened without a compile step: it cannot recompile releases")
        with self._write_lock():
            info = self.get(release)
            with self._rdf() as rdf:
                model = read(info, rdf)
            work = self.tmp_dir / f"recompile.{os.getpid()}"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir()
            try:
                folder = work / info.id
                folder.mkdir()
                with gc_paused():
                    artefacts = self.compile(model, folder, progress)
                manifest = {**info.manifest, "artefacts": artefacts, "recompiled_at":
                            datetime.now(UTC).isoformat(timespec="seconds")}
                _write_json_atomic(folder / MANIFEST, manifest)
                old = self.tmp_dir / f"replaced.{info.id}"
                info.path.rename(old)
                folder.rename(info.path)
            finally:
                shutil.rmtree(work, ignore_errors=True)
            self._bump()
            after = self.get(release)
            self._record("update", agent, after, _summary(info), {**_summary(after), "artefacts": artefacts})
        return after


def _label(release: Release) -> str:
    return f"{release.url.rstrip('/').rsplit('/', 1)[-1]} {release.version}"


def _size(release: Release) -> int:
    """Rows of a release for progress: its concepts (a value set or concept map counts as one)."""
    concepts = getattr(release, "concepts", None)
    return len(concepts) if concepts is not None else 1
