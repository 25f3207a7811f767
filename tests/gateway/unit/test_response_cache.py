"""The response cache's parts without NATS: keys and the conversation partition, the index
(TTL on an injected clock, the byte budget, nearest by similarity), entries (encoding, a
partition that is not its key's), stream <-> JSON replay, and the policy's runs (miss, store,
hit, bypass) with a small deterministic embedder of the test's own."""

import dataclasses
import json
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from aigw.common.event_trust import EventSigner, EventVerifier
from aigw.common.events import ApiDeployed
from aigw.common.identity import Identity
from aigw.common.response_cache import ResponseCache
from aigw.common.vendors import builtin_spec
from aigw.gateway.cache import index as index_module
from aigw.gateway.cache.entry import CachedAnswer, decode, encode
from aigw.gateway.cache.index import CacheIndex
from aigw.gateway.cache.keys import cache_key
from aigw.gateway.cache.policy import CacheOutcomes, ResponseCachePolicy
from aigw.gateway.cache.replay import chunks_of_completion, completion_of_chunks
from aigw.gateway.cache.shared import SharedCache, subject_of
from aigw.gateway.embeddings import EmbeddingError, Vectors, unit_rows
from aigw.gateway.invocation import Intervention, Invocation
from aigw.gateway.metering.meter import Usage
from aigw.gateway.metering.request import facts
from aigw.gateway.policies.base import Answered, PolicyRun
from aigw.gateway.routing.builder import apply
from aigw.gateway.routing.table import KeyEntry, RoutingTable

EXACT = ResponseCache(mode="exact", ttl_seconds=60)
SEMANTIC = ResponseCache(mode="semantic", ttl_seconds=60, threshold=0.8, scope="api")
ANSWER = {
    "id": "c1",
    "object": "chat.completion",
    "created": 1,
    "model": "m",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Paris."},
            "finish_reason": "stop",
        }
    ],
    "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11},
}


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class Words:
    """A bag of words hashed into 64 dimensions: the same words, the same vector."""

    def __init__(self) -> None:
        self.fail = False

    async def embed(self, texts: Sequence[str]) -> Vectors:
        if self.fail:
            raise EmbeddingError("down")
        rows = np.zeros((len(texts), 64), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z]+", text.lower()):
                rows[row, sum(map(ord, word)) % 64] += 1
        return unit_rows(rows)


def call(messages: list[dict[str, Any]], app: str = "app1", **body: Any) -> Invocation:
    invocation = Invocation(0.0, "POST", "")
    invocation.api, invocation.label = "api1", "Chat:1.0"
    invocation.rest = "/v1/chat/completions"
    invocation.entry = KeyEntry("k", app, "PRODUCTION")
    invocation.parsed = {"model": "m", "messages": messages, **body}
    invocation.facts = facts(invocation.parsed, "m")
    return invocation


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def test_exact_keys_ignore_delivery_fields_and_split_by_application():
    plain = cache_key(call(user("hi")), EXACT, "")
    streamed = cache_key(call(user("hi"), stream=True, stream_options={"include_usage": True}, user="u"), EXACT, "")  # fmt: skip
    assert plain is not None
    assert streamed is not None
    assert plain.key == streamed.key
    assert cache_key(call(user("hi"), app="app2"), EXACT, "") != plain
    assert cache_key(call(user("hi"), temperature=0), EXACT, "") != plain
    shared = ResponseCache(mode="exact", scope="api")
    assert cache_key(call(user("hi")), shared, "") == cache_key(call(user("hi"), app="app2"), shared, "")  # fmt: skip


def test_semantic_partition_is_the_conversation_before_the_last_user_message():
    one = [{"role": "system", "content": "Be brief"}, *user("And its capital?")]
    other = [*user("Tell me about France"), {"role": "assistant", "content": "..."}, *user("And its capital?")]  # fmt: skip
    a, b = cache_key(call(one), SEMANTIC, "e5"), cache_key(call(other), SEMANTIC, "e5")
    assert a is not None
    assert b is not None
    assert a.text == b.text == "And its capital?"
    assert a.partition != b.partition  # same last message, another conversation
    again = cache_key(call(one), SEMANTIC, "e5")
    assert again == a
    assert cache_key(call(one), SEMANTIC, "other-model").partition != a.partition  # type: ignore[union-attr]
    assert (
        cache_key(call(one, tools=[{"type": "function"}]), SEMANTIC, "e5").partition != a.partition
    )  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "messages",
    [
        [{"role": "assistant", "content": "last is not the user's"}],
        [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}],
        [],
    ],
)
def test_semantic_mode_has_no_key_without_a_last_user_text(messages):
    assert cache_key(call(messages), SEMANTIC, "e5") is None


def entry(key: str = "x.1", stored_at: float = 1_000.0, ttl: float = 60, **kw: Any) -> CachedAnswer:
    fields: dict[str, Any] = {
        "key": key, "partition": key, "status": 200, "content_type": "application/json",
        "body": json.dumps(ANSWER).encode(), "prompt_tokens": 9, "completion_tokens": 2,
        "total_tokens": 11, "stored_at": stored_at, "expires_at": stored_at + ttl,
    }  # fmt: skip
    return CachedAnswer(**{**fields, **kw})


def test_the_index_serves_an_entry_until_its_ttl_on_the_clock():
    clock = Clock()
    index = CacheIndex(clock)
    index.add(entry())
    assert index.exact("x.1", 60) is not None
    clock.now += 59.9
    assert index.exact("x.1", 60) is not None
    assert index.exact("x.1", 30) is None  # the API's TTL shortened since: expired too
    index.add(entry())
    clock.now += 0.2
    assert index.exact("x.1", 60) is None
    assert len(index) == 0


def test_the_index_keeps_to_its_byte_budget_least_recently_used_out():
    index = CacheIndex(Clock(), max_bytes=3 * entry().size)
    for n in range(3):
        index.add(entry(f"x.{n}"))
    assert index.exact("x.0", 60) is not None  # used: now the most recent
    index.add(entry("x.3"))
    assert [index.exact(f"x.{n}", 60) is not None for n in range(4)] == [True, False, True, True]
    assert index.bytes <= index.max_bytes


def test_nearest_needs_the_threshold_within_the_partition():
    index = CacheIndex(Clock())
    near = np.array([1.0, 0.0], dtype=np.float32)
    index.add(entry("s.p.1", partition="p", vector=near))
    index.add(entry("s.q.1", partition="q", vector=near))
    query = unit_rows(np.array([[0.9, 0.1]], dtype=np.float32))[0]
    found = index.nearest("p", query, 0.95, 60)
    assert found is not None
    assert found.key == "s.p.1"
    assert index.nearest("p", query, 0.999, 60) is None
    assert index.nearest("r", query, 0.1, 60) is None


def test_an_entry_round_trips_and_must_belong_to_its_key():
    vector = np.array([0.6, 0.8], dtype=np.float32)
    semantic = entry("s.p.1", partition="p", vector=vector)
    back = decode("s.p.1", encode(semantic))
    assert back.body == semantic.body
    assert back.vector is not None
    assert np.allclose(back.vector, vector)
    assert decode("x.1", encode(entry())).total_tokens == 11
    with pytest.raises(ValueError, match="partition"):
        decode("s.other.1", encode(semantic))  # moved into another conversation's partition
    with pytest.raises(ValueError, match="malformed"):
        decode("x.1", b"not json")


def test_a_stream_adds_up_to_the_answer_it_replays():
    stream = chunks_of_completion(json.dumps(ANSWER).encode(), with_usage=True)
    assert stream is not None
    assert stream.endswith(b"data: [DONE]\n\n")
    chunks = [json.loads(line[6:]) for line in stream.split(b"\n\n") if line[6:] not in (b"", b"[DONE]")]  # fmt: skip
    assert chunks[-1]["usage"] == ANSWER["usage"]
    assert json.loads(completion_of_chunks(chunks) or b"") == ANSWER
    assert b"usage" not in (chunks_of_completion(json.dumps(ANSWER).encode(), False) or b"")
    tool = {**chunks[1], "choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0}]}}]}
    assert completion_of_chunks([chunks[0], tool, chunks[2]]) is None  # not replayed: not stored


class Head:
    def __init__(self, content_type: str = "application/json") -> None:
        self.status, self.headers, self.content_type = 200, {}, content_type


def shared(clock: Clock) -> SharedCache:
    identity = Identity.generate("gateway")
    verifier = EventVerifier({"gateway": [identity.event_key().public_key()]})
    return SharedCache(lambda: None, EventSigner(identity), verifier, CacheIndex(clock))


async def answered_by_provider(run: PolicyRun, invocation: Invocation) -> None:
    """What the pipeline does for a call the provider answered with ANSWER."""
    invocation.provider_status = invocation.status = 200
    invocation.usage = Usage(9, 2, 11, reported=True)
    assert run.on_response(invocation, Head())
    await run.on_body(json.dumps(ANSWER).encode())
    run.on_finish(invocation)


def outcome(invocation: Invocation) -> bytes:
    return dict(invocation.answer_headers)[b"x-aigw-cache"]


async def test_semantic_miss_then_a_paraphrase_hits_and_another_conversation_misses():
    clock, words = Clock(), Words()
    policy = ResponseCachePolicy(SEMANTIC, shared(clock), words, "words", CacheOutcomes(), clock)
    first = call(user("What is the capital of France?"))
    run = policy.start(first)
    assert run is not None
    await run.on_request(first)
    assert outcome(first) == b"miss"
    await answered_by_provider(run, first)

    paraphrase = call(user("the capital of France is what"), stream=True)
    with pytest.raises(Answered) as hit:
        await policy.start(paraphrase).on_request(paraphrase)  # type: ignore[union-attr]
    assert outcome(paraphrase) == b"hit"
    assert paraphrase.tokens_saved == 11
    assert b'"content":"Paris."' in hit.value.body  # replayed as a stream
    assert dict(hit.value.headers)[b"content-type"] == b"text/event-stream"

    later = call([*user("Hi"), {"role": "assistant", "content": "Hello"}, *user("What is the capital of France?")])  # fmt: skip
    await policy.start(later).on_request(later)  # type: ignore[union-attr]
    assert outcome(later) == b"miss"
    assert policy.outcomes[("Chat:1.0", "hit")] == 1

    words.fail = True  # no embedder: the provider answers, never a guess
    down = call(user("What is the capital of France?"))
    await policy.start(down).on_request(down)  # type: ignore[union-attr]
    assert outcome(down) == b"bypass"


async def test_exact_no_cache_bypasses_and_refreshes_and_a_guardrailed_answer_is_not_stored():
    clock = Clock()
    cache = shared(clock)
    policy = ResponseCachePolicy(EXACT, cache, None, "", CacheOutcomes(), clock)
    stopped = call(user("hi"))
    run = policy.start(stopped)
    await run.on_request(stopped)  # type: ignore[union-attr]
    stopped.intervention = Intervention("no-pii", "RESPONSE")
    await answered_by_provider(run, stopped)  # type: ignore[arg-type]
    assert len(cache.index) == 0

    fresh = call(user("hi"))
    fresh.no_cache = True
    run = policy.start(fresh)
    await run.on_request(fresh)  # type: ignore[union-attr]
    assert outcome(fresh) == b"bypass"
    await answered_by_provider(run, fresh)  # type: ignore[arg-type]
    assert len(cache.index) == 1  # refreshed

    again = call(user("hi"))
    with pytest.raises(Answered):
        await policy.start(again).on_request(again)  # type: ignore[union-attr]
    other_app = call(user("hi"), app="app2")
    await policy.start(other_app).on_request(other_app)  # type: ignore[union-attr]
    assert outcome(other_app) == b"miss"  # scope application: never another's answer
    clock.now += 61
    expired = call(user("hi"))
    await policy.start(expired).on_request(expired)  # type: ignore[union-attr]
    assert outcome(expired) == b"miss"


def test_the_watch_ignores_unsigned_and_forged_entries_and_counts_them():
    cache = shared(Clock())
    body = encode(entry())
    subject = subject_of("x.1")
    cache.learn(subject, body, None)
    forger = EventSigner(Identity.generate("gateway"))  # a key the trust file does not hold
    cache.learn(subject, body, forger.headers(subject, body))
    moved = cache._signer.headers(subject_of("x.2"), body)  # signed for another key
    cache.learn(subject, body, moved)
    assert len(cache.index) == 0
    assert cache.rejected == {"unsigned": 1, "bad_signature": 2}
    cache.learn(subject, body, cache._signer.headers(subject, body))
    assert len(cache.index) == 1


def test_keys_split_by_key_type_revision_and_the_vendors_caller_headers():
    """A sandbox key's answer (another endpoint, maybe another model) is never a production
    key's; a redeploy starts afresh; an `anthropic-version` the caller set changes the shape."""
    table = RoutingTable()
    event = {"api_id": "api1", "revision": 1, "name": "Msg", "version": "1.0"}
    vendor = builtin_spec("Anthropic", "2023-06-01")
    apply(table, ApiDeployed.model_validate({**event, "route_prefix": "msg/1.0", "vendor": vendor}))
    route = table.routes["msg/1.0"]

    def keyed(key_type: str = "PRODUCTION", revision: int = 1, headers=()) -> str:
        invocation = call(user("hi"))
        invocation.route = dataclasses.replace(route, revision=revision)
        invocation.entry = KeyEntry("k", "app1", key_type)  # type: ignore[arg-type]
        invocation.headers = list(headers)
        found = cache_key(invocation, EXACT, "")
        assert found is not None
        return found.key

    base = keyed()
    assert keyed("SANDBOX") != base
    assert keyed(revision=2) != base
    assert b"anthropic-version" in route.vendor.caller_headers
    assert keyed(headers=[("anthropic-version", "2023-06-01")]) != base
    assert keyed(headers=[("user-agent", "sdk/2")]) == base  # generic headers do not split


def test_a_lone_surrogate_in_the_body_is_keyed_not_an_error():
    assert cache_key(call(user("\ud800 hi")), EXACT, "") is not None


def test_a_semantic_partition_keeps_its_newest_entries_only(monkeypatch):
    monkeypatch.setattr(index_module, "MAX_PER_PARTITION", 3)
    index = CacheIndex(Clock())
    for number in range(5):
        vector = unit_rows(np.array([[1.0, number / 10]], dtype=np.float32))[0]
        index.add(entry(f"s.p.{number}", partition="p", vector=vector))
    assert len(index) == 3
    assert index.exact("s.p.0", 60) is None
    assert index.exact("s.p.4", 60) is not None
