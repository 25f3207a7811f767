"""Attacks on a server's HTTP layer over raw sockets (slow heads, huge heads, many headers,
many connections), where an HTTP client library would not send what an attacker sends.

The checks take the address of a real server process, so they test the socket, not an ASGI
transport; each service's tests run them against its own server.
"""

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.waiting import eventually

HEAD = b"GET /health/live HTTP/1.1\r\nHost: test\r\n"
SLOWLORIS_CONNECTIONS = 50


@dataclass
class Answer:
    status: int | None  # the status the server answered, None: it closed without answering
    body: bytes = b""

    def json(self) -> dict[str, Any]:
        body: dict[str, Any] = json.loads(self.body)
        return body


def _parse(data: bytes) -> Answer:
    if not data:
        return Answer(None)
    status_line, _, rest = data.partition(b"\r\n")
    return Answer(int(status_line.split(b" ")[1]), rest.partition(b"\r\n\r\n")[2])


async def _until_closed(reader: asyncio.StreamReader, timeout: float = 5.0) -> bytes:
    """What the server sends until it closes (every answer tested here closes)."""
    try:
        return await asyncio.wait_for(reader.read(), timeout)
    except ConnectionError:
        return b""


async def _answer_within(reader: asyncio.StreamReader, wait: float) -> Answer | None:
    """The server's answer if it answered or closed within `wait`, else None."""
    try:
        first = await asyncio.wait_for(reader.read(65536), wait)
    except TimeoutError:
        return None
    except ConnectionError:
        return Answer(None)
    return _parse(first + await _until_closed(reader) if first else b"")


async def hold_partial_head(
    host: str, port: int, give_up_after: float, holding: list[None] | None = None
) -> Answer:
    """A slowloris client: sends a request head one header line at a time and never ends it,
    until the server answers or closes. Fails if the connection is still open after
    `give_up_after` seconds. `holding` gets an entry once the head's start is sent."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(HEAD)
        await writer.drain()
        if holding is not None:
            holding.append(None)
        deadline = asyncio.get_running_loop().time() + give_up_after
        line = 0
        while asyncio.get_running_loop().time() < deadline:
            answer = await _answer_within(reader, 0.25)
            if answer is not None:
                return answer
            line += 1
            try:
                writer.write(b"X-Slow-%d: 1\r\n" % line)
                await writer.drain()
            except ConnectionError:
                return Answer(None)
        raise AssertionError(f"a partial head still held the connection after {give_up_after}s")
    finally:
        writer.close()


async def send_unterminated_header(
    host: str, port: int, total: int, piece: int = 16_384
) -> tuple[Answer, int]:
    """Sends one header value of `total` bytes that never ends, a piece at a time, looking
    for an answer or a close after each piece: (the answer, bytes sent when it came)."""
    reader, writer = await asyncio.open_connection(host, port)
    sent = 0
    try:
        writer.write(HEAD + b"X-Huge: ")
        while sent < total:
            try:
                writer.write(b"a" * piece)
                await writer.drain()
            except ConnectionError:
                return Answer(None), sent
            sent += piece
            answer = await _answer_within(reader, 0.05)
            if answer is not None:
                return answer, sent
        return (await _answer_within(reader, 1.0)) or Answer(None), sent
    finally:
        writer.close()


async def raw_request(host: str, port: int, head: bytes) -> Answer:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(head)
        await writer.drain()
        return _parse(await _until_closed(reader))
    finally:
        writer.close()


def head_with(headers: int) -> bytes:
    """A complete request head with `headers` headers in all (Host and Connection included)."""
    extra = b"".join(b"X-H-%d: v\r\n" % i for i in range(headers - 2))
    return HEAD + extra + b"Connection: close\r\n\r\n"


async def assert_slow_heads_are_cut(host: str, port: int, head_timeout: float) -> None:
    """50 slowloris connections are all closed (or answered 408) after the head timeout, and
    a normal request on a fresh connection is served meanwhile and afterwards."""
    holding: list[None] = []
    attackers = [
        asyncio.create_task(hold_partial_head(host, port, head_timeout + 8, holding))
        for _ in range(SLOWLORIS_CONNECTIONS)
    ]
    await eventually(lambda: len(holding), SLOWLORIS_CONNECTIONS, what="every attacker holding")
    async with httpx.AsyncClient(base_url=f"http://{host}:{port}", timeout=5) as client:
        assert (await client.get("/health/live")).status_code == 200
        answers = await asyncio.gather(*attackers)
        assert {answer.status for answer in answers} <= {408, None}, answers
        assert (await client.get("/health/live")).status_code == 200


async def assert_huge_header_is_refused(host: str, port: int) -> Answer:
    """An unterminated 1 MiB header is answered 431 (or the connection closed) while the
    client is still sending it: the server does not buffer it."""
    total = 1_048_576
    answer, sent = await send_unterminated_header(host, port, total)
    assert sent < total, "the server read the whole 1 MiB header without refusing it"
    assert answer.status in (431, None), answer
    return answer


async def assert_connections_are_capped(host: str, port: int, cap: int) -> Answer:
    """With `cap` connections open, one more is answered 503 (or closed) at once; once they
    are gone, requests are served again."""
    held = [await asyncio.open_connection(host, port) for _ in range(cap)]
    try:
        # refused once the server has accepted them all (a moment after they connected)
        answer = await eventually(
            lambda: raw_request(host, port, head_with(2)),
            lambda answer: answer.status in (503, None),
            timeout=5,
            interval=0.05,
            what=f"a connection over the cap of {cap} refused",
        )
    finally:
        for _, writer in held:
            writer.close()
    async with httpx.AsyncClient(base_url=f"http://{host}:{port}", timeout=5) as client:
        # the server notices the closed connections a moment later
        await eventually(
            lambda: client.get("/health/live"),
            lambda response: response.status_code == 200,
            timeout=5,
            interval=0.05,
            ignoring=(httpx.TransportError,),
            what="served again after the cap",
        )
        return answer


async def assert_keep_alive_and_pipelining_still_work(host: str, port: int, pause: float) -> None:
    """Requests pipelined in one write are all answered, and a kept-alive connection serves
    another request `pause` seconds later."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(HEAD + b"\r\n" + HEAD + b"\r\n")
        for _ in range(2):
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            assert head.startswith(b"HTTP/1.1 200"), head
            length = next(
                int(line.split(b":")[1])
                for line in head.lower().split(b"\r\n")
                if line.startswith(b"content-length:")
            )
            await reader.readexactly(length)
        await asyncio.sleep(pause)  # idle on purpose: a kept-alive connection outlives a pause
        writer.write(HEAD + b"Connection: close\r\n\r\n")
        assert _parse(await _until_closed(reader)).status == 200
    finally:
        writer.close()
