"""Driving `proxy.relay` directly: a provider answer arriving in given chunks, relayed through
a call's policy runs to a `send` that keeps what the caller would get."""

import asyncio
from collections.abc import AsyncIterator, Sequence

from aigw.gateway.asgi import Message
from aigw.gateway.client import ResponseHeaders, UpstreamError
from aigw.gateway.invocation import Invocation
from aigw.gateway.policies.base import PolicyRun
from aigw.gateway.proxy.attempt import ProviderAnswer, UpstreamRequest
from aigw.gateway.proxy.disconnect import DisconnectWatch
from aigw.gateway.proxy.relay import relay


class ProviderStub:
    """A provider answer whose body arrives in the given chunks (what `client.Response` offers);
    it breaks off after them if `breaks`."""

    def __init__(
        self,
        chunks: Sequence[bytes],
        content_type: str = "text/event-stream",
        status: int = 200,
        breaks: bool = False,
    ) -> None:
        self.breaks = breaks
        self.status = status
        self.raw_headers = [(b"content-type", content_type.encode())]
        self.headers = ResponseHeaders(self.raw_headers)
        self.content_type = content_type
        self.content_length = None
        self._chunks = list(chunks)

    async def iter_any(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            yield chunk
        if self.breaks:
            raise UpstreamError("the provider closed the connection")

    def release(self) -> None: ...
    def close(self) -> None: ...


async def relay_chunks(
    call: Invocation,
    runs: Sequence[PolicyRun],
    chunks: Sequence[bytes],
    content_type: str = "text/event-stream",
    status: int = 200,
    breaks: bool = False,
) -> tuple[int, list[Message]]:
    """The status the relay answered and every message it sent, for `chunks` from the provider
    (the client never leaves)."""
    resp = ProviderStub(chunks, content_type, status, breaks)
    answer = ProviderAnswer(resp, UpstreamRequest("http://p", [], call.body))  # type: ignore[arg-type]
    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def never() -> Message:
        await asyncio.Event().wait()
        raise AssertionError

    watch = DisconnectWatch(never)
    try:
        return await relay(call, answer, runs, watch, send), sent
    finally:
        watch.stop()
