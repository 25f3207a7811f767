"""One stored form for both ways of asking: an entry holds the JSON answer (a
`chat.completion`), so a streaming and a non-streaming request with the same key share it.

A completed stream is stored as the answer its chunks add up to (`completion_of_chunks`); a
hit on a `stream: true` request is replayed as an event stream of OpenAI chunks built from the
stored answer (`chunks_of_completion`): one role chunk, the whole text in one content chunk,
the finish reason, the usage chunk if the caller asked for it, `[DONE]`. The pacing of the
original stream is not kept (a cached answer has nothing to wait for). Answers of another
shape (tool calls, other vendors' formats) are stored and served as JSON only: a stream of them
is not stored, and a stream request for one is a miss.
"""

import json
from typing import Any

_PLAIN_DELTA = frozenset({"role", "content", "refusal"})


def completion_of_chunks(chunks: list[Any], metered: dict[str, int] | None = None) -> bytes | None:
    """The `chat.completion` a complete stream of `chat.completion.chunk`s adds up to, or None
    if the stream has another shape. `metered`: the usage metering read, for a stream whose
    usage chunk the gateway asked for and hid from the caller (and so from this run)."""
    texts: dict[int, list[str]] = {}
    finish: dict[int, Any] = {}
    head: dict[str, Any] | None = None
    usage = None
    for chunk in chunks:
        if not isinstance(chunk, dict) or chunk.get("object") != "chat.completion.chunk":
            return None
        head = head or chunk
        usage = chunk.get("usage") or usage
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") if isinstance(choice, dict) else None
            index = choice.get("index", 0) if isinstance(choice, dict) else None
            if not isinstance(delta, dict) or not isinstance(index, int):
                return None
            if any(value is not None for name, value in delta.items() if name not in _PLAIN_DELTA):
                return None  # tool calls, audio...: not replayed
            if isinstance(delta.get("content"), str):
                texts.setdefault(index, []).append(delta["content"])
            if choice.get("finish_reason") is not None:
                finish[index] = choice["finish_reason"]
    if head is None or not finish:
        return None
    choices = [
        {
            "index": index,
            "message": {"role": "assistant", "content": "".join(texts.get(index, []))},
            "finish_reason": finish.get(index),
        }
        for index in sorted(texts.keys() | finish.keys())
    ]
    answer = {
        "id": head.get("id"),
        "object": "chat.completion",
        "created": head.get("created"),
        "model": head.get("model"),
        "choices": choices,
    }
    if (usage or metered) is not None:
        answer["usage"] = usage or metered
    return json.dumps(answer, separators=(",", ":")).encode()


def chunks_of_completion(body: bytes, with_usage: bool) -> bytes | None:
    """An OpenAI event stream that replays the `chat.completion` `body`; None if it is not
    one that can be replayed (see the module's docstring)."""
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    if not isinstance(answer, dict) or answer.get("object") != "chat.completion":
        return None
    base = {
        "id": answer.get("id"),
        "object": "chat.completion.chunk",
        "created": answer.get("created"),
        "model": answer.get("model"),
    }
    events = []
    for choice in answer.get("choices") or ():
        message = choice.get("message") if isinstance(choice, dict) else None
        if not isinstance(message, dict) or not isinstance(message.get("content"), str):
            return None
        if any(message.get(name) for name in ("tool_calls", "function_call", "audio")):
            return None
        index = choice.get("index", 0)
        role = {"role": message.get("role", "assistant"), "content": ""}
        events.append({**base, "choices": [{"index": index, "delta": role}]})
        text = {"content": message["content"]}
        events.append({**base, "choices": [{"index": index, "delta": text}]})
        end = {"index": index, "delta": {}, "finish_reason": choice.get("finish_reason")}
        events.append({**base, "choices": [end]})
    if not events:
        return None
    if with_usage and answer.get("usage") is not None:
        events.append({**base, "choices": [], "usage": answer["usage"]})
    lines = [b"data: " + json.dumps(e, separators=(",", ":")).encode() + b"\n\n" for e in events]
    return b"".join(lines) + b"data: [DONE]\n\n"
