"""Audit trail: one append-only JSON line per write (who, when, what, before/after) under ``SMT_HOME``."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson

AUDIT_FILE = "audit.jsonl"


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One write: ``action`` is create, update or delete; ``before``/``after`` summarise the release;
    ``reason`` is the curator's (publish or retire with a reason)."""

    action: str
    agent: str
    release_id: str
    url: str
    version: str
    kind: str
    before: dict | None = None
    after: dict | None = None
    reason: str | None = None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    recorded: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))


class AuditLog:
    """Append-only log file; each record is flushed and fsynced before the write is reported done."""

    def __init__(self, home: Path) -> None:
        self.path = home / AUDIT_FILE

    def append(self, *records: AuditRecord) -> None:
        lines = b"".join(orjson.dumps(asdict(record)) + b"\n" for record in records)
        with self.path.open("ab") as handle:
            handle.write(lines)
            handle.flush()
            os.fsync(handle.fileno())

    def records(self) -> Iterator[AuditRecord]:
        """Every record, oldest first."""
        if not self.path.exists():
            return
        with self.path.open("rb") as handle:
            for line in handle:
                if line.strip():
                    yield AuditRecord(**orjson.loads(line))

    def get(self, record_id: str) -> AuditRecord | None:
        return next((r for r in self.records() if r.id == record_id), None)


def local_agent() -> str:
    """The agent name of a write made on this machine (CLI)."""
    try:
        return f"cli:{os.getlogin()}"
    except OSError:
        return f"cli:uid-{os.getuid()}"
