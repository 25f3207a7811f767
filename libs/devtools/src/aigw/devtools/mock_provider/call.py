"""What a wire format's handler is given (one `Call`), and a row of the app's route table."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aigw.devtools.mock_provider.asgi import ErrorShape, Send
from aigw.devtools.mock_provider.control import Pacing


# the per-request classes are not frozen: a frozen dataclass pays an `object.__setattr__` per
# field on every request, and the mock is the benchmark's baseline
@dataclass(slots=True)
class Request:
    """An API request as read: headers lower-cased as sent, the body parsed if it is JSON."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    json: Any
    bad_json: bool
    """The body was not empty and not JSON (`json` is then None)."""

    def record(self) -> dict[str, Any]:
        """The request as `GET /_mock/requests` lists it."""
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "json": self.json,
        }


@dataclass(slots=True)
class Call:
    """A request a wire format answers, with the keys it accepts and how to pace a stream."""

    request: Request
    api_keys: frozenset[str]
    pacing: Pacing


Handler = Callable[[Call, Send], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Route:
    """Requests whose path ends with `suffix` are answered by `handle`; their errors, injected
    failures included, have the `errors` shape."""

    suffix: str
    errors: ErrorShape
    handle: Handler
