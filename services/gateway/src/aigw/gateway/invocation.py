"""One call as it flows through the gateway's pipeline (`aigw.gateway.proxy.invoker`).

An `Invocation` is created when a request arrives and filled in by the stages in their order:
match (route, provider path), request headers (what is forwarded, the credential), authenticate
and authorise (the key's entry, the endpoints it may call), body (bytes, parsed JSON, facts),
admit (plan, quota admission), request policies (which may rewrite the body), plan and attempt
(the target that answered), relay (usage, stream figures) and settle (metrics, quotas, the
usage record). Each stage reads what the earlier ones wrote; nothing here does I/O.
"""

import json
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from aigw.common.response_cache import CacheOutcome
from aigw.gateway.asgi import RawHeaders
from aigw.gateway.metering.meter import Usage
from aigw.gateway.metering.request import NO_FACTS, RequestFacts
from aigw.gateway.quota.book import Admission
from aigw.gateway.routing.plans import Plan
from aigw.gateway.routing.table import KeyEntry, Route
from aigw.gateway.routing.targets import Target, TargetPolicy
from aigw.gateway.routing.upstream import Upstream


@dataclass(slots=True)
class StreamStats:
    """What a relayed event stream told, for the usage record and for estimates."""

    usage: Usage = field(default_factory=Usage)
    first_token_at: float | None = None  # perf_counter time of the first generated text
    content_chars: int = 0  # generated text relayed (estimates when the stream ends early)


@dataclass(frozen=True, slots=True)
class Intervention:
    """A guardrail stopped the call (the usage record and metrics say which, and where)."""

    guardrail: str  # its name
    direction: Literal["REQUEST", "RESPONSE"]


class CallTrace(Protocol):
    """A traced call's spans (`proxy.tracing.CallTrace`): each provider attempt is told."""

    def attempt(self, call: "Invocation", url: str, headers: list[tuple[str, str]]) -> None: ...

    def attempt_failed(self, exc: Exception) -> None: ...

    def finish(self, call: "Invocation") -> None: ...


@dataclass(slots=True)
class Invocation:
    started: float  # perf_counter
    method: str
    query: str  # the caller's query string, as sent
    request_id: str = ""  # the caller's valid x-request-id, else a new one (`proxy.request_id`)
    api: str = "-"  # the route's API id once matched
    label: str = "-"  # the route's metrics label, `name:version` ("-" until matched)
    route: Route | None = None
    rest: str = ""  # the provider path after the route prefix (still percent-encoded)
    # request headers to forward (the allow-list), the caller's credential and Content-Type
    headers: list[tuple[str, str]] = field(default_factory=list)
    credential: str | None = None
    content_type: bytes | None = None
    no_cache: bool = False  # the caller sent `Cache-Control: no-cache` (the response cache's)
    entry: KeyEntry | None = None  # the authenticated key (or access token's client)
    # what the key may call: its key type's routing policy, else its endpoint
    routing: TargetPolicy | None = None
    upstream: Upstream | None = None
    body: bytes = b""  # what goes to the provider (request policies: `replace_json`)
    parsed: Any = None  # `body` as JSON, always in step with it (None: not a JSON body)
    body_size: int = 0  # the caller's body size, for token estimates
    facts: RequestFacts = NO_FACTS  # what the caller asked (policies' rewrites aside)
    plan: Plan | None = None
    admission: Admission | None = None
    answer_headers: RawHeaders = field(default_factory=list)  # added to every answer
    status: int = 500  # what the caller got (499: it left first)
    target: Target | None = None  # the routing target that answered (routed calls)
    provider_status: int = 0  # 0: the provider never answered
    provider_started: float = 0.0
    provider_ended: float = 0.0
    abandoned_attempts: int = 0  # routed attempts given up after the prompt was sent
    client_gone: bool = False
    usage: Usage | None = None  # a whole answer's usage
    stream: StreamStats | None = None  # a relayed event stream's
    intervention: Intervention | None = None  # the guardrail that stopped the call
    cache: CacheOutcome | None = None  # the response cache's outcome (None: no cache)
    tokens_saved: int = 0  # a cache hit: what the cached answer cost when it was made
    trace: CallTrace | None = None  # set when the call is traced and sampled (proxy.tracing)

    @property
    def routed(self) -> bool:
        return self.routing is not None

    def replace_json(self, parsed: Any, body: bytes | None = None) -> None:
        """A request policy's new JSON body: `parsed`, sent as `body` if given (bytes that
        keep the caller's formatting), else serialised. Both stay in step: a routed call's
        targets rewrite `parsed`, a direct call sends `body`."""
        self.parsed = parsed
        self.body = json.dumps(parsed, separators=(",", ":")).encode() if body is None else body
