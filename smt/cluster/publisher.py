"""The writer's side: make the shared registry list what the store of record lists, with content addresses.

``publish`` compares the store's releases with the registry's rows and, in one transaction (one publisher at a
time: an advisory lock), packs the new or recompiled ones (``smt.cluster.archive``), inserts, updates and deletes
rows, copies the audit records written since the last publication, and bumps the generation (``NOTIFY``) when
something changed. With an object store (``SMT_ARTEFACT_STORE``, ``smt.cluster.objects``) every live archive is
put there too, before its row is committed. It is idempotent: the CLI calls it after each write, the writer server
whenever its store's generation moves (a load made without ``SMT_DATABASE_URL`` is published too), and at its start.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import orjson
import psycopg
from psycopg.types.json import Jsonb

from smt.cluster import database
from smt.cluster.archive import ARTEFACTS_DIR, archive_path, pack
from smt.cluster.objects import ObjectStore, ObjectStoreError
from smt.security.audit import AUDIT_FILE, AuditRecord
from smt.store.releases import MANIFEST, PURGE_AFTER, ReleaseInfo, ReleaseStore

log = logging.getLogger("smt.cluster")
AUDIT_OFFSET = "audit.offset"
"""Bytes of the local audit file already copied to the registry (under ``artefacts/``)."""
WATCH_INTERVAL = 0.2
"""Seconds between two looks of the writer server at its store's generation (one small read and one stat)."""


def _content(manifest: dict) -> dict:
    """What a release's archive depends on: its manifest but the status (a status change moves no files)."""
    return {key: value for key, value in manifest.items() if key != "status"}


def _published(info: ReleaseInfo, checksum: str, size: int) -> database.PublishedRelease:
    return database.PublishedRelease(
        id=info.id, kind=info.kind, url=info.url, version=info.version, status=info.status, checksum=checksum,
        size=size, artefacts=dict(info.artefacts), manifest=info.manifest,
        modified=(info.path / MANIFEST).stat().st_mtime)


def publish(store: ReleaseStore, url: str, objects: ObjectStore | None = None) -> int | None:
    """Bring the registry at ``url`` to the store's releases; answer the new generation, or None if unchanged.
    With an object store, every live archive is put there before its row is committed."""
    artefacts = store.home / ARTEFACTS_DIR
    with database.connect(url) as conn, conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (database.PUBLISH_LOCK,))
        _, rows = database.releases_in(conn)
        known = {row.id: row for row in rows}
        local = store.list()
        changed = False
        for info in local:
            row = known.get(info.id)
            if row is not None and _content(row.manifest) == _content(info.manifest):
                _mirror(objects, artefacts, row.checksum)
                if row.status != info.status:
                    database.upsert_release(conn, _published(info, row.checksum, row.size))
                    changed = True
                continue
            checksum, size = pack(info.path, artefacts)  # new, or recompiled (new artefacts, same id)
            _mirror(objects, artefacts, checksum)
            database.upsert_release(conn, _published(info, checksum, size))
            changed = True
        gone = sorted(set(known) - {info.id for info in local})
        if gone:
            database.delete_releases(conn, gone)
            changed = True
        _copy_audit(conn, store.home, artefacts)
        number = database.bump(conn) if changed else None
        live = set(_checksums(conn))
    _prune(artefacts, live)
    return number


def _mirror(objects: ObjectStore | None, artefacts: Path, checksum: str) -> None:
    """Put the archive of ``checksum`` in the object store if it is not there. A failure is logged, not raised:
    replicas then fetch that archive from the writer, and the next publication tries again."""
    path = archive_path(artefacts, checksum)
    if objects is None or path is None:
        return
    try:
        if objects.upload(path, checksum):
            log.info("archive %s put in the object store", checksum)
    except ObjectStoreError as exc:
        log.warning("the object store did not take the archive (replicas will fetch it from the writer): %s", exc)


def _checksums(conn: psycopg.Connection[dict[str, Any]]) -> list[str]:
    return [row["checksum"] for row in conn.execute("SELECT checksum FROM smt_release")]


def _copy_audit(conn: psycopg.Connection[dict[str, Any]], home: Path, artefacts: Path) -> None:
    """Insert the audit records appended to the local trail since the last copy (each once: by id)."""
    source = home / AUDIT_FILE
    marker = artefacts / AUDIT_OFFSET
    try:
        offset = int(marker.read_text())
    except (FileNotFoundError, ValueError):
        offset = 0
    try:
        with source.open("rb") as handle:
            if handle.seek(0, 2) < offset:  # a new trail: copy it from the start
                offset = 0
            handle.seek(offset)
            data = handle.read()
    except FileNotFoundError:
        return
    complete = data[:data.rfind(b"\n") + 1]
    records = [AuditRecord(**orjson.loads(line)) for line in complete.splitlines() if line.strip()]
    if records:
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO smt_audit (id, recorded, action, agent, release_id, url, version, kind, before, after) "
                "VALUES (%(id)s, %(recorded)s, %(action)s, %(agent)s, %(release_id)s, %(url)s, %(version)s, "
                "%(kind)s, %(before)s, %(after)s) ON CONFLICT (id) DO NOTHING",
                [{**asdict(r), "before": Jsonb(r.before), "after": Jsonb(r.after)} for r in records])
    artefacts.mkdir(parents=True, exist_ok=True)
    marker.write_text(str(offset + len(complete)))


def _prune(artefacts: Path, live: set[str]) -> None:
    """Delete archives no release points to any more, once a replica still fetching one has had the time to."""
    now = time.time()
    for path in artefacts.glob("*.tar"):
        if path.stem not in live and now - path.stat().st_mtime >= PURGE_AFTER:
            path.unlink(missing_ok=True)


class Publisher:
    """The writer server's publication loop: publish at start, then whenever the store's generation moves."""

    def __init__(self, store: ReleaseStore, url: str, objects: ObjectStore | None = None) -> None:
        self.store = store
        self.url = url
        self.objects = objects
        self.generation: int | None = None
        """The registry generation of the last publication (None before the first succeeds)."""
        self.error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="smt-publisher", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    @property
    def in_sync(self) -> bool:
        return self.error is None and self.generation is not None

    def _run(self) -> None:
        published_state: tuple[bytes, int] | None = None
        migrated = False
        while not self._stop.is_set():
            state = self.store.state()
            if state != published_state:
                try:
                    if not migrated:  # PostgreSQL may come up after the writer
                        database.migrate(self.url)
                        migrated = True
                    number = publish(self.store, self.url, self.objects)
                    if number is not None or self.generation is None:
                        with database.connect(self.url) as conn:
                            self.generation = database.generation(conn)
                    published_state, self.error = state, None
                except (psycopg.Error, OSError) as exc:  # PostgreSQL away, a folder renamed while packed: retry
                    self.error = f"{type(exc).__name__}: {exc}"
                    log.warning("publication to the shared registry failed, retrying: %s", self.error)
                    self._stop.wait(1.0)
            self._stop.wait(WATCH_INTERVAL)
