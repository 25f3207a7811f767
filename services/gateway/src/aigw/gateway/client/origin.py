"""Where a request goes: the origin (scheme, host, port, Host header), parsed once per host."""

import functools
from dataclasses import dataclass
from urllib.parse import urlsplit

from aigw.gateway.client.errors import UpstreamError


@dataclass(frozen=True, slots=True)
class Origin:
    scheme: str
    host: str
    port: int
    host_header: bytes  # the Host header's value


@functools.lru_cache(maxsize=1024)
def origin_of(scheme: str, netloc: str) -> Origin:
    parts = urlsplit(f"{scheme}://{netloc}")
    if scheme not in ("http", "https") or not parts.hostname:
        raise UpstreamError(f"not an http(s) URL: {scheme}://{parts.hostname}")
    default = 443 if scheme == "https" else 80
    port = parts.port or default
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    try:
        header = (host if port == default else f"{host}:{port}").encode("idna")
    except UnicodeError:
        raise UpstreamError(f"not a valid host name: {parts.hostname!r}") from None
    return Origin(scheme, parts.hostname, port, header)


def split_url(url: str) -> tuple[Origin, bytes]:
    """The origin (parsed once per scheme and host) and the request target."""
    scheme, _, rest = url.partition("://")
    cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    target = rest[cut:] or "/"
    if target.startswith("?"):
        target = "/" + target
    return origin_of(scheme, rest[:cut]), target.encode("latin-1")
