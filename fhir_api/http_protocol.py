"""The HTTP server's own refusals as OperationOutcomes: uvicorn's httptools protocol with two more limits.

uvicorn answers a request it cannot parse with a plain-text 400 before the app sees it. ``smt serve`` runs this
subclass instead, whose refusals are OperationOutcomes and which bounds what it buffers of a request head:

* a URL over 64 KiB (httptools stores URL offsets on 16 bits and refuses longer ones) → **414**;
* a request head (request line and headers) over ``SERVER_MAX_HEAD_BYTES`` (1 MiB) → **431**, counted as the
  bytes arrive (httptools itself buffers header values without any limit);
* any other unparsable request → **400**.

These are backstops far above the app's documented limits (``fhir_api.limits``: 32 KiB URL, 64 KiB headers),
which answer first with the app's full headers. The connection is closed after each of these refusals.

It also writes a response's head together with its body (``CoalescingTransport``): a process killed between the
two writes would otherwise leave the client a head without its body, which a load balancer cannot retry.
"""

from __future__ import annotations

import asyncio
import http

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

SERVER_MAX_URL_BYTES = (1 << 16) - 1
"""httptools' own limit (``MAX_URL_LENGTH``)."""
SERVER_MAX_HEAD_BYTES = 1 << 20


class RequestRefused(Exception):
    """Raised from a parser callback: the request is answered ``status`` and the connection closed."""

    def __init__(self, status: int, text: str) -> None:
        super().__init__(text)
        self.status = status
        self.text = text


def outcome_bytes(status: int, text: str, default_headers: list[tuple[bytes, bytes]]) -> bytes:
    """A complete HTTP/1.1 response carrying an OperationOutcome, with ``Connection: close``."""
    code = "invalid" if status == 400 else "too-long"
    body = orjson.dumps({"resourceType": "OperationOutcome", "issue": [
        {"severity": "error", "code": code, "details": {"text": text}, "diagnostics": text}]})
    head = [f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}\r\n".encode()]
    head += [name + b": " + value + b"\r\n" for name, value in default_headers]
    head += [b"content-type: application/fhir+json; charset=utf-8\r\n",
             b"content-length: " + str(len(body)).encode() + b"\r\n",
             b"x-content-type-options: nosniff\r\n", b"connection: close\r\n", b"\r\n"]
    return b"".join(head) + body


class CoalescingTransport:
    """A transport that holds a response head (status line and headers) until the next write, so head and body
    leave in one write; a head with nothing after it in the same turn of the event loop is written at the next."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes) -> None:
        if self._held is not None:
            data, self._held = self._held + data, None
        elif data.startswith(b"HTTP/1.1 ") and data.endswith(b"\r\n\r\n"):
            self._held = data
            self._loop.call_soon(self.flush)
            return
        self._transport.write(data)

    def flush(self) -> None:
        if self._held is not None:
            data, self._held = self._held, None
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> object:
        return getattr(self._transport, name)


class OutcomeHttpToolsProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` whose refusals are OperationOutcomes and whose answers leave in one write (see the
    module docstring)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # as the base class
        super().connection_made(transport)
        self.transport = CoalescingTransport(transport, self.loop)  # type: ignore[assignment]  # same interface
        self._head_bytes = 0
        self._reading_head = True
        self._refusal: RequestRefused | None = None

    def data_received(self, data: bytes) -> None:
        if self._reading_head:
            self._head_bytes += len(data)
            if self._head_bytes > SERVER_MAX_HEAD_BYTES:
                self._refusal = RequestRefused(431, f"the request head is over {SERVER_MAX_HEAD_BYTES:,} bytes")
                self.send_400_response("request head too large")
                return
        super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._reading_head = True

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > SERVER_MAX_URL_BYTES:
            self._refusal = RequestRefused(414, f"the URL is over {SERVER_MAX_URL_BYTES:,} bytes: send the "
                                                "parameters in a POST body")
            raise self._refusal

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._head_bytes = 0
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._reading_head = True
        self._head_bytes = 0

    def send_400_response(self, msg: str) -> None:
        """uvicorn's refusal of a request it could not parse, as an OperationOutcome."""
        refusal = self._refusal or RequestRefused(400, "the request is not valid HTTP/1.1")
        self.transport.write(outcome_bytes(refusal.status, refusal.text, self.server_state.default_headers))
        self.transport.close()
