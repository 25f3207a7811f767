"""The headers of a relayed answer: the provider's, minus hop-by-hop and CORS ones, plus the
gateway's (the request id, rate limits, CORS, and on routed calls which target and model
answered). The provider's own `x-request-id` comes back as `x-provider-request-id`: the
caller's `x-request-id` is the gateway's."""

from urllib.parse import quote

from aigw.gateway.asgi import RawHeaders
from aigw.gateway.client import Response
from aigw.gateway.invocation import Invocation
from aigw.gateway.proxy.request_id import HEADER as REQUEST_ID
from aigw.gateway.proxy.request_id import PROVIDER_HEADER
from aigw.gateway.routing.targets import Target

# Never relayed back: hop-by-hop headers (the server frames the response itself) and the
# provider's own CORS headers (the gateway's CORS policy decides what browsers may read).
_RESPONSE_DROP = frozenset(
    {
        b"access-control-allow-origin",
        b"access-control-allow-credentials",
        b"access-control-allow-methods",
        b"access-control-allow-headers",
        b"access-control-expose-headers",
        b"access-control-max-age",
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)


def response_headers(resp: Response, extra: RawHeaders, secret: str | None = None) -> RawHeaders:
    """The provider's headers and the gateway's `extra` ones; where both set a header (e.g.
    `x-ratelimit-remaining-tokens`: the provider's is about the organisation's provider
    account, the gateway's about the caller's plan), the gateway's wins. A provider key sent
    as a query parameter (`secret`) is blanked out of what comes back: a redirect's `Location`
    repeats the query."""
    drop = _RESPONSE_DROP.union(name for name, _ in extra) if extra else _RESPONSE_DROP
    out = []
    for name, value in resp.raw_headers:
        lowered = name.lower()
        if lowered == REQUEST_ID:
            out.append((PROVIDER_HEADER, value))
        elif lowered not in drop:
            out.append((lowered, value))
    if secret:
        hidden = [secret.encode(), quote(secret, safe="").encode()]
        out = [(k, _blank(v, hidden)) for k, v in out]
    out += extra
    return out


def with_length(headers: RawHeaders, length: int) -> RawHeaders:
    """`headers` for a body a policy changed: its own Content-Length."""
    kept = [(k, v) for k, v in headers if k != b"content-length"]
    kept.append((b"content-length", str(length).encode()))
    return kept


def _blank(value: bytes, secrets: list[bytes]) -> bytes:
    for secret in secrets:
        value = value.replace(secret, b"[provider-key]")
    return value


def served_by(target: Target, call: Invocation) -> RawHeaders:
    """Tell the caller which endpoint and model answered a routed call."""
    model = target.model or call.facts.model or ""
    if not (model.isascii() and model.isprintable()):
        model = ""  # the caller's free text never breaks the response head
    return [
        (b"x-aigw-target", target.endpoint.encode()),
        (b"x-aigw-model", model.encode("latin-1", "replace")),
    ]
