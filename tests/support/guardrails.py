"""Guardrail policies driven directly: a route with guardrails, its compiled policies, a call's
request side, and the real relay over a provider answer given chunk by chunk."""

import json
from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter

from aigw.common.guardrails import Guardrail
from aigw.common.vendors import builtin_spec
from aigw.gateway.asgi import Message
from aigw.gateway.guardrails.compiler import GuardrailCompiler
from aigw.gateway.invocation import Invocation
from aigw.gateway.metering.request import facts
from aigw.gateway.policies.base import Policy, PolicyRun, run_requests, start_runs
from aigw.gateway.proxy.body import parse_json
from aigw.gateway.routing.table import Route
from aigw.gateway.routing.upstream import Upstream
from aigw.gateway.routing.vendor import VendorProfile
from tests.support.relay import relay_chunks

_GUARDRAIL: TypeAdapter[Any] = TypeAdapter(Guardrail)
VENDORS = {"openai": ("OpenAI", "v1"), "anthropic": ("Anthropic", "2023-06-01")}


def guardrail(kind: str, params: dict[str, Any], name: str = "g1", flow: str = "both") -> Any:
    return _GUARDRAIL.validate_python({"type": kind, "name": name, "flow": flow, "params": params})


def route(guardrails: Sequence[Any], vendor: str = "openai") -> Route:
    spec = builtin_spec(*VENDORS[vendor])
    assert spec is not None
    profile = VendorProfile.compile(spec)
    return Route(
        "api", 1, "n", "v", "n/v", profile, Upstream("http://p"), None, guardrails=tuple(guardrails)
    )


def policies(guardrails: Sequence[Any], vendor: str = "openai", **compiler: Any) -> list[Policy]:
    return list(GuardrailCompiler(**compiler)(route(guardrails, vendor)))


def call_for(body: dict[str, Any], vendor: str = "openai") -> Invocation:
    call = Invocation(0.0, "POST", "")
    call.route = route((), vendor)
    call.body = json.dumps(body).encode()
    call.parsed = parse_json(call.body, b"application/json")
    call.facts = facts(call.parsed, body.get("model"))
    return call


async def requested(call: Invocation, policies: Sequence[Policy]) -> list[PolicyRun]:
    runs = start_runs(policies, call)
    await run_requests(runs, call)
    return runs


async def answered(
    call: Invocation,
    runs: Sequence[PolicyRun],
    chunks: Sequence[bytes],
    content_type: str = "text/event-stream",
    status: int = 200,
) -> tuple[int, list[Message]]:
    return await relay_chunks(call, runs, chunks, content_type, status)


def body_of(sent: list[Message]) -> bytes:
    return b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def status_of(sent: list[Message]) -> int:
    return next(m["status"] for m in sent if m["type"] == "http.response.start")


def sse(data: object, event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return (head + "data: " + json.dumps(data) + "\n\n").encode()


def openai_stream(*texts: str) -> list[bytes]:
    deltas = [{"choices": [{"index": 0, "delta": {"content": t}}]} for t in texts]
    finish = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    return [*(sse(d) for d in deltas), sse(finish), b"data: [DONE]\n\n"]


def anthropic_stream(*texts: str) -> list[bytes]:
    start = {"type": "message_start", "message": {"model": "claude", "usage": {"input_tokens": 3}}}
    deltas = [
        sse({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}}, "content_block_delta")
        for t in texts
    ]  # fmt: skip
    stop = sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
    return [
        sse(start, "message_start"),
        *deltas,
        stop,
        sse({"type": "message_stop"}, "message_stop"),
    ]


def streamed_text(raw: bytes) -> str:
    """The delta text a client sees in an OpenAI or Anthropic stream (and nothing after an
    `error` event)."""
    text = []
    for block in raw.decode().split("\n\n"):
        for line in block.splitlines():
            if line.startswith("data: ") and line != "data: [DONE]":
                data = json.loads(line[6:])
                if "choices" in data:
                    text += [c["delta"].get("content") or "" for c in data["choices"]]
                elif isinstance(data.get("delta"), dict):
                    text.append(data["delta"].get("text") or "")
    return "".join(text)


def error_event(raw: bytes) -> dict[str, Any] | None:
    blocks = raw.decode().split("\n\n")
    for block in blocks:
        if block.startswith("event: error\ndata: "):
            return json.loads(block.split("data: ", 1)[1])  # type: ignore[no-any-return]
    return None


def chat(*contents: Any) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "content": c} for c in contents]}


def answer(content: str) -> bytes:
    return json.dumps(
        {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}
    ).encode()
