"""The deterministic content every wire format answers with: the reply text, its words as
stream pieces, and token counts."""

from typing import Any

TOKEN_BUDGET = 1_000_000
"""The `*-remaining-tokens` headers report this minus the tokens of the answer."""


def count_tokens(text: str) -> int:
    """A deterministic stand-in for a tokenizer: about 4/3 tokens per word."""
    words = len(text.split())
    return max(1, (words * 4 + 2) // 3) if words else 0


def message_text(messages: list[Any]) -> str:
    """The text of chat-style messages (string contents and the `text` of content parts)."""
    parts: list[str] = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(
                str(p.get("text", "")) for p in content if isinstance(p, dict) and "text" in p
            )
    return " ".join(parts)


def first_segment(path: str) -> str:
    """The first path segment, which names the "endpoint" that answered."""
    return path.strip("/").split("/", 1)[0] or "root"


def reply(path: str, source: str, text: str) -> str:
    echo = " ".join(text.split()[:8])
    return f"[{first_segment(path)}] Mock reply from the {source} to: {echo}"


def words(text: str) -> list[str]:
    """`text` in stream pieces: its words, each but the first with its leading space."""
    return [w if i == 0 else " " + w for i, w in enumerate(text.split(" "))]


def remaining(tokens: int) -> bytes:
    return str(TOKEN_BUDGET - tokens).encode()
