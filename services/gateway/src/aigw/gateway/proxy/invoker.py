"""The invocation hot path: one request through the pipeline's stages, top to bottom.

    ready -> match -> request headers -> authenticate -> authorise -> operation -> endpoints
    -> body -> admit -> request policies -> plan -> attempts (failover) -> relay (response
    policies) -> settle

Each stage is a small module of `aigw.gateway.proxy` that reads and fills the call's
`Invocation`, and either returns or raises `Refused` (answered here with the OpenAI-style
error), `Answered` (a policy's own answer) or `ClientGone`. Per request this does no I/O other
than the provider call and logs nothing at info level. A client that disconnects at any point
of the provider call (waiting for the answer, reading it or streaming it) makes the gateway
abandon the call and close the upstream connection; such a call is counted with status 499
(in metrics only if the answer had not started).
"""

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aigw.gateway.asgi import CLIENT_CLOSED, RawHeaders, Receive, Scope, Send
from aigw.gateway.client import Pool
from aigw.gateway.errors import Refused, send_error, send_refusal
from aigw.gateway.invocation import Invocation
from aigw.gateway.policies.base import Answered, Policy, PolicyRun, run_requests, start_runs
from aigw.gateway.proxy.admit import admit
from aigw.gateway.proxy.authenticate import Authenticator
from aigw.gateway.proxy.authorise import authorise, choose_endpoints
from aigw.gateway.proxy.body import ClientGone, read_body
from aigw.gateway.proxy.cors import CorsPolicy, request_origin
from aigw.gateway.proxy.disconnect import DisconnectWatch
from aigw.gateway.proxy.failover import ProviderFailed, first_answer
from aigw.gateway.proxy.match import check_operation, match
from aigw.gateway.proxy.metrics import GatewayMetrics
from aigw.gateway.proxy.plan import Planner
from aigw.gateway.proxy.relay import relay, relay_answered
from aigw.gateway.proxy.request_headers import FORWARDED_HEADERS, read_request_headers
from aigw.gateway.proxy.request_id import HEADER as REQUEST_ID
from aigw.gateway.proxy.request_id import request_id
from aigw.gateway.proxy.route_policies import PolicyCompiler, RoutePolicies
from aigw.gateway.proxy.settle import Settlement
from aigw.gateway.proxy.tracing import CallTracing
from aigw.gateway.quota.enforcer import QuotaEnforcer, QuotaRefused
from aigw.gateway.routing.table import RoutingTable

NOT_READY_HEADERS = ((b"retry-after", b"1"),)


@dataclass
class GatewayState:
    """What the hot path reads; filled by the app's lifespan."""

    table: RoutingTable = field(default_factory=RoutingTable)
    upstream: Pool | None = None  # the provider connections
    # whether the table has replayed the stream up to where it stood at start (the app's
    # lifespan points it at the event follower); until then a call is a 503, never a 404
    replayed: Callable[[], bool] = lambda: True


class Invoker:
    """The raw-ASGI invocation handler; `policies` run before the API's own ones (which
    `compilers` compile per revision) and the built-in ones (`proxy.route_policies`)."""

    def __init__(
        self,
        state: GatewayState,
        metrics: GatewayMetrics,
        max_body_bytes: int,
        cors: CorsPolicy | None = None,
        quota: QuotaEnforcer | None = None,
        settlement: Settlement | None = None,
        forward_headers: frozenset[bytes] = frozenset(),
        planner: Planner | None = None,
        authenticator: Authenticator | None = None,
        policies: Sequence[Policy] = (),
        compilers: Sequence[PolicyCompiler] = (),
        tracing: CallTracing | None = None,
    ) -> None:
        self.state = state
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.cors = cors or CorsPolicy(())
        self.quota = quota
        self.forwarded = FORWARDED_HEADERS | forward_headers
        self.planner = planner or Planner()
        self.authenticator = authenticator or Authenticator(state.table)
        self.settlement = settlement or Settlement(state.table, metrics, quota, None)
        self.policies = RoutePolicies(policies, compilers)
        self.tracing = tracing  # None: tracing off (OTEL_EXPORTER_OTLP_ENDPOINT unset)
        self._replayed = False  # once the table has replayed, it stays so

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query: str = scope.get("query_string", b"").decode("latin-1")
        rid = request_id(scope["headers"])
        call = Invocation(time.perf_counter(), scope["method"], query, rid.decode("ascii"))
        call.answer_headers = [(REQUEST_ID, rid)]  # every answer carries it
        if self.tracing is not None:  # tracing: the one check when off
            self.tracing.begin(call, scope)
        runs: list[PolicyRun] = []
        try:
            call.status = await self._handle(call, runs, scope, receive, send)
        finally:
            for run in runs:
                run.on_finish(call)
            self.settlement.settle(call)
            if call.trace is not None:  # tracing: the spans end once the call is settled
                call.trace.finish(call)

    async def _handle(
        self, call: Invocation, runs: list[PolicyRun], scope: Scope, receive: Receive, send: Send
    ) -> int:
        if self.cors.enabled:
            origin, asks_method = request_origin(scope["headers"])
            if asks_method and origin is not None and scope["method"] == "OPTIONS":
                return await self._preflight(origin, call.answer_headers, send)
            call.answer_headers += self.cors.response_headers(origin)
        try:
            pool = await self._prepare(call, scope, receive)
        except Refused as refused:
            return await self._refuse(call, refused, send)
        except ClientGone:
            return CLIENT_CLOSED
        assert call.route is not None  # matched in `_prepare`
        runs += start_runs(self.policies.for_route(call.route), call)
        if call.admission is not None:  # what the caller's plan has left, on answered calls
            call.answer_headers = [*call.admission.headers, *call.answer_headers]
        return await self._exchange(call, pool, runs, receive, send)

    async def _prepare(self, call: Invocation, scope: Scope, receive: Receive) -> Pool:
        """Every stage before the policies; each returns or raises."""
        pool = self.state.upstream
        if pool is None or not (self._replayed or self._replay_done()):
            raise Refused(503, "The gateway is starting.", "not_ready", NOT_READY_HEADERS)
        table = self.state.table
        route = match(table, call, scope)
        read_request_headers(call, scope["headers"], self.forwarded)
        call.entry = entry = self.authenticator.authenticate(call.credential)
        authorise(table, entry, route)
        check_operation(route, scope)
        choose_endpoints(call)
        await read_body(call, receive, self.max_body_bytes)
        if self.quota is not None:
            await admit(self.quota, call)
        return pool

    def _replay_done(self) -> bool:
        self._replayed = self.state.replayed()
        return self._replayed

    async def _exchange(
        self, call: Invocation, pool: Pool, runs: list[PolicyRun], receive: Receive, send: Send
    ) -> int:
        """Request policies, plan, the provider call and the relay of its answer. If the
        client disconnects at any point, the call is abandoned (and the provider's connection
        closed)."""
        watch = DisconnectWatch(receive)
        answer = None
        try:
            await run_requests(runs, call)
            plan = self.planner.plan(call)
            answer = await first_answer(call, pool, plan, self.planner, self.metrics, watch)
            return await relay(call, answer, runs, watch, send)
        except Refused as refused:
            watch.stop()
            return await self._refuse(call, refused, send)
        except Answered as answered:
            watch.stop()
            return await relay_answered(call, answered, send)
        except ProviderFailed as failed:
            watch.stop()
            await send_error(send, failed.status, failed.message, failed.code, call.answer_headers)
            return failed.status
        except ClientGone:
            return CLIENT_CLOSED
        except asyncio.CancelledError:
            if not watch.absorb():
                raise
            return answer.resp.status if answer is not None and answer.head_sent else CLIENT_CLOSED
        finally:
            if call.provider_ended == 0.0:
                call.provider_ended = time.perf_counter()
            call.client_gone = watch.gone
            watch.stop()
            watch.absorb()  # in case the cancellation surfaced as another error
            if answer is not None:
                if watch.gone:
                    answer.resp.close()
                else:
                    answer.resp.release()

    async def _refuse(self, call: Invocation, refused: Refused, send: Send) -> int:
        if isinstance(refused, QuotaRefused):
            self.metrics.rejected(call.label, refused.kind)
        extra = [*refused.headers, *self._cors_only(call)]
        await send_refusal(send, refused, extra)
        return refused.status

    def _cors_only(self, call: Invocation) -> RawHeaders:
        """A refusal carries CORS but not the plan's remaining counts (the call did not count)."""
        if call.admission is None:
            return call.answer_headers
        admitted = set(call.admission.headers)
        return [header for header in call.answer_headers if header not in admitted]

    async def _preflight(self, origin: bytes, own: RawHeaders, send: Send) -> int:
        """Answer a CORS preflight without credentials: browsers send none with it."""
        if not self.cors.allows(origin):
            message = "This origin may not call the gateway."
            await send_error(send, 403, message, "cors_denied", own)
            return 403
        headers = [*self.cors.preflight_headers(origin), *own]
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return 204
