"""Roles of a server in a cluster (``smt serve --role``; docs/scale-out.md).

- ``single`` (the default, ``make run``): one process over its store, nothing shared.
- ``writer``: the single server, plus the publication of its store to the shared registry (``SMT_DATABASE_URL``)
  and ``GET /cluster/artefacts/{checksum}``, the release archives replicas fetch.
- ``replica``: read-only over release folders kept in sync with the registry (``smt.cluster.replica``); no RDF
  store. Writes answer 405 and the routes that read the RDF store (SPARQL, linked data) or the audit trail answer
  421, each with an OperationOutcome naming the writer (a load balancer sends those to the writer).
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse
from fastapi.routing import APIRoute

from fhir_api.error_docs import outcome_responses
from fhir_api.errors import FhirError
from smt.cluster.archive import ARTEFACTS_DIR, archive_path
from smt.cluster.database import DATABASE_URL, database_url
from smt.cluster.objects import ObjectStore
from smt.cluster.publisher import Publisher
from smt.cluster.replica import WRITER_URL, ReplicaSync, read_state
from smt.errors import SmtError

ROLE = "SMT_ROLE"
ROLES = ("single", "writer", "replica")

artefacts = APIRouter(tags=["cluster"])


@artefacts.get("/cluster/artefacts/{checksum}", responses=outcome_responses(404))
def artefact(checksum: str, request: Request) -> FileResponse:
    """The archive of a release, by its SHA-256 (what a replica fetches, then verifies)."""
    path = archive_path(request.app.state.registry.store.home / ARTEFACTS_DIR, checksum)
    if path is None:
        raise FhirError(404, "not-found", f"no release archive with checksum {checksum}")
    return FileResponse(path, media_type="application/x-tar", headers={"Cache-Control": "public, immutable"})


def refusing(router: APIRouter, status: int, text: str, methods: set[str] | None = None) -> APIRouter:
    """The routes of ``router`` (same paths and methods; only ``methods`` when given), each answering ``status``
    with ``text``."""
    refusals = APIRouter()

    async def refuse() -> None:
        raise FhirError(status, "not-supported", text)

    for route in router.routes:
        if not isinstance(route, APIRoute):
            continue
        chosen = (route.methods or set()) & methods if methods is not None else route.methods or set()
        if chosen:
            refusals.add_api_route(route.path, refuse, methods=sorted(chosen),
                                   name=f"replica_{route.name}", include_in_schema=False)
    return refusals


def role() -> str:
    """This server's role (``SMT_ROLE``, set by ``smt serve --role``)."""
    name = os.environ.get(ROLE) or "single"
    if name not in ROLES:
        raise SmtError(f"{ROLE}={name}: the role must be one of {', '.join(ROLES)}")
    return name


@dataclass(slots=True)
class Node:
    """What a writer or replica runs beside the API: its publisher or sync thread, and its health."""

    role: str
    home: Path
    publisher: Publisher | None = None
    sync: ReplicaSync | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def start(self) -> None:
        if self.publisher is not None:
            self.publisher.start()
        if self.sync is not None:
            self.sync.start()

    def stop(self) -> None:
        if self.publisher is not None:
            self.publisher.stop()
        if self.sync is not None:
            self.sync.stop()

    def health(self) -> tuple[bool, dict[str, Any]]:
        """Whether the node may take traffic, and what ``/health`` says of its sync."""
        if self.publisher is not None:
            return True, {"role": self.role, "registry_generation": self.publisher.generation,
                          "in_sync": self.publisher.in_sync, "error": self.publisher.error}
        state = read_state(self.home)  # written by the syncing worker process of this replica
        return state.healthy(time.time()), {
            "role": self.role, "generation": state.generation, "registry_generation": state.registry_generation,
            "in_sync": state.in_sync, "registry_reachable": bool(state.registry_reachable), "error": state.error}


def node(name: str, home: Path, store: Any) -> Node | None:
    """The cluster node of role ``name`` over ``home`` (``store``: the writer's release store), None if single."""
    if name == "single":
        return None
    url = database_url()
    if url is None:
        raise SmtError(f"the {name} role needs the shared registry: set {DATABASE_URL}")
    if name == "writer":
        return Node(name, home, publisher=Publisher(store, url, ObjectStore.from_env()))
    writer = os.environ.get(WRITER_URL)
    if not writer:
        raise SmtError(f"a replica fetches releases from the writer: set {WRITER_URL}")
    return Node(name, home, sync=ReplicaSync(home, url, writer, ObjectStore.from_env()))


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the node's thread with the server, stop it with the server."""
    running: Node | None = getattr(app.state, "node", None)
    if running is not None:
        running.start()
    try:
        yield
    finally:
        if running is not None:
            running.stop()
