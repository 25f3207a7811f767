"""The raw-ASGI types the invocation path is written in (one definition for every module)."""

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
# response headers as ASGI sends them: lower-case byte names and byte values
RawHeaders = list[tuple[bytes, bytes]]

CLIENT_CLOSED = 499  # recorded, never sent: the caller left before the answer (nginx's code)
