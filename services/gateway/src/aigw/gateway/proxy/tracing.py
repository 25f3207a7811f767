"""A traced call: a SERVER span for the call through the gateway and a CLIENT span per
provider attempt, the GenAI attributes (`proxy.gen_ai`) set once the call is settled.

    chat mistral-small   SERVER  the call: http.*, gen_ai.*, aigw.*; events per stage
      chat mistral-small CLIENT  one per attempt (a routed call's failover makes several):
                                 server.address/port, its status or error.type

The provider gets the attempt's `traceparent` (replacing any the caller's forwarded headers
carried), so its spans join the trace; an incoming `traceparent` makes the gateway's span its
child and its sampled flag is followed. The stages are events on the call's span, from the
times the `Invocation` keeps anyway (`aigw.prepared`: every stage before the provider done;
`gen_ai.first_token`; `aigw.provider.done`), so the stages themselves run untouched.

When tracing is off the invoker holds no `CallTracing` and `Invocation.trace` stays None:
the hot path pays one attribute check per call and one per attempt.
"""

import time
from functools import lru_cache

from aigw.common.tracing.context import HEADER, HEADER_RAW, parse_traceparent
from aigw.common.tracing.spans import CLIENT, SERVER, Attributes, Span
from aigw.common.tracing.tracer import Tracer
from aigw.gateway.asgi import Scope
from aigw.gateway.invocation import Invocation
from aigw.gateway.metering.meter import Usage
from aigw.gateway.proxy import gen_ai
from aigw.gateway.proxy.settle import final_usage


class CallTracing:
    """The invoker's tracer: starts a call's trace, if sampled, and ends it once settled."""

    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer

    def begin(self, call: Invocation, scope: Scope) -> None:
        incoming = next((v for k, v in scope["headers"] if k == HEADER_RAW), None)
        span = self.tracer.start("gateway", SERVER, parse_traceparent(incoming))
        if span is not None:
            span.attributes["url.path"] = scope["path"]
            call.trace = CallTrace(self.tracer, span, call.started)

    def shutdown(self) -> None:
        self.tracer.shutdown()


class CallTrace:
    """One sampled call's spans (`Invocation.trace`)."""

    __slots__ = ("attempts", "perf0", "server", "tracer", "wall0")

    def __init__(self, tracer: Tracer, server: Span, started: float) -> None:
        self.tracer, self.server = tracer, server
        self.wall0, self.perf0 = server.start_ns, started
        self.attempts: list[Span] = []

    def attempt(self, call: Invocation, url: str, headers: list[tuple[str, str]]) -> None:
        """An attempt is about to be sent to `url`: its span, and its traceparent added."""
        model = call.target.model if call.target is not None else None
        span = self.tracer.child(self.server, gen_ai.span_name(call, model), CLIENT)
        scheme, _, rest = url.partition("://")
        host, port = server_of(scheme, rest.split("/", 1)[0])
        span.attributes["server.address"] = host
        span.attributes["server.port"] = port
        headers[:] = [(name, value) for name, value in headers if name != HEADER]
        headers.append((HEADER, span.traceparent()))
        self.attempts.append(span)

    def attempt_failed(self, exc: Exception) -> None:
        span = self.attempts[-1]
        span.fail(gen_ai.attempt_error(exc))
        self.tracer.end(span)

    def finish(self, call: Invocation) -> None:
        """End the spans of a settled call, with its attributes and stage events."""
        usage = settled_usage(call)
        attributes = gen_ai.attributes(call, usage)
        server = self.server
        server.name = gen_ai.span_name(call)
        server.attributes |= attributes
        self._events(call)
        error = gen_ai.error_type(call)
        if error is not None:
            server.fail(error)
        if self.attempts and not self.attempts[-1].end_ns:
            self._end_answered(call, self.attempts[-1], attributes)
        self.tracer.end(server, time.time_ns())

    def _end_answered(self, call: Invocation, span: Span, attributes: Attributes) -> None:
        span.attributes |= {k: v for k, v in attributes.items() if k.startswith("gen_ai.")}
        if call.provider_status:
            span.attributes["http.response.status_code"] = call.provider_status
            if call.provider_status >= 400:
                span.fail(str(call.provider_status))
        elif call.client_gone:
            span.fail("client_closed")
        self.tracer.end(span, self._ns(call.provider_ended) if call.provider_ended else None)

    def _events(self, call: Invocation) -> None:
        server = self.server
        if call.provider_started:
            server.event("aigw.prepared", self._ns(call.provider_started))
        if call.stream is not None and call.stream.first_token_at is not None:
            server.event("gen_ai.first_token", self._ns(call.stream.first_token_at))
        if call.provider_ended:
            server.event("aigw.provider.done", self._ns(call.provider_ended))

    def _ns(self, perf: float) -> int:
        return self.wall0 + int((perf - self.perf0) * 1e9)


def settled_usage(call: Invocation) -> Usage:
    """The counts `Settlement.settle` used: it completes the call's own `Usage` in place, and
    when the call had none, estimates afresh, as this does again."""
    stream = call.stream
    usage = call.usage or (stream.usage if stream is not None else None)
    return usage if usage is not None else final_usage(call)


@lru_cache(maxsize=1024)
def server_of(scheme: str, authority: str) -> tuple[str, int]:
    """`server.address` and `server.port` of a provider URL's authority (a few per API)."""
    host, colon, port = authority.rpartition(":")
    if not colon or "]" in port:  # no port (an IPv6 address's colons are inside brackets)
        host, port = authority, ""
    host = host.rsplit("@", 1)[-1].strip("[]")
    return host, int(port) if port.isdigit() else (443 if scheme == "https" else 80)
