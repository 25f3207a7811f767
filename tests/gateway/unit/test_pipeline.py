"""The request pipeline driven directly as an ASGI app (`Invoker`), against an in-process
upstream on a loopback socket, with clocks the test moves: readiness first, a direct call,
failover with suspension, key expiry and a quota window without any sleep, and request
policies stopping or answering a call on the extension point."""

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry

from aigw.common.crypto import SecretBox, generate_master_key, provider_key_context, sha256_hex
from aigw.common.events import (
    ApiDeployed,
    DeployedEndpoint,
    EventPayload,
    KeyIssued,
    PolicyUpdated,
    QuotaLimit,
    SubscriptionCreated,
)
from aigw.common.model_routing import ApiRouting, RouteTarget, RoutingPolicy
from aigw.common.vendors import builtin_spec
from aigw.devtools.processes import free_port
from aigw.gateway.asgi import Message
from aigw.gateway.client import ANY_ADDRESS, Pool
from aigw.gateway.errors import Refused
from aigw.gateway.guardrails.compiler import GuardrailCompiler
from aigw.gateway.invocation import Invocation
from aigw.gateway.policies.base import Answered, Policy, PolicyRun
from aigw.gateway.proxy.authenticate import Authenticator
from aigw.gateway.proxy.invoker import GatewayState, Invoker
from aigw.gateway.proxy.metrics import GatewayMetrics
from aigw.gateway.proxy.plan import Planner
from aigw.gateway.proxy.route_policies import PolicyCompiler
from aigw.gateway.quota.book import QuotaBook
from aigw.gateway.quota.enforcer import QuotaEnforcer
from aigw.gateway.routing.builder import apply
from tests.support.guardrails import guardrail

BOX = SecretBox(generate_master_key())
OPENAI = builtin_spec("OpenAI", "v1")
KEY = "aigw_caller-key"
PATH = "/chat/1.0/v1/chat/completions"
BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


@dataclass
class Upstream:
    """Answers every request with 200 and a usage-bearing chat answer, except paths under
    `/down`, which get 503; records what it was sent."""

    port: int = field(default_factory=free_port)
    requests: list[bytes] = field(default_factory=list)
    writers: set[asyncio.StreamWriter] = field(default_factory=set)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writers.add(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                self.requests.append(head + await reader.readexactly(length))
                status = b"503 Busy" if head.split(b" ")[1].startswith(b"/down") else b"200 OK"
                answer = {"model": "served", "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}}  # fmt: skip
                body = json.dumps(answer).encode()
                writer.write(
                    b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\n"
                    b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    server = Upstream()
    listening = await asyncio.start_server(server.handle, "127.0.0.1", server.port)
    yield server
    for writer in server.writers:  # the pool keeps its connections alive
        writer.close()
    listening.close()
    await listening.wait_closed()


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def endpoint(url: str, name: str) -> DeployedEndpoint:
    context = provider_key_context("api1", name, url.rstrip("/"))
    return DeployedEndpoint(url=url, api_key_ciphertext=BOX.encrypt(f"sk-{name}", context))


def deployed(base: str, routing: ApiRouting | None = None) -> ApiDeployed:
    assert OPENAI is not None
    return ApiDeployed(
        api_id="api1",
        revision=1,
        name="Chat",
        version="1.0",
        route_prefix="chat/1.0",
        vendor=OPENAI,
        production=endpoint(f"{base}/prod", "production"),
        endpoints={"down": endpoint(f"{base}/down", "down"), "b": endpoint(f"{base}/b", "b")},
        routing=routing or ApiRouting(),
    )


@dataclass
class Pipeline:
    invoker: Invoker
    wall: Clock
    steady: Clock

    async def call(self, path: str = PATH, key: str = KEY) -> tuple[int, dict, dict[bytes, bytes]]:
        body = json.dumps(BODY).encode()
        scope = {
            "type": "http",
            "method": "POST",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": [(b"content-type", b"application/json"), (b"authorization", f"Bearer {key}".encode())],
        }  # fmt: skip
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        sent: list[Message] = []

        async def receive() -> Message:
            if messages:
                return messages.pop(0)
            await asyncio.Event().wait()  # the client never leaves
            raise AssertionError

        async def send(message: Message) -> None:
            sent.append(message)

        await self.invoker(scope, receive, send)
        payload = b"".join(m.get("body", b"") for m in sent[1:])
        return sent[0]["status"], json.loads(payload), dict(sent[0]["headers"])


def pipeline(
    events: Sequence[EventPayload],
    policies: Sequence[Policy] = (),
    compilers: Sequence[PolicyCompiler] = (),
) -> Pipeline:
    state = GatewayState()
    for event in events:
        apply(state.table, event, BOX)
    state.upstream = Pool(addresses=ANY_ADDRESS)
    wall, steady = Clock(), Clock(50.0)
    return Pipeline(
        Invoker(
            state,
            GatewayMetrics(CollectorRegistry()),
            1_000_000,
            quota=QuotaEnforcer(state.table, QuotaBook(), None, clock=wall),
            planner=Planner(clock=steady),
            authenticator=Authenticator(state.table, clock=wall),
            policies=policies,
            compilers=compilers,
        ),
        wall,
        steady,
    )


def caller(plan: str = "Unlimited", expires_at: float | None = None) -> list[EventPayload]:
    key = KeyIssued(
        key_id="k1", key_hash=sha256_hex(KEY), application_id="app1", key_type="PRODUCTION"
    )
    if expires_at is not None:
        key = key.model_copy(update={"expires_at": datetime.fromtimestamp(expires_at, UTC)})
    sub = SubscriptionCreated(
        subscription_id="s1", application_id="app1", api_id="api1", policy=plan
    )
    return [key, sub]


async def test_readiness_is_the_first_check(upstream):
    line = pipeline([deployed(upstream.url), *caller()])
    line.invoker.state.upstream = None
    status, body, _ = await line.call("/no/such/api", key="wrong")
    assert (status, body["error"]["code"]) == (503, "not_ready")
    assert upstream.requests == []


async def test_a_direct_call_reaches_its_endpoint_with_the_provider_key(upstream):
    line = pipeline([deployed(upstream.url), *caller()])
    status, body, _ = await line.call()
    assert status == 200
    assert body["usage"]["total_tokens"] == 7
    (sent,) = upstream.requests
    assert sent.startswith(b"POST /prod/v1/chat/completions HTTP/1.1")
    assert b"authorization: Bearer sk-production" in sent
    assert KEY.encode() not in sent  # the caller's key never reaches the provider


async def test_failover_suspends_the_failed_target_until_the_clock_passes(upstream):
    policy = RoutingPolicy(
        targets=[RouteTarget(endpoint="down")],
        fallbacks=[RouteTarget(endpoint="b", model="fallback-model")],
        suspend_seconds=30,
    )
    line = pipeline([deployed(upstream.url, ApiRouting(production=policy)), *caller()])
    status, _, headers = await line.call()
    assert (status, headers[b"x-aigw-target"], headers[b"x-aigw-model"]) == (
        200,
        b"b",
        b"fallback-model",
    )
    assert [r.split(b" ")[1] for r in upstream.requests] == [b"/down/v1/chat/completions", b"/b/v1/chat/completions"]  # fmt: skip
    assert json.loads(upstream.requests[1].partition(b"\r\n\r\n")[2])["model"] == "fallback-model"
    upstream.requests.clear()
    line.steady.now += 29  # still resting: straight to the fallback
    assert (await line.call())[0] == 200
    assert [r.split(b" ")[1] for r in upstream.requests] == [b"/b/v1/chat/completions"]
    upstream.requests.clear()
    line.steady.now += 2  # rested: tried again first
    await line.call()
    assert upstream.requests[0].split(b" ")[1] == b"/down/v1/chat/completions"


async def test_a_key_expires_on_the_authenticators_clock(upstream):
    line = pipeline([deployed(upstream.url), *caller(expires_at=1_000_100.0)])
    assert (await line.call())[0] == 200
    line.wall.now = 1_000_100.0
    status, body, _ = await line.call()
    assert (status, body["error"]["code"]) == (401, "expired_api_key")


async def test_a_quota_window_resets_on_the_enforcers_clock(upstream):
    plan = PolicyUpdated(name="OnePerMinute", limits=[QuotaLimit(unit="minute", requests=1)])
    line = pipeline([deployed(upstream.url), plan, *caller("OnePerMinute")])
    line.wall.now = 60 * 20_000.0  # the start of a minute
    status, _, headers = await line.call()
    assert (status, headers[b"x-ratelimit-remaining-requests"]) == (200, b"0")
    status, body, headers = await line.call()
    assert (status, body["error"]["code"], headers[b"retry-after"]) == (
        429,
        "quota_exceeded",
        b"60",
    )
    line.wall.now += 60
    assert (await line.call())[0] == 200
    assert len(upstream.requests) == 2


FINISHED: list[int] = []


class _Stop(PolicyRun):
    def on_finish(self, call: Invocation) -> None:
        FINISHED.append(call.status)

    async def on_request(self, call: Invocation) -> None:
        if "forbidden" in json.dumps(call.parsed):
            raise Refused(446, "The prompt did not pass the guardrail.", "guardrail_intervened")
        raise Answered(200, [(b"content-type", b"application/json")], b'{"cached": true}')


class StopOrAnswer:
    """A request policy of the test's own: refuses a prompt with a word, answers the rest."""

    name = "stop-or-answer"

    def start(self, call: Invocation) -> PolicyRun:
        return _Stop()


async def test_a_request_policy_answers_or_stops_a_call_before_the_provider(upstream):
    plan = PolicyUpdated(name="Ten", limits=[QuotaLimit(unit="minute", requests=10)])
    line = pipeline([deployed(upstream.url), plan, *caller("Ten")], [StopOrAnswer()])
    FINISHED.clear()
    status, body, headers = await line.call()
    assert (status, body) == (200, {"cached": True})
    assert headers[b"x-ratelimit-remaining-requests"] == b"9"  # an answer counts
    assert headers[b"content-length"] == b"16"
    BODY["messages"][0]["content"] = "forbidden"
    try:
        status, body, headers = await line.call()
    finally:
        BODY["messages"][0]["content"] = "hi"
    assert (status, body["error"]["code"]) == (446, "guardrail_intervened")
    assert not any(name.startswith(b"x-ratelimit") for name in headers)  # a refusal does not
    assert upstream.requests == []
    assert FINISHED == [200, 446]  # every run is told how its call ended


async def test_a_guardrail_intervention_counts_a_request_but_no_tokens_and_is_counted(upstream):
    params = {"regex": "forbidden", "invert": True}
    deny = guardrail("REGEX_GUARDRAIL", params, name="no-forbidden", flow="request")
    api = deployed(upstream.url).model_copy(update={"guardrails": [deny]})
    plan = PolicyUpdated(
        name="Ten", limits=[QuotaLimit(unit="minute", requests=10, total_tokens=100)]
    )
    line = pipeline([api, plan, *caller("Ten")], compilers=[GuardrailCompiler()])
    BODY["messages"][0]["content"] = "forbidden"
    try:
        status, body, _ = await line.call()
    finally:
        BODY["messages"][0]["content"] = "hi"
    assert (status, body["guardrail"]["interveningGuardrail"]) == (446, "no-forbidden")
    assert upstream.requests == []  # never reached the provider
    tokens = [s for m in line.invoker.metrics.tokens.collect() for s in m.samples]
    assert [s for s in tokens if s.name.endswith("_total")] == []  # it charged no tokens
    status, _, headers = await line.call()
    assert status == 200
    assert headers[b"x-ratelimit-remaining-requests"] == b"8"  # the intervened call counted
    metrics = line.invoker.metrics.interventions
    labels = {"api": "Chat:1.0", "guardrail": "no-forbidden", "direction": "REQUEST"}
    assert metrics.labels(**labels)._value.get() == 1
