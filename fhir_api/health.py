"""``GET /health``: liveness and readiness for load balancers and orchestrators (no authentication)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

import smt

router = APIRouter(tags=["operations"])


@router.get("/health")
def health(request: Request) -> JSONResponse:
    """200 with the number of published releases when the store can be read; 503 otherwise. A cluster node
    (``smt serve --role``) also says its role and whether it is in sync with the shared registry's generation;
    a replica answers 503 until its first sync, and when it has been behind for too long (docs/scale-out.md)."""
    try:
        releases = request.app.state.registry.public().releases()
    except Exception as exc:  # the store is unreadable: not ready, and say why without a stack trace
        return JSONResponse({"status": "unavailable", "reason": type(exc).__name__}, status_code=503)
    body = {"status": "ok", "version": smt.__version__, "releases": len(releases)}
    node = request.app.state.node
    if node is None:
        return JSONResponse(body)
    ready, sync = node.health()
    return JSONResponse({**body, "status": "ok" if ready else "syncing", **sync}, status_code=200 if ready else 503)
