"""Prometheus metrics: ``GET /metrics`` (text exposition format) for the operators of the server.

* ``smt_http_requests_total{method,route,status}`` and ``smt_http_request_duration_seconds{method,route}``:
  counted by a pure ASGI middleware per route *template* (``/fhir/CodeSystem/{resource_id}/$lookup``), so the
  label set stays small whatever the URLs requested; unmatched paths count as ``unmatched``.
* ``smt_releases{kind,status}``: the releases in the store, read when scraped.

Each app has its own collector registry (several apps may live in one process, as in the tests).
``SMT_METRICS=false`` turns both off.

``smt serve --workers N`` (N > 1) runs N processes, any of which may answer a scrape: each process writes its
counts to memory-mapped files in one directory (prometheus_client's multiprocess mode, ``PROMETHEUS_MULTIPROC_DIR``,
set by ``smt serve`` before the workers start) and ``/metrics`` sums those of every process.
"""

from __future__ import annotations

import os
import time
from collections import Counter as Tally
from collections.abc import Iterator

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smt.config import METRICS_DIR_VARIABLE
from smt.releases.registry import Registry

BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Seconds: sub-millisecond operations ($subsumes, $lookup) up to large expansions and downloads."""


def metrics_enabled() -> bool:
    return os.environ.get("SMT_METRICS", "true").strip().lower() not in ("0", "false", "no", "off")


class ReleaseCollector(Collector):
    """``smt_releases{kind,status}`` from the registry, at scrape time."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily("smt_releases", "Releases in the store", labels=["kind", "status"])
        for (kind, status), count in sorted(Tally((r.kind, r.status) for r in self.registry.releases()).items()):
            gauge.add_metric([kind, status], count)
        yield gauge


class MetricsMiddleware:
    """Pure ASGI middleware counting requests and timing them per route template."""

    def __init__(self, app: ASGIApp, requests: Counter, durations: Histogram) -> None:
        self.app = app
        self.requests = requests
        self.durations = durations

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            method = scope["method"]
            self.requests.labels(method, route, str(status)).inc()
            self.durations.labels(method, route).observe(time.perf_counter() - start)


def install_metrics(app: FastAPI) -> None:
    """Add the middleware and ``GET /metrics`` (unless ``SMT_METRICS=false``)."""
    if not metrics_enabled():
        return
    collectors = CollectorRegistry()
    requests = Counter("smt_http_requests", "HTTP requests answered", ["method", "route", "status"],
                       registry=collectors)
    durations = Histogram("smt_http_request_duration_seconds", "Time to answer an HTTP request",
                          ["method", "route"], buckets=BUCKETS, registry=collectors)
    app.add_middleware(MetricsMiddleware, requests=requests, durations=durations)
    scraped = collectors
    if os.environ.get(METRICS_DIR_VARIABLE):  # the counts of every process of this server, from their files
        scraped = CollectorRegistry()
        MultiProcessCollector(scraped)
    scraped.register(ReleaseCollector(app.state.registry))

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        return Response(generate_latest(scraped), media_type=CONTENT_TYPE_LATEST)
