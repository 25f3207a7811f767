"""The response cache as a request and response policy of an API (see policies.base).

On the request it computes the call's key (`keys`), embeds the last user message in semantic
mode, and looks the answer up in this gateway's index (no I/O): a hit answers the call itself
(`Answered`, passed back through the response policies before it), a miss lets the call go to
the provider and watches the answer. Every answer says `x-aigw-cache: hit | miss | bypass`.
Bypass: `Cache-Control: no-cache` (the answer is then stored afresh), a request that cannot be
keyed, semantic mode without a working embedder (an answer is never guessed).

Only a successful (2xx), complete (a JSON answer, or a stream that ended), non-guardrailed
answer is stored, with what it cost, once the call is over (`on_finish`), off the hot path.
"""

import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from aigw.common.response_cache import CacheOutcome, ResponseCache
from aigw.gateway.cache.entry import CachedAnswer
from aigw.gateway.cache.keys import CacheKey, cache_key
from aigw.gateway.cache.replay import chunks_of_completion, completion_of_chunks
from aigw.gateway.cache.shared import SharedCache
from aigw.gateway.embeddings import Embedder, EmbeddingError, Vectors
from aigw.gateway.invocation import Invocation
from aigw.gateway.policies.base import Answered, Policy, PolicyRun, ResponseHead
from aigw.gateway.policies.sse import SseEvent
from aigw.gateway.routing.table import Route

HEADER = b"x-aigw-cache"
MAX_STREAM_CHUNKS = 20_000  # a longer stream is relayed but not stored
_JSON = [(b"content-type", b"application/json")]
_SSE = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]


class CacheOutcomes(Counter[tuple[str, CacheOutcome]]):
    """Calls by (API, outcome), for `aigw_gateway_cache_outcomes_total`."""


class ResponseCachePolicy:
    name = "response-cache"

    def __init__(
        self,
        config: ResponseCache,
        shared: SharedCache,
        embedder: Embedder | None,
        embedding_model: str,
        outcomes: CacheOutcomes,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config, self.shared, self.embedder = config, shared, embedder
        self.embedding_model, self.outcomes, self.clock = embedding_model, outcomes, clock

    def start(self, call: Invocation) -> PolicyRun | None:
        return _CacheRun(self)

    def find(self, key: CacheKey, vector: Vectors | None) -> CachedAnswer | None:
        index, ttl = self.shared.index, self.config.ttl_seconds
        if vector is None:
            return index.exact(key.key, ttl)
        return index.nearest(key.partition, vector, self.config.similarity, ttl)

    def note(self, call: Invocation, outcome: CacheOutcome) -> None:
        call.cache = outcome
        call.answer_headers = [*call.answer_headers, (HEADER, outcome.encode())]
        self.outcomes[(call.label, outcome)] += 1


class _CacheRun(PolicyRun):
    __slots__ = ("_body", "_chunks", "_complete", "_key", "_policy", "_storing", "_vector")

    def __init__(self, policy: ResponseCachePolicy) -> None:
        self._policy = policy
        self._key: CacheKey | None = None
        self._vector: Vectors | None = None
        self._storing = False
        self._body: bytes | None = None
        self._chunks: list[Any] | None = None
        self._complete = False

    async def on_request(self, call: Invocation) -> None:
        policy = self._policy
        key = cache_key(call, policy.config, policy.embedding_model)
        if key is None:
            return policy.note(call, "bypass")
        if key.text is not None:
            if policy.embedder is None:
                return policy.note(call, "bypass")
            try:
                self._vector = (await policy.embedder.embed([key.text]))[0]
            except EmbeddingError:
                return policy.note(call, "bypass")
        self._key, self._storing = key, True
        if call.no_cache:
            return policy.note(call, "bypass")  # and the fresh answer replaces the entry
        hit = policy.find(key, self._vector)
        answer = None if hit is None else _answer(hit, call)
        if answer is None:
            return policy.note(call, "miss")
        self._storing = False
        policy.note(call, "hit")
        call.tokens_saved = hit.total_tokens if hit is not None else 0
        raise answer

    def on_response(self, call: Invocation, head: ResponseHead) -> bool:
        if not self._storing or not 200 <= head.status < 300:
            return False
        if head.headers.get("content-encoding", "identity") != "identity":
            return False
        if head.content_type == "text/event-stream":
            self._chunks = []
            return True
        return head.content_type.endswith("json")

    async def on_body(self, body: bytes) -> bytes:
        self._body = body
        return body

    def on_event(self, event: SseEvent) -> Sequence[SseEvent] | None:
        chunks = self._chunks
        if chunks is not None:
            chunk = event.json()
            if chunk is not None:
                chunks.append(chunk)
                if len(chunks) > MAX_STREAM_CHUNKS:
                    self._chunks = None
        return None

    async def on_end(self) -> Sequence[SseEvent]:
        self._complete = True
        return ()

    def on_finish(self, call: Invocation) -> None:
        key = self._key
        if not self._storing or key is None or call.intervention is not None:
            return
        if call.client_gone or not 200 <= call.status < 300 or call.provider_status == 0:
            return
        body = self._body
        if self._chunks is not None:
            body = completion_of_chunks(self._chunks, _metered(call)) if self._complete else None
        if body is not None:
            self._policy.shared.store(self._entry(call, key, body))

    def _entry(self, call: Invocation, key: CacheKey, body: bytes) -> CachedAnswer:
        usage = call.usage or (call.stream.usage if call.stream is not None else None)
        now, ttl = self._policy.clock(), self._policy.config.ttl_seconds
        prompt = usage.prompt_tokens if usage is not None else 0
        completion = usage.completion_tokens if usage is not None else 0
        total = (usage.total_tokens if usage is not None else 0) or prompt + completion
        return CachedAnswer(
            key=key.key,
            partition=key.partition,
            status=call.provider_status,
            content_type="application/json",
            body=body,
            prompt_tokens=prompt,
            completion_tokens=completion,
            total_tokens=total,
            stored_at=now,
            expires_at=now + ttl,
            vector=self._vector,
        )


def _metered(call: Invocation) -> dict[str, int] | None:
    usage = call.stream.usage if call.stream is not None else None
    if usage is None or not usage.reported:
        return None
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def _answer(hit: CachedAnswer, call: Invocation) -> Answered | None:
    """The hit as the caller asked for it: JSON, or an event stream (None: not replayable)."""
    if not call.facts.stream:
        return Answered(hit.status, _JSON, hit.body)
    stream = chunks_of_completion(hit.body, call.facts.wants_usage)
    return None if stream is None else Answered(hit.status, _SSE, stream)


def cache_compiler(
    shared: SharedCache,
    embedder: Embedder | None,
    embedding_model: str,
    outcomes: CacheOutcomes,
    clock: Callable[[], float] = time.time,
) -> Callable[[Route], Sequence[Policy]]:
    """A `proxy.route_policies.PolicyCompiler`: a route's cache policy, if it has a cache."""

    def compile_route(route: Route) -> Sequence[Policy]:
        if route.cache is None:
            return ()
        return (
            ResponseCachePolicy(route.cache, shared, embedder, embedding_model, outcomes, clock),
        )

    return compile_route
