"""Request limits: URL, header and body sizes, refused with an OperationOutcome before any route runs.

A pure ASGI middleware (no task or stream copy per request). The HTTP server keeps generous limits of its own
(``fhir_api.http_protocol``); these lower, documented ones answer first, with the app's error format:

* ``SMT_MAX_URL_BYTES`` (default 32 KiB): path and query string as sent → **414**;
* ``SMT_MAX_HEADER_BYTES`` (default 64 KiB): every header name and value together → **431**;
* ``SMT_MAX_BODY_BYTES`` (default 32 MiB): bodies read into memory (FHIR JSON, XML, forms, SPARQL) → **413**;
* ``SMT_MAX_REQUEST_BYTES`` (default 1 GiB): ``multipart/form-data`` bodies (uploads, spooled to disk) → **413**.

Bodies are counted as they arrive, so a chunked body without ``Content-Length`` is held to the same limit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from fastapi import Request
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fhir_api.errors import outcome_response

DEFAULT_MAX_URL_BYTES = 32 * 1024
DEFAULT_MAX_HEADER_BYTES = 64 * 1024
DEFAULT_MAX_BODY_BYTES = 32 << 20
DEFAULT_MAX_REQUEST_BYTES = 1 << 30  # 1 GiB: a full SNOMED CT edition zip fits
UPLOAD_TYPE = "multipart/form-data"


def _setting(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def max_request_bytes() -> int:
    """Largest upload (``SMT_MAX_REQUEST_BYTES``)."""
    return _setting("SMT_MAX_REQUEST_BYTES", DEFAULT_MAX_REQUEST_BYTES)


@dataclass(frozen=True, slots=True)
class RequestLimits:
    url: int = DEFAULT_MAX_URL_BYTES
    headers: int = DEFAULT_MAX_HEADER_BYTES
    body: int = DEFAULT_MAX_BODY_BYTES
    upload: int = DEFAULT_MAX_REQUEST_BYTES

    @classmethod
    def from_env(cls) -> RequestLimits:
        upload = max_request_bytes()
        return cls(_setting("SMT_MAX_URL_BYTES", DEFAULT_MAX_URL_BYTES),
                   _setting("SMT_MAX_HEADER_BYTES", DEFAULT_MAX_HEADER_BYTES),
                   min(_setting("SMT_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES), upload), upload)

    def body_limit(self, headers: Headers) -> tuple[int, str]:
        """The limit of a body and its setting's name, by content type (uploads may be larger)."""
        if headers.get("content-type", "").split(";")[0].strip().lower() == UPLOAD_TYPE:
            return self.upload, "SMT_MAX_REQUEST_BYTES"
        return self.body, "SMT_MAX_BODY_BYTES"


def url_bytes(scope: Scope) -> int:
    """Size of the request target as sent: raw path, ``?`` and query string."""
    path = scope.get("raw_path") or scope.get("path", "").encode()
    query = scope.get("query_string", b"")
    return len(path) + (len(query) + 1 if query else 0)


class _BodyTooLarge(Exception):
    """Raised into the app by ``receive`` when the body passes its limit (the middleware answers 413)."""


class RequestLimitsMiddleware:
    """414, 431 and 413 OperationOutcomes for requests over the limits (see the module docstring)."""

    def __init__(self, app: ASGIApp, limits: RequestLimits | None = None) -> None:
        self.app = app
        self.fixed = limits
        """Limits given once; by default they are read from the environment per request (a few µs)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limits = self.fixed or RequestLimits.from_env()
        refusal = self._refusal(scope, limits)
        if refusal is not None:
            status, code, text = refusal
            await outcome_response(Request(scope), status, code, text)(scope, receive, send)
            return
        limit, setting = limits.body_limit(Headers(scope=scope))
        state = {"received": 0, "too_large": False, "started": False}

        async def counted_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > limit:
                    state["too_large"] = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            if state["too_large"]:
                return  # the app's answer to the exception: replaced by the 413 below
            state["started"] = state["started"] or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except _BodyTooLarge:
            pass
        except Exception:
            if not state["too_large"]:
                raise
        if state["too_large"] and not state["started"]:
            response = outcome_response(Request(scope), 413, "too-costly", _body_text(limit, setting),
                                        headers={"Connection": "close"})  # the rest of the body is not read
            await response(scope, receive, send)

    @staticmethod
    def _refusal(scope: Scope, limits: RequestLimits) -> tuple[int, str, str] | None:
        """Status, issue code and text for a request refused on its head alone, else None."""
        if (size := url_bytes(scope)) > limits.url:
            return 414, "too-long", (f"the URL has {size:,} bytes, over the limit of {limits.url:,} "
                                     "(SMT_MAX_URL_BYTES): send the parameters in a POST body")
        size = sum(len(name) + len(value) for name, value in scope.get("headers", ()))
        if size > limits.headers:
            return 431, "too-long", (f"the request headers have {size:,} bytes, over the limit of "
                                     f"{limits.headers:,} (SMT_MAX_HEADER_BYTES)")
        headers = Headers(scope=scope)
        length = headers.get("content-length", "")
        limit, setting = limits.body_limit(headers)
        if length.isdigit() and int(length) > limit:
            return 413, "too-costly", _body_text(limit, setting)
        return None


def _body_text(limit: int, setting: str) -> str:
    return f"the request body is over the limit of {limit:,} bytes ({setting})"
