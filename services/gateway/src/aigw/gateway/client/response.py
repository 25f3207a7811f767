"""An answer from a provider: its status and headers, and its body read as it arrives."""

import collections.abc
from collections.abc import AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from aigw.gateway.client.connection import Connection


class ResponseHeaders(collections.abc.Mapping[str, str]):
    """An answer's headers by lower-case name (repeated headers joined with ", ")."""

    __slots__ = ("_values",)

    def __init__(self, raw: Iterable[tuple[bytes, bytes]]) -> None:
        values: dict[str, str] = {}
        for name, value in raw:
            key = name.decode("latin-1").lower()
            text = value.decode("latin-1")
            values[key] = f"{values[key]}, {text}" if key in values else text
        self._values = values

    def __getitem__(self, name: str) -> str:
        return self._values[name.lower()]

    def __iter__(self) -> Any:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


class Response:
    """An answer whose status and headers have arrived; its body is read from here. `release`
    (or `close`) it when done: it holds one of the pool's connections until then."""

    __slots__ = (
        "_conn",
        "_done",
        "content_length",
        "content_type",
        "headers",
        "raw_headers",
        "status",
    )

    def __init__(self, conn: "Connection") -> None:
        self._conn = conn
        self._done = False
        self.status = conn.status
        self.raw_headers = list(conn.raw_headers)  # a chunked answer's trailers come later
        self.headers = ResponseHeaders(conn.raw_headers)
        media = self.headers.get("content-type", "application/octet-stream")
        self.content_type: str = media.partition(";")[0].strip().lower()
        length = self.headers.get("content-length")
        self.content_length: int | None = int(length) if length and length.isdigit() else None

    async def readany(self) -> bytes:
        """The next bytes of the body as soon as there are any; b"" at its end."""
        conn = self._conn
        while True:
            data = conn.take()
            if data or conn.complete:
                return data
            await conn.wait()

    async def read(self) -> bytes:
        parts = []
        while chunk := await self.readany():
            parts.append(chunk)
        return b"".join(parts)

    async def iter_any(self) -> AsyncIterator[bytes]:
        while chunk := await self.readany():
            yield chunk

    def release(self) -> None:
        """Back to the pool if the whole answer arrived (read or not), else closed."""
        if not self._done:
            self._done = True
            self._conn.pool.give_back(self._conn)

    def close(self) -> None:
        """Never back to the pool (the caller left, or the answer is abandoned)."""
        if not self._done:
            self._done = True
            self._conn.closed = True
            self._conn.pool.give_back(self._conn)  # closes it
