"""Limits on what a client may hold on a socket before its request reaches the app.

uvicorn's httptools protocol has none: a request head may take forever to arrive (slowloris),
grow without bound (httptools keeps an unterminated header value in memory) and carry any
number of headers, and nothing caps the connections a process keeps open (`limit_concurrency`
only answers 503 once a head is complete, and counts per listener).

`limited_http_protocol` makes a subclass of that protocol, passed to uvicorn as `http=`, that
adds them. Per request it costs a counter per header, a length check per read while a head is
awaited and setting a deadline when a response completes: the connection's head timer is not
armed per request but re-armed for the current deadline when it fires, so a busy keep-alive
connection sees it once per head timeout.
"""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from aigw.common.settings import ServiceSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WireLimits:
    max_head_bytes: int  # request line and headers, per request
    max_headers: int
    head_timeout: float  # seconds for a whole head, from connect or the previous response
    max_connections: int  # per process, over all its listeners


def wire_limits(settings: ServiceSettings) -> WireLimits:
    return WireLimits(
        max_head_bytes=settings.max_head_bytes,
        max_headers=settings.max_headers,
        head_timeout=settings.head_timeout,
        max_connections=settings.max_connections,
    )


@dataclass(frozen=True)
class Refusal:
    """What the server answers before closing: a status, a machine code and a sentence."""

    status: int
    code: str
    message: str


# Renders a refusal as the service's JSON error body.
RenderError = Callable[[Refusal], bytes]


def _response(refusal: Refusal, render: RenderError) -> bytes:
    body = render(refusal)
    status = HTTPStatus(refusal.status)
    return b"".join(
        [
            f"HTTP/1.1 {status.value} {status.phrase}\r\n".encode(),
            b"content-type: application/json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
            body,
        ]
    )


@dataclass(frozen=True)
class _Responses:
    """Every refusal's bytes, built once per server process."""

    too_many_headers: bytes
    head_too_large: bytes
    head_timeout: bytes
    too_many_connections: bytes

    @classmethod
    def build(cls, limits: WireLimits, render: RenderError) -> "_Responses":
        too_large = "request_header_fields_too_large"
        return cls(
            too_many_headers=_response(
                Refusal(431, too_large, f"Too many request headers (at most {limits.max_headers})"),
                render,
            ),
            head_too_large=_response(
                Refusal(431, too_large, f"Request head over {limits.max_head_bytes} bytes"),
                render,
            ),
            head_timeout=_response(
                Refusal(
                    408,
                    "request_timeout",
                    f"Request head not received within {limits.head_timeout:g} s",
                ),
                render,
            ),
            too_many_connections=_response(
                Refusal(503, "too_many_connections", "Too many open connections; retry later"),
                render,
            ),
        )


class _HeadRefused(Exception):
    """Raised in a parser callback: stops httptools parsing a head that is over a limit."""


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    limits: ClassVar[WireLimits]
    responses: ClassVar[_Responses]
    open_connections: ClassVar[set["LimitedHttpToolsProtocol"]]  # shared by all listeners

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.awaiting_head = True
        self.head_bytes_received = 0  # while awaiting the head: bounds an unterminated one
        self.head_size = 0  # URL, header names and values parsed
        self.header_count = 0
        self.head_due: float | None = None  # loop time the awaited head must be complete by
        self.head_timer: asyncio.TimerHandle | None = None
        self.refusal: bytes | None = None

    # Connection

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.open_connections.add(self)
        if len(self.open_connections) > self.limits.max_connections:
            self._refuse(self.responses.too_many_connections)
            return
        self._start_head_clock()

    def connection_lost(self, exc: Exception | None) -> None:
        self.open_connections.discard(self)
        self._cancel_head_timer()
        super().connection_lost(exc)

    def handle_websocket_upgrade(self) -> None:
        self.open_connections.discard(self)  # the websocket protocol owns it from here
        super().handle_websocket_upgrade()

    def data_received(self, data: bytes) -> None:
        """uvicorn's, plus the head-size bound for a head still incomplete after this read."""
        self._unset_keepalive_if_required()
        if self.awaiting_head:
            self.head_bytes_received += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self.refusal is not None:
                self._refuse(self.refusal)
                return
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        if self.awaiting_head and self.head_bytes_received > self.limits.max_head_bytes:
            self._refuse(self.responses.head_too_large)

    # Parser callbacks

    # on_url and on_header are uvicorn's, inlined (they run for every header), plus counting.

    def on_url(self, url: bytes) -> None:
        self.head_size += len(url)
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.header_count += 1
        self.head_size += len(name) + len(value)
        if self.header_count > self.limits.max_headers:
            self._stop_parsing(self.responses.too_many_headers)
        if self.head_size > self.limits.max_head_bytes:
            self._stop_parsing(self.responses.head_too_large)
        name = name.lower()
        if name == b"expect" and value.lower() == b"100-continue":
            self.expect_100_continue = True
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        if self.head_size > self.limits.max_head_bytes:  # a long URL with few headers
            self._stop_parsing(self.responses.head_too_large)
        self.awaiting_head = False
        self.head_due = None
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self.awaiting_head = True  # what follows on this connection is the next head
        self.head_bytes_received = self.head_size = self.header_count = 0
        super().on_message_complete()

    def on_response_complete(self) -> None:
        next_head_arrived = bool(self.pipeline)
        super().on_response_complete()
        if not next_head_arrived and not self.transport.is_closing():
            self._start_head_clock()

    # Refusing

    def _stop_parsing(self, response: bytes) -> None:
        self.refusal = response
        raise _HeadRefused

    def _refuse(self, response: bytes) -> None:
        log.info("refused: %s", response.split(b"\r\n", 1)[0].decode())
        if self.cycle is None or self.cycle.response_complete:  # not inside a response
            self.transport.write(response)
        self.transport.close()

    # The head timer

    def _start_head_clock(self) -> None:
        self.head_due = self.loop.time() + self.limits.head_timeout
        if self.head_timer is None:
            self.head_timer = self.loop.call_later(self.limits.head_timeout, self._head_timer_fired)

    def _cancel_head_timer(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def _head_timer_fired(self) -> None:
        self.head_timer = None
        if self.head_due is None or self.transport.is_closing():
            return  # no head awaited now: the next response starts the clock again
        remaining = self.head_due - self.loop.time()
        if remaining > 0:  # a later head is awaited than the one this timer was set for
            self.head_timer = self.loop.call_later(remaining, self._head_timer_fired)
            return
        if self.awaiting_head and self.head_bytes_received:
            self._refuse(self.responses.head_timeout)
        else:  # nothing of a head arrived: an idle connection, closed as keep-alive does
            self.transport.close()


def limited_http_protocol(
    limits: WireLimits, render: RenderError
) -> type[LimitedHttpToolsProtocol]:
    """A protocol class for uvicorn's `http=`; pass the same class to every listener of a
    process so that `max_connections` counts them all."""

    class Limited(LimitedHttpToolsProtocol):
        pass

    Limited.limits = limits
    Limited.responses = _Responses.build(limits, render)
    Limited.open_connections = set()
    return Limited
