"""One keep-alive connection to a provider: an asyncio protocol with httptools parsing the
answer, carrying one request/answer at a time; reading pauses while more than HIGH_WATER
bytes wait (a slow caller slows the provider)."""

import asyncio
import collections
from typing import TYPE_CHECKING, cast

import httptools

from aigw.gateway.client.errors import UpstreamError
from aigw.gateway.client.origin import Origin
from aigw.gateway.client.response import ResponseHeaders

if TYPE_CHECKING:
    from aigw.gateway.client.pool import Pool

HIGH_WATER = 256 * 1024


class Connection(asyncio.Protocol):
    """One connection; it carries one request/answer at a time."""

    def __init__(self, pool: "Pool", origin: Origin) -> None:
        self.pool = pool
        self.origin = origin
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.idle_since = 0.0
        self.reused = False
        self.paused = False
        self._reset(head_only=False)

    def _reset(self, head_only: bool) -> None:
        if self.paused and self.transport is not None:
            self.transport.resume_reading()  # an answer released unread while paused
        self.head_only = head_only
        self.surplus = False  # bytes beyond the answer: never read, never reused
        self.status = 0
        self.raw_headers: list[tuple[bytes, bytes]] = []
        self.headers_done = False
        self.complete = False
        self.keep_alive = False
        self.received_any = False
        self.chunks: collections.deque[bytes] = collections.deque()
        self.buffered = 0
        self.paused = False
        self.error: Exception | None = None
        self.waiter: asyncio.Future[None] | None = None

    # --- asyncio.Protocol --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses

    def data_received(self, data: bytes) -> None:
        self.received_any = True
        if self.complete:  # bytes after a complete answer: the connection cannot be reused
            self.surplus = self.closed = True
        if self.surplus:
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(UpstreamError(f"the provider's answer is not valid HTTP: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if exc is None and self.headers_done and not self.complete and self._ends_at_eof():
            self.complete = True  # a body without length or chunking ends with the connection
            self._wake()
        elif not self.complete:
            self._fail(UpstreamError("the provider closed the connection"))

    # --- httptools callbacks ----------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self.complete:  # a second answer in the same read: the provider is confused
            self.surplus = self.closed = True

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.surplus:
            self.raw_headers.append((name, value))

    def on_headers_complete(self) -> None:
        if self.surplus:
            return
        self.status = self.parser.get_status_code()
        if 100 <= self.status < 200:  # an interim answer: the real one follows
            self.raw_headers = []
            return
        self.headers_done = True
        if self.head_only:  # HEAD: no body follows, whatever the length says
            self.complete = True
            self.closed = True  # the parser still expects one: do not reuse
        self._wake()

    def on_body(self, body: bytes) -> None:
        if self.surplus:
            return
        self.chunks.append(body)
        self.buffered += len(body)
        if self.buffered > HIGH_WATER and not self.paused and self.transport is not None:
            self.paused = True
            self.transport.pause_reading()
        self._wake()

    def on_message_complete(self) -> None:
        if self.surplus or 100 <= self.status < 200:
            return
        self.complete = True
        self.keep_alive = self.parser.should_keep_alive()  # only valid inside the callback
        self._wake()

    # --- for the pool and the response --------------------------------------------------------

    def _ends_at_eof(self) -> bool:
        """No length and not chunked: the body is whatever comes until the connection ends."""
        headers = ResponseHeaders(self.raw_headers)
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        return "content-length" not in headers and not chunked

    def _fail(self, error: Exception) -> None:
        if self.error is None:
            self.error = error
        self.closed = True
        if self.transport is not None:
            self.transport.close()
        self._wake()

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    async def wait(self) -> None:
        """Until something arrives (headers, body, the end or an error)."""
        if self.error is not None:
            raise self.error
        self.waiter = asyncio.get_running_loop().create_future()
        try:
            async with asyncio.timeout(self.pool.read_timeout):
                await self.waiter
        finally:
            self.waiter = None
        if self.error is not None:
            raise self.error

    def take(self) -> bytes:
        """What the body has buffered, resuming reading if it was paused."""
        if not self.chunks:
            return b""
        data = self.chunks.popleft() if len(self.chunks) == 1 else b"".join(self.chunks)
        self.chunks.clear()
        self.buffered = 0
        if self.paused and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()
        return data

    def send(self, head_only: bool, data: bytes) -> None:
        self._reset(head_only)
        assert self.transport is not None
        self.transport.write(data)

    def reusable(self) -> bool:
        return self.complete and self.keep_alive and not self.closed

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()
