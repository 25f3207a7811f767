"""The provider hop's HTTP/1.1 client: a keep-alive connection pool on asyncio protocols, with
httptools (the parser uvicorn uses) reading the answers.

Why not aiohttp: the gateway needs one thing from a client, forwarding bytes it already has
to a known host and streaming the answer back, and aiohttp's general-purpose request
machinery (cookie jar, redirects, tracing, URL and header objects) cost about 170 µs of CPU
per call, twice this client's (`make bench`, last table). What it does:

- a pool of keep-alive connections per scheme/host/port, at most `limit` in use at once
  (callers wait for a free one), idle ones closed after `keepalive` seconds;
- a request written in one `write` (head and body); the caller's headers go as given, plus
  `Host` and `Content-Length`;
- the answer's status and headers, then its body as it arrives (`readany`, `iter_any`) or
  whole (`read`): fixed length, chunked, or up to the end of the connection; reading pauses
  the socket while more than `_HIGH_WATER` bytes wait (a slow caller slows the provider);
- a new connection goes only to an address `addresses` allows: outside dev mode the name is
  resolved first (the loop's getaddrinfo), every address checked (public, or in an
  allow-listed network), and the connection made to a checked address, not to the name again
  (which could answer differently: DNS rebinding); TLS still verifies the name. Pooled
  connections pay nothing for it;
- `connect_timeout` for opening a connection (resolving included) and `read_timeout` for
  each wait on the provider (not for the whole answer: a stream may last minutes);
- a connection goes back to the pool only when its whole answer (and nothing more) arrived
  and both sides keep it alive; a pooled connection found closed before any answer byte (the
  provider dropped it while idle) is retried once on a new connection, for idempotent
  methods and requests with an `Idempotency-Key` only (as Go's and aiohttp's clients do).

Redirects are answers like any other: relayed to the caller, never followed.

Failures raise `UpstreamError` (`AddressRefused` for an address the policy does not allow), or
`TimeoutError` (`ConnectTimeout` when no connection was made). Cancelling a request or a read
closes the connection. Not done: DNS caching (names are resolved per new connection, pooled
ones are reused) and Happy Eyeballs (addresses are tried one after the other).
"""

from aigw.gateway.client.addresses import ANY_ADDRESS, PUBLIC_ONLY, AddressPolicy
from aigw.gateway.client.errors import AddressRefused, ConnectTimeout, UpstreamError
from aigw.gateway.client.pool import Pool
from aigw.gateway.client.response import Response, ResponseHeaders

__all__ = [
    "ANY_ADDRESS",
    "PUBLIC_ONLY",
    "AddressPolicy",
    "AddressRefused",
    "ConnectTimeout",
    "Pool",
    "Response",
    "ResponseHeaders",
    "UpstreamError",
]
