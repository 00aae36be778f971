"""The shared registry in PostgreSQL (``SMT_DATABASE_URL``): connections, migrations, reads and the change channel.

Migrations are the plain SQL files of ``smt/cluster/migrations`` (``NNNN_name.sql``), applied in order, each in
its own transaction, under an advisory lock (several processes may start at once); ``smt_migration`` records the
applied ones. Every change to the set or status of releases runs in one transaction that bumps
``smt_generation`` and sends ``NOTIFY smt_releases, '<generation>'`` (delivered at commit).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

DATABASE_URL = "SMT_DATABASE_URL"
CHANNEL = "smt_releases"
_MIGRATION_LOCK = 0x534D54  # "SMT": pg_advisory_lock key of migrations
PUBLISH_LOCK = 0x534D5450  # "SMTP": one publisher at a time
CONNECT_TIMEOUT = 5


def database_url() -> str | None:
    """The shared registry's connection URL, or None (the embedded registry of one machine)."""
    return os.environ.get(DATABASE_URL) or None


def connect(url: str, *, autocommit: bool = False) -> psycopg.Connection[dict[str, Any]]:
    """A connection answering rows as dicts (raises ``psycopg.OperationalError`` when PostgreSQL is not there)."""
    return psycopg.connect(url, autocommit=autocommit, row_factory=dict_row, connect_timeout=CONNECT_TIMEOUT,
                           application_name="smt")


def migrations() -> list[tuple[str, str]]:
    """(name, SQL) of every migration shipped with this SMT, in order."""
    folder = resources.files("smt.cluster") / "migrations"
    files = sorted(item.name for item in folder.iterdir() if item.name.endswith(".sql"))
    return [(name.removesuffix(".sql"), (folder / name).read_text(encoding="utf-8")) for name in files]


def migrate(url: str) -> list[str]:
    """Apply the migrations this database lacks; answer their names."""
    applied: list[str] = []
    with connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
        try:
            conn.execute("CREATE TABLE IF NOT EXISTS smt_migration (name text PRIMARY KEY, "
                         "applied_at timestamptz NOT NULL DEFAULT now())")
            done = {row["name"] for row in conn.execute("SELECT name FROM smt_migration")}
            for name, sql in migrations():
                if name in done:
                    continue
                with conn.transaction():
                    conn.execute(sql.encode())
                    conn.execute("INSERT INTO smt_migration (name) VALUES (%s)", (name,))
                applied.append(name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))
    return applied


@dataclass(frozen=True, slots=True)
class PublishedRelease:
    """A release as the shared registry lists it."""

    id: str
    kind: str
    url: str
    version: str
    status: str
    checksum: str
    size: int
    artefacts: dict[str, int]
    manifest: dict
    modified: float


def generation(conn: psycopg.Connection[dict[str, Any]]) -> int:
    row = conn.execute("SELECT generation FROM smt_generation").fetchone()
    return int(row["generation"]) if row else 0


def releases_in(conn: psycopg.Connection[dict[str, Any]]) -> tuple[int, list[PublishedRelease]]:
    """The generation and the releases it lists, in the caller's transaction."""
    number = generation(conn)
    rows = conn.execute("SELECT id, kind, url, version, status, checksum, size, artefacts, manifest, modified "
                        "FROM smt_release ORDER BY url, version, id").fetchall()
    return number, [PublishedRelease(**row) for row in rows]


def releases(conn: psycopg.Connection[dict[str, Any]]) -> tuple[int, list[PublishedRelease]]:
    """The generation and the releases it lists, read in one snapshot."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        return releases_in(conn)


def bump(conn: psycopg.Connection[dict[str, Any]]) -> int:
    """Bump the generation and announce it (inside the caller's transaction: sent at commit)."""
    row = conn.execute("UPDATE smt_generation SET generation = generation + 1, changed_at = now() "
                       "RETURNING generation").fetchone()
    number = int(row["generation"]) if row else 0
    conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(number)))
    return number


def upsert_release(conn: psycopg.Connection[dict[str, Any]], release: PublishedRelease) -> None:
    conn.execute(
        "INSERT INTO smt_release (id, kind, url, version, status, checksum, size, artefacts, manifest, modified) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, "
        "checksum = EXCLUDED.checksum, size = EXCLUDED.size, artefacts = EXCLUDED.artefacts, "
        "manifest = EXCLUDED.manifest, modified = EXCLUDED.modified, published_at = now()",
        (release.id, release.kind, release.url, release.version, release.status, release.checksum, release.size,
         Jsonb(release.artefacts), Jsonb(release.manifest), release.modified))


def delete_releases(conn: psycopg.Connection[dict[str, Any]], ids: list[str]) -> None:
    conn.execute("DELETE FROM smt_release WHERE id = ANY(%s)", (ids,))
