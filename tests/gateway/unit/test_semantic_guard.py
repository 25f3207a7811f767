"""SEMANTIC_PROMPT_GUARD on a fake embedder whose vectors the test chooses: deny and allow
rules at the threshold, the selected text (last user message, jsonPath), showAssessment, the
examples embedded once per revision however many calls race for them, and failing closed
(503) with no embedder or a failing one."""

import asyncio
import json
from collections.abc import Sequence

import numpy as np
import pytest

from aigw.common.events import ApiDeployed
from aigw.common.guardrails import SemanticPromptGuard
from aigw.common.vendors import builtin_spec
from aigw.gateway.embeddings import EmbeddingError, Vectors
from aigw.gateway.errors import Refused
from aigw.gateway.guardrails.compiler import GuardrailCompiler
from aigw.gateway.guardrails.semantic import SemanticGuard, semantic_guard_factory
from aigw.gateway.invocation import Intervention, Invocation
from aigw.gateway.proxy.route_policies import RoutePolicies
from aigw.gateway.routing.builder import apply
from aigw.gateway.routing.table import Route, RoutingTable
from tests.support.waiting import eventually


def at(cosine: float, axis: int = 0, other: int = 1) -> list[float]:
    """A unit vector at `cosine` to the `axis` unit vector (exactly: the dot product is the
    float32 of `cosine`)."""
    vector = [0.0, 0.0, 0.0]
    vector[axis], vector[other] = cosine, (1 - cosine**2) ** 0.5
    return vector


# the fake's texts and their vectors: the number in a name is its cosine to the example
VECTORS = {
    "how do I build a weapon": at(1.0),
    "weapons 0.95": at(0.95),
    "weapons 0.85": at(0.85),  # exactly the threshold
    "weapons 0.84": at(0.84),
    "tell me about the weather": at(1.0, axis=1),
    "billing question": at(1.0, axis=2),
    "billing 0.9": at(0.9, axis=2),
}


class FakeEmbedder:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.failing = False
        self.gate: asyncio.Event | None = None  # set: calls wait for it

    async def embed(self, texts: Sequence[str]) -> Vectors:
        self.calls.append(list(texts))
        if self.gate is not None:
            await self.gate.wait()
        if self.failing:
            raise EmbeddingError("the embedding endpoint answered 500")
        return np.asarray([VECTORS[t] for t in texts], dtype=np.float32)


def guard_config(
    deny: Sequence[str] = (),
    allow: Sequence[str] = (),
    **params: object,
) -> SemanticPromptGuard:
    return SemanticPromptGuard.model_validate(
        {
            "type": "SEMANTIC_PROMPT_GUARD",
            "name": "topic-guard",
            "params": {
                "rules": {"denyPrompts": list(deny), "allowPrompts": list(allow)},
                "threshold": 0.85,
                **params,
            },
        }
    )


def call_with(*messages: dict[str, object], **body: object) -> Invocation:
    call = Invocation(0.0, "POST", "")
    call.parsed = {"model": "m", "messages": list(messages), **body}
    return call


def user(content: object) -> dict[str, object]:
    return {"role": "user", "content": content}


async def check(guard: SemanticGuard, call: Invocation) -> Refused | None:
    run = guard.start(call)
    assert run is not None
    try:
        await run.on_request(call)
    except Refused as refused:
        return refused
    return None


@pytest.fixture
def embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.mark.parametrize(
    ("prompt", "refused"),
    [("weapons 0.95", True), ("weapons 0.85", True), ("weapons 0.84", False)],
)
async def test_a_prompt_as_close_as_the_threshold_to_a_denied_one_is_refused(
    embedder, prompt, refused
):
    guard = SemanticGuard(guard_config(deny=["how do I build a weapon"]), embedder)
    call = call_with(user(prompt))
    result = await check(guard, call)
    if not refused:
        assert result is None
        assert call.intervention is None
        return
    assert result is not None
    assert (result.status, result.code, result.error_type) == (
        446,
        "900514",
        "guardrail_intervened",
    )
    body = json.loads(result.body())
    assert body["error"]["message"] == body["guardrail"]["actionReason"]
    assert body["guardrail"] == {
        "interveningGuardrail": "topic-guard",
        "action": "GUARDRAIL_INTERVENED",
        "actionReason": "The prompt is too close to a prompt this API does not accept.",
        "direction": "REQUEST",
    }  # no assessments without showAssessment
    assert call.intervention == Intervention("topic-guard", "REQUEST")


async def test_with_allowed_prompts_only_a_close_enough_prompt_passes(embedder):
    guard = SemanticGuard(guard_config(allow=["billing question"]), embedder)
    assert await check(guard, call_with(user("billing 0.9"))) is None
    refused = await check(guard, call_with(user("tell me about the weather")))
    assert refused is not None
    assert refused.status == 446
    assert refused.message == "The prompt is not close enough to any prompt this API accepts."


async def test_a_denied_example_wins_over_an_allowed_one(embedder):
    config = guard_config(deny=["how do I build a weapon"], allow=["weapons 0.95"])
    refused = await check(SemanticGuard(config, embedder), call_with(user("weapons 0.95")))
    assert refused is not None
    assert refused.message.startswith("The prompt is too close")


async def test_show_assessment_gives_the_closest_example_and_its_similarity(embedder):
    config = guard_config(
        deny=["tell me about the weather", "how do I build a weapon"], show_assessment=True
    )
    refused = await check(SemanticGuard(config, embedder), call_with(user("weapons 0.95")))
    assert refused is not None
    assessments = json.loads(refused.body())["guardrail"]["assessments"]
    assert assessments["closest"] == {"rules": "denyPrompts", "index": 1}
    assert assessments["similarity"] == pytest.approx(0.95, abs=1e-3)
    assert assessments["threshold"] == 0.85


async def test_the_last_user_message_is_checked_by_default(embedder):
    guard = SemanticGuard(guard_config(deny=["how do I build a weapon"]), embedder)
    earlier_denied = call_with(
        user("weapons 0.95"),
        {"role": "assistant", "content": "No."},
        user([{"type": "text", "text": "tell me about the weather"}]),
        {"role": "system", "content": "weapons 0.95"},
    )
    assert await check(guard, earlier_denied) is None
    assert embedder.calls[-1] == ["tell me about the weather"]
    assert await check(guard, call_with(user([{"type": "text", "text": "weapons 0.95"}])))


async def test_json_path_selects_the_text_to_check(embedder):
    config = guard_config(deny=["how do I build a weapon"], json_path="$.input")
    guard = SemanticGuard(config, embedder)
    assert await check(guard, call_with(user("weapons 0.95"), input="billing question")) is None
    assert await check(guard, call_with(user("billing question"), input="weapons 0.95"))


async def test_a_request_with_no_text_to_check_passes_without_embedding(embedder):
    guard = SemanticGuard(guard_config(deny=["how do I build a weapon"]), None)
    assert await check(guard, call_with({"role": "system", "content": "be brief"})) is None
    assert embedder.calls == []


async def test_without_an_embedder_the_guard_fails_closed(embedder):
    guard = semantic_guard_factory(None)(guard_config(deny=["how do I build a weapon"]))
    assert isinstance(guard, SemanticGuard)
    refused = await check(guard, call_with(user("tell me about the weather")))
    assert refused is not None
    assert (refused.status, refused.code) == (503, "guardrail_unavailable")


async def test_a_failing_endpoint_fails_closed_and_is_tried_again(embedder):
    guard = SemanticGuard(guard_config(deny=["how do I build a weapon"]), embedder)
    embedder.failing = True
    refused = await check(guard, call_with(user("tell me about the weather")))
    assert refused is not None
    assert (refused.status, refused.code) == (503, "guardrail_unavailable")
    embedder.failing = False  # the failure was not kept: the examples are embedded now
    assert await check(guard, call_with(user("tell me about the weather"))) is None
    assert await check(guard, call_with(user("weapons 0.95"))) is not None
    example_calls = [c for c in embedder.calls if c == ["how do I build a weapon"]]
    assert len(example_calls) == 2  # the failed try, then the one that is kept


async def test_racing_calls_embed_the_examples_once(embedder):
    config = guard_config(deny=["how do I build a weapon"], allow=["billing question"])
    guard = SemanticGuard(config, embedder)
    embedder.gate = asyncio.Event()
    prompts = ["billing 0.9", "weapons 0.95", "billing question", "tell me about the weather"]
    checks = [asyncio.create_task(check(guard, call_with(user(p)))) for p in prompts * 3]
    await eventually(lambda: embedder.calls)  # one embeds the examples, the rest wait
    assert guard._embedding.locked()
    embedder.gate.set()
    results = await asyncio.gather(*checks)
    assert [c for c in embedder.calls if len(c) == 2] == [
        ["billing question", "how do I build a weapon"]  # allowed first, in one request
    ]
    assert [r is None for r in results] == [True, False, True, False] * 3


def route_at(table: RoutingTable, revision: int, guardrails: list[object]) -> Route:
    event = ApiDeployed.model_validate(
        {
            "api_id": "api1",
            "revision": revision,
            "name": "Chat",
            "version": "1.0",
            "route_prefix": "chat/1.0",
            "vendor": builtin_spec("OpenAI", "v1"),
            "production": {"url": "http://127.0.0.1:9/prod"},
            "guardrails": guardrails,
        }
    )
    apply(table, event)
    return table.routes["chat/1.0"]


async def test_a_revisions_guards_are_compiled_once_and_embed_their_examples_once(embedder):
    guard = {
        "type": "SEMANTIC_PROMPT_GUARD",
        "name": "topic-guard",
        "params": {"rules": {"denyPrompts": ["how do I build a weapon"]}},
    }
    other = {"type": "WORD_COUNT_GUARDRAIL", "name": "words", "params": {"max": 100}}
    build = semantic_guard_factory(embedder)
    factories = {"SEMANTIC_PROMPT_GUARD": lambda guardrail, route: build(guardrail)}
    policies = RoutePolicies(compilers=[GuardrailCompiler(factories=factories)])
    table = RoutingTable()
    first = route_at(table, 1, [other, guard])
    words, semantic, *_ = policies.for_route(first)
    assert isinstance(semantic, SemanticGuard)  # in the guardrails' order, after the word count
    assert not isinstance(words, SemanticGuard)
    assert policies.for_route(first)[1] is semantic
    for prompt in ("weapons 0.95", "tell me about the weather"):
        await check(semantic, call_with(user(prompt)))
    assert embedder.calls.count(["how do I build a weapon"]) == 1
    renamed = {**guard, "params": {"rules": {"denyPrompts": ["billing question"]}}}
    (newer, *_) = policies.for_route(route_at(table, 2, [renamed]))
    assert newer is not semantic  # a new revision: its own examples
    assert await check(newer, call_with(user("billing 0.9"))) is not None
    assert ["billing question"] in embedder.calls
