"""A read replica's side: keep the local release folders equal to what the shared registry lists.

The replica's ``SMT_HOME`` holds release folders exactly as the writer's do (the engines read them the same way)
and no RDF store. A sync thread listens on the registry's channel (``LISTEN smt_releases``) and also reads the
generation every ``POLL`` seconds and after every reconnection, so a lost notification or a restart only delays
it. When the generation moved it reads the registry and, for each release:

- new (or recompiled: another checksum): fetches its archive — from the S3-compatible object store when
  ``SMT_ARTEFACT_STORE`` is set (``smt.cluster.objects``), else (or when the object is absent or refused) from
  ``GET {writer}/cluster/artefacts/{checksum}`` — checks the bytes against the checksum, unpacks them into
  ``tmp/`` and renames the folder into ``releases/`` (atomic);
- status changed: rewrites the manifest (an atomic replace);
- gone from the registry: renames its manifest ``removed.json`` (no longer listed; its files are deleted
  ``PURGE_AFTER`` seconds later, when requests still reading them are done),

then writes the registry's generation into the local ``generation`` file, which every request's listing checks
(``smt.releases.registry``). A replica started on an empty folder catches up from the registry alone.

The sync state is written to ``replica.json`` (every worker process of the replica answers ``/health`` from it);
one worker syncs, chosen by a file lock.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

import orjson
import psycopg

from smt.cluster import database
from smt.cluster.archive import ArchiveError, receive
from smt.cluster.objects import ObjectStore, ObjectStoreError
from smt.store.releases import GENERATION, MANIFEST, REMOVED, ReleaseStore

log = logging.getLogger("smt.cluster")
WRITER_URL = "SMT_WRITER_URL"
POLL = 1.0
"""Seconds between two reads of the registry's generation when no notification came."""
MAX_LAG = 30.0
"""Seconds a replica may stay behind the registry (fetching a large release) and still be healthy."""
STATE_FILE = "replica.json"
CHECKSUM_FILE = ".smt-checksum"
"""In each release folder of a replica: the checksum of the archive it was unpacked from."""
FETCH_TIMEOUT = 60


@dataclass(slots=True)
class SyncState:
    """What ``/health`` reports: the generation served, the registry's, and since when the replica is behind."""

    generation: int | None = None
    registry_generation: int | None = None
    behind_since: float | None = None
    registry_reachable: bool | None = None
    """None until the registry was reached once since the replica started."""
    writer_reachable: bool = True
    """False while the writer does not answer: every replica is then equally behind."""
    error: str | None = None
    checked_at: float = 0.0

    @property
    def in_sync(self) -> bool:
        return self.generation is not None and self.generation == self.registry_generation

    def healthy(self, now: float) -> bool:
        """Serving: the registry was read since the start and a sync completed, and the replica is in sync or not
        behind for long. With the registry unreachable, or the writer (every replica is then as far behind), it
        serves the last generation it applied: better than no answer at all."""
        if self.generation is None or self.registry_reachable is None:
            return False
        if self.in_sync or not self.registry_reachable or not self.writer_reachable:
            return True
        return self.behind_since is None or now - self.behind_since < MAX_LAG


def read_state(home: Path) -> SyncState:
    try:
        return SyncState(**orjson.loads((home / STATE_FILE).read_bytes()))
    except (FileNotFoundError, orjson.JSONDecodeError, TypeError):
        return SyncState()


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


class ReplicaSync:
    """Keeps ``home`` equal to the registry at ``url``, fetching archives from ``objects`` (an S3-compatible store,
    when configured) or else from ``writer``."""

    def __init__(self, home: Path, url: str, writer: str, objects: ObjectStore | None = None) -> None:
        self.home = home
        self.url = url
        self.writer = writer.rstrip("/")
        self.objects = objects
        self.store = ReleaseStore(home)
        self.state = SyncState(generation=read_state(home).generation)  # what the folders hold; the rest unknown
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="smt-replica-sync", daemon=True)
        self._lock: IO[bytes] | None = None

    # -- the loop -------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Sync in a thread, unless another worker process of this replica does already."""
        handle = (self.home / "sync.lock").open("wb")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return
        self._lock = handle
        self._record()  # the state of a previous run is not this one's
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        if self._lock is not None:
            self._lock.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with database.connect(self.url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {database.CHANNEL}")
                    while not self._stop.is_set():
                        self.sync(conn)
                        for _ in conn.notifies(timeout=POLL, stop_after=1):
                            pass
            except psycopg.Error as exc:  # PostgreSQL away: serve what we have, reconnect, then read the state
                reached = False if self.state.registry_reachable is not None else None
                self._record(registry_reachable=reached, error=f"registry: {type(exc).__name__}: {exc}".strip())
                self._stop.wait(POLL)

    def _record(self, **changes: Any) -> None:
        for name, value in changes.items():
            setattr(self.state, name, value)
        self.state.checked_at = time.time()
        _write_atomic(self.home / STATE_FILE, orjson.dumps(asdict(self.state)))

    # -- one sync -------------------------------------------------------------------------------------------

    def sync(self, conn: psycopg.Connection[dict[str, Any]]) -> None:
        """Read the registry; apply it if its generation is not the one served."""
        number = database.generation(conn)
        behind = None if number == self.state.generation else (self.state.behind_since or time.time())
        self._record(registry_generation=number, registry_reachable=True, behind_since=behind)
        if number == self.state.generation:
            self._record(error=None)
            return
        number, rows = database.releases(conn)
        try:
            self.apply(rows)
        except (ArchiveError, OSError, urllib.error.URLError) as exc:  # the writer away, a bad archive: retry
            away = isinstance(exc, urllib.error.URLError | ConnectionError | TimeoutError) and not isinstance(
                exc, urllib.error.HTTPError)
            self._record(registry_generation=number, writer_reachable=not away,
                         error=f"fetch: {type(exc).__name__}: {exc}")
            log.warning("replica sync failed, retrying: %s", self.state.error)
            self._stop.wait(POLL)
            return
        _write_atomic(self.home / GENERATION, str(number).encode())
        self._record(generation=number, registry_generation=number, behind_since=None, error=None,
                     writer_reachable=True)

    def apply(self, rows: list[database.PublishedRelease]) -> None:
        """Make the local release folders those of ``rows``."""
        local = {info.id: info for info in self.store.manifests()}
        for row in rows:
            info = local.get(row.id)
            if info is None or _checksum(info.path) != row.checksum:
                self._install(row)
            elif info.status != row.status:
                _set_status(info.path, row)
        for gone in set(local) - {row.id for row in rows}:
            folder = local[gone].path
            (folder / MANIFEST).rename(folder / REMOVED)
            os.utime(folder / REMOVED)
        self.store.purge()

    def _install(self, row: database.PublishedRelease) -> None:
        """Fetch, verify and unpack a release's archive, then rename it into place."""
        work = self.store.tmp_dir / f"fetch.{os.getpid()}.{row.id}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        try:
            folder = work / row.id
            missed = self._from_objects(row.checksum, folder)
            if missed is not None:
                try:
                    receive(self._download(row.checksum), row.checksum, folder)
                except (ArchiveError, OSError) as exc:
                    if self.objects is None:
                        raise
                    raise ArchiveError(f"object store: {missed}; writer: {type(exc).__name__}: {exc}") from exc
            (folder / CHECKSUM_FILE).write_text(row.checksum)
            _set_status(folder, row)
            target = self.store.releases_dir / row.id
            if target.exists():  # recompiled on the writer: the old folder goes aside, then away
                target.rename(work / "replaced")
            folder.rename(target)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _from_objects(self, checksum: str, folder: Path) -> str | None:
        """Unpack the archive of ``checksum`` from the object store into ``folder``: None when done, else why not
        (not configured, absent, unreachable, or bytes that do not match the checksum: refused). The writer is
        asked next."""
        if self.objects is None:
            return "not configured"
        try:
            chunks = self.objects.download(checksum)
            if chunks is None:
                log.info("archive %s is not in the object store: fetched from the writer", checksum)
                return "absent"
            receive(chunks, checksum, folder)
        except (ArchiveError, ObjectStoreError) as exc:
            log.warning("archive %s from the object store refused (%s): fetched from the writer", checksum, exc)
            return f"refused ({exc})"
        return None

    def _download(self, checksum: str) -> Iterator[bytes]:
        request = urllib.request.Request(f"{self.writer}/cluster/artefacts/{checksum}")
        with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:
            while chunk := response.read(1 << 20):
                yield chunk


def _checksum(folder: Path) -> str | None:
    try:
        return (folder / CHECKSUM_FILE).read_text().strip()
    except FileNotFoundError:
        return None


def _set_status(folder: Path, row: database.PublishedRelease) -> None:
    """The registry's status in the local manifest, with the writer's modification time (``Last-Modified``)."""
    manifest = orjson.loads((folder / MANIFEST).read_bytes())
    if manifest.get("status") != row.status:
        manifest["status"] = row.status
        _write_atomic(folder / MANIFEST, orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    os.utime(folder / MANIFEST, (row.modified, row.modified))
