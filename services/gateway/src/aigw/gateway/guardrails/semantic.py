"""`SEMANTIC_PROMPT_GUARD`: refuse a prompt that is close to a denied example, or far from every
allowed one, by the cosine similarity of their embeddings (the gateway's `Embedder`).

The examples are embedded once per revision (the policy is compiled per revision), on the first
call that needs them, by one caller while the others wait; a failure is not kept, so the next
call tries again. The prompt is the text `jsonPath` selects (its strings, joined by newlines),
by default the last user message's content. The guard fails closed: with no embedder
configured, or the endpoint failing, the call is refused 503 `guardrail_unavailable` and never
reaches the provider.
"""

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from aigw.common.guardrails import SemanticPromptGuard
from aigw.common.jsonpath import JsonPath, compile_path
from aigw.gateway.embeddings import Embedder, EmbeddingError, Vectors
from aigw.gateway.guardrails.checks import Verdict
from aigw.gateway.guardrails.intervene import intervention, unavailable
from aigw.gateway.invocation import Invocation
from aigw.gateway.policies.base import Policy, PolicyRun

DENIED = "The prompt is too close to a prompt this API does not accept."
NOT_ALLOWED = "The prompt is not close enough to any prompt this API accepts."


@dataclass(frozen=True, slots=True)
class Examples:
    allow: Vectors  # one row per allowed example (maybe none)
    deny: Vectors


@dataclass(frozen=True, slots=True)
class Closest:
    rules: str  # "allowPrompts" or "denyPrompts"
    index: int
    similarity: float

    def assessment(self, threshold: float) -> dict[str, Any]:
        return {
            "closest": {"rules": self.rules, "index": self.index},
            "similarity": round(self.similarity, 4),
            "threshold": threshold,
        }


def closest(rules: str, examples: Vectors, prompt: Vectors) -> Closest | None:
    if len(examples) == 0:
        return None
    similarities = examples @ prompt[0]
    best = int(similarities.argmax())
    return Closest(rules, best, float(similarities[best]))


def last_user_text(body: Any) -> Iterator[str]:
    """The last user message's content: a string, or the `text` of its parts."""
    messages = body.get("messages") if isinstance(body, dict) else None
    if not isinstance(messages, list):
        return
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            yield from _strings(message.get("content"))
            return


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for part in value:
            if isinstance(part, str):
                yield part
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                yield part["text"]


class SemanticGuard:
    """One SEMANTIC_PROMPT_GUARD of one revision."""

    def __init__(self, config: SemanticPromptGuard, embedder: Embedder | None) -> None:
        params = config.params
        self.name = config.name
        self.threshold = params.threshold
        self.show_assessment = params.show_assessment
        self._allow = tuple(params.rules.allow_prompts)
        self._deny = tuple(params.rules.deny_prompts)
        self._path: JsonPath | None = compile_path(params.json_path) if params.json_path else None
        self._embedder = embedder
        self._examples: Examples | None = None
        self._embedding = asyncio.Lock()

    def start(self, call: Invocation) -> PolicyRun | None:
        return _Run(self)

    def prompt(self, body: Any) -> str:
        if self._path is None:
            return "\n".join(last_user_text(body))
        return "\n".join(text for value in self._path.find(body) for text in _strings(value))

    async def examples(self, embedder: Embedder) -> Examples:
        if self._examples is None:
            async with self._embedding:
                if self._examples is None:  # another call embedded them while this one waited
                    vectors = await embedder.embed([*self._allow, *self._deny])
                    split = len(self._allow)
                    self._examples = Examples(vectors[:split], vectors[split:])
        return self._examples

    async def check(self, call: Invocation) -> None:
        text = self.prompt(call.parsed)
        if not text.strip():
            return  # no prompt: nothing to compare
        if self._embedder is None:
            raise unavailable(self.name, "SEMANTIC_PROMPT_GUARD")
        try:
            examples = await self.examples(self._embedder)
            prompt = await self._embedder.embed([text])
        except EmbeddingError:
            raise unavailable(self.name, "SEMANTIC_PROMPT_GUARD") from None
        denied = closest("denyPrompts", examples.deny, prompt)
        allowed = closest("allowPrompts", examples.allow, prompt)
        if denied is not None and denied.similarity >= self.threshold:
            self._intervene(call, DENIED, denied)
        if allowed is not None and allowed.similarity < self.threshold:
            self._intervene(call, NOT_ALLOWED, allowed)

    def _intervene(self, call: Invocation, reason: str, nearest: Closest) -> None:
        verdict = Verdict(reason, nearest.assessment(self.threshold))
        raise intervention(call, self.name, "REQUEST", verdict, self.show_assessment)


class _Run(PolicyRun):
    __slots__ = ("_guard",)

    def __init__(self, guard: SemanticGuard) -> None:
        self._guard = guard

    async def on_request(self, call: Invocation) -> None:
        await self._guard.check(call)


def semantic_guard_factory(
    embedder: Embedder | None,
) -> Callable[[SemanticPromptGuard], Policy]:
    """What a guardrail compiler builds a SEMANTIC_PROMPT_GUARD with (the app's embedder)."""

    def build(config: SemanticPromptGuard) -> Policy:
        return SemanticGuard(config, embedder)

    return build
