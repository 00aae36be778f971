"""The FastAPI application: ``create_app(home)`` wires one registry, the routers and the error handlers.

Run with ``uvicorn --factory fhir_api.app:create_app`` (the store is ``SMT_HOME``).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

import smt
from fhir_api import (
    admin,
    audit,
    cluster,
    codesystem_ops,
    codesystem_read,
    health,
    impact,
    linked_data,
    metadata,
    releases,
    sparql,
    valueset,
)
from fhir_api.conceptmap import router as conceptmap_router
from fhir_api.error_docs import install_error_docs
from fhir_api.errors import install_error_handlers
from fhir_api.metrics import install_metrics
from fhir_api.search import router as search_router
from fhir_api.security import install_security
from fhir_api.svs import router as svs_router
from fhir_api.transport import install_transport
from fhir_api.ui import install_ui
from fhir_api.work import tune_interpreter
from smt.compile import writable_store
from smt.config import smt_home
from smt.releases.registry import Registry


def create_app(home: Path | None = None, role: str | None = None) -> FastAPI:
    """A FHIR R4 terminology API over the store at ``home`` (default ``smt_home()``), in ``role`` (default
    ``SMT_ROLE``, else single: see ``fhir_api.cluster``)."""
    home = home or smt_home()
    role = role or cluster.role()
    app = FastAPI(title="SMT FHIR terminology API", version=smt.__version__, docs_url=None,
                  redoc_url=None, lifespan=cluster.lifespan)
    tune_interpreter()  # the event loop's turn within 1 ms of a computing thread (fhir_api.work)
    app.state.registry = Registry(home)
    # the write routes' store, with this SMT's compile step; a replica has none (and no RDF store)
    app.state.writer = writable_store(home) if role != "replica" else None
    app.state.node = cluster.node(role, home, app.state.writer)
    install_error_handlers(app)
    install_security(app)
    install_transport(app)  # compression and CORS apply to every answer, errors included
    install_metrics(app)  # outermost: times every request, GET /metrics
    # routes are matched in order, each tried at a cost (ADR 0020): the terminology operations first
    app.include_router(codesystem_ops.router)  # before read: "$lookup" must not be taken for an id
    app.include_router(valueset.router)  # its operations before its read, as registered in fhir_api.valueset
    app.include_router(metadata.router)
    app.include_router(impact.operations)  # CodeSystem/$impact, before read too
    app.include_router(impact.definitions)  # its OperationDefinition
    app.include_router(codesystem_read.router)
    app.include_router(conceptmap_router)  # ConceptMap read/search/$translate/$export, POST /fhir/$closure
    app.include_router(svs_router)  # IHE SVS (ITI-48, ITI-60) under /svs
    app.include_router(search_router)  # GET /search (full-text, every terminology)
    writer_only = "this server is a read replica: {what} is served by the writer (the load balancer sends it there)"
    if role == "replica":
        app.include_router(cluster.refusing(audit.router, 421, writer_only.format(what="the audit trail")))
    else:
        app.include_router(audit.router)  # AuditEvent: the audit trail of writes
    app.include_router(impact.router)  # GET /releases/impact, before /releases/{id}
    app.include_router(releases.router)  # publication: /releases, downloads, diffs, /changes, /feed.xml
    if role == "replica":  # no RDF store here
        app.include_router(cluster.refusing(sparql.router, 421, writer_only.format(what="SPARQL")))
        app.include_router(cluster.refusing(linked_data.router, 421, writer_only.format(what="linked data")))
    else:
        app.include_router(sparql.router)  # read-only SPARQL 1.1 endpoint /sparql
        app.include_router(linked_data.router)  # /concept?iri=, /id/{path}
    app.include_router(health.router)  # GET /health
    install_ui(app, replica=role == "replica")  # web pages: /, /find, /terminologies, /valuesets, /composer, /console
    if role == "writer":
        app.include_router(cluster.artefacts)  # GET /cluster/artefacts/{checksum}: what replicas fetch
    if role == "replica":
        app.include_router(cluster.refusing(admin.router, 405, "this server is a read replica: send writes to the "
                                                               "writer (the load balancer does)"))
    else:
        app.include_router(admin.router)  # writes (bearer token): last, so that reads and operations match first
    install_error_docs(app)  # no FastAPI 422 where the app answers 400
    return app
