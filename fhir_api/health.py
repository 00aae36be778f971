"""``GET /health``: liveness and readiness for load balancers and orchestrators (no authentication)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

import smt

router = APIRouter(tags=["operations"])


@router.get("/health")
def health(request: Request) -> JSONResponse:
    """200 with the number of published releases when the store can be read; 503 otherwise."""
    try:
        releases = request.app.state.registry.public().releases()
    except Exception as exc:  # the store is unreadable: not ready, and say why without a stack trace
        return JSONResponse({"status": "unavailable", "reason": type(exc).__name__}, status_code=503)
    return JSONResponse({"status": "ok", "version": smt.__version__, "releases": len(releases)})
