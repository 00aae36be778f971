"""A response's head leaves with its body in one write (a replica killed between two writes would leave the load
balancer a head it cannot retry)."""

from __future__ import annotations

import asyncio

from fhir_api.http_protocol import CoalescingTransport


class RecordingTransport(asyncio.Transport):
    """An asyncio transport that records what is written to it."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True


HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"


def test_head_and_body_leave_in_one_write() -> None:
    async def scenario() -> list[bytes]:
        raw = RecordingTransport()
        transport = CoalescingTransport(raw, asyncio.get_running_loop())
        transport.write(HEAD)
        assert raw.writes == []
        transport.write(b"{}")
        await asyncio.sleep(0)
        return raw.writes

    assert asyncio.run(scenario()) == [HEAD + b"{}"]


def test_a_head_alone_is_written_at_the_next_turn_of_the_loop_or_on_close() -> None:
    async def scenario() -> tuple[list[bytes], list[bytes]]:
        loop = asyncio.get_running_loop()
        alone, closing = RecordingTransport(), RecordingTransport()
        CoalescingTransport(alone, loop).write(HEAD)  # a HEAD request's answer: no body follows
        then_closed = CoalescingTransport(closing, loop)
        then_closed.write(HEAD)
        then_closed.close()
        await asyncio.sleep(0)
        return alone.writes, closing.writes

    alone, closing = asyncio.run(scenario())
    assert alone == [HEAD]
    assert closing == [HEAD]


def test_other_writes_pass_through() -> None:
    async def scenario() -> list[bytes]:
        raw = RecordingTransport()
        transport = CoalescingTransport(raw, asyncio.get_running_loop())
        transport.write(b"5\r\nhello\r\n")
        return raw.writes

    assert asyncio.run(scenario()) == [b"5\r\nhello\r\n"]
