"""The request headers: which go to the provider, and the caller's credential.

The credential is read from `Authorization: Bearer <key>` (what OpenAI-compatible SDKs send),
from `ApiKey: <key>` (WSO2 style) or from the header the API's vendor reads its key from (so the
vendor's own SDK works unchanged: `x-api-key` for Anthropic, `api-key` for Azure OpenAI). When
a request carries several, **Authorization wins**, then ApiKey; an Authorization header that is
not a Bearer credential (e.g. Basic) is ignored. None of them is ever forwarded.

The caller's `x-request-id` is not forwarded as sent either: the provider gets the call's
request id (`proxy.request_id`: the caller's if valid, else a new one) in the vendor's
`requestIdHeader` (`x-request-id` unless the vendor definition names another, or none).
"""

from dataclasses import dataclass

from aigw.gateway.invocation import Invocation
from aigw.gateway.routing.vendor import VendorProfile

# The request headers a caller may send to the provider, besides the vendor's `callerHeaders`
# (e.g. `anthropic-beta`) and the operator's GATEWAY_FORWARD_HEADERS. An allow-list, not a
# deny-list: providers keep adding headers that pick the organisation's account, project,
# region or billing (`OpenAI-Organization`, `OpenAI-Project`...) and client-identity headers
# are open-ended (`Cookie`, `Forwarded`, `X-Forwarded-*`, `X-Real-IP`, CDN variants), so a
# header nobody vetted must not reach the provider with the organisation's key. What passes is
# what SDKs need: the body's type and encoding, what the caller accepts, who the client is,
# its idempotency key, and the OpenAI/Anthropic SDKs' `x-stainless-*` (the request id goes
# as the gateway checked it, see above). Never
# passed: the caller's credentials, hop-by-hop headers (and those the caller's `Connection`
# names), Host and the length (the upstream client sets them), and `Accept-Encoding` (the
# gateway asks for `identity`: it meters what it reads, and a compressed stream is unreadable).
FORWARDED_HEADERS = frozenset(
    {
        b"content-type",
        b"content-encoding",
        b"accept",
        b"user-agent",
        b"idempotency-key",
    }
)
_SDK_PREFIX = b"x-stainless-"
_PERSISTENT = frozenset({b"keep-alive", b"close"})  # `Connection` options, not header names
_IDENTITY = ("accept-encoding", "identity")


@dataclass(slots=True)
class CallerCredentials:
    authorization: bytes | None = None
    api_key: bytes | None = None
    vendor_header: bytes | None = None
    # not a credential, but also the caller's word to the gateway rather than the provider's:
    # `Cache-Control: no-cache` bypasses (and refreshes) an API's response cache
    no_cache: bool = False

    def key(self) -> str | None:
        if self.authorization is not None:
            scheme, _, credential = self.authorization.partition(b" ")
            credential = credential.strip()
            if scheme.lower() == b"bearer" and credential:
                return credential.decode("latin-1")
        for value in (self.api_key, self.vendor_header):
            if value is not None and (value := value.strip()):
                return value.decode("latin-1")
        return None


def read_request_headers(
    call: Invocation, raw: list[tuple[bytes, bytes]], forwarded: frozenset[bytes]
) -> None:
    """Note the headers to forward, the credential and the Content-Type on `call`."""
    assert call.route is not None
    vendor = call.route.vendor
    headers, credentials, call.content_type = filter_headers(raw, vendor, forwarded)
    if vendor.request_id_header is not None:
        headers.append((vendor.request_id_header, call.request_id))
    call.headers = headers
    call.credential = credentials.key()
    call.no_cache = credentials.no_cache


def filter_headers(
    raw: list[tuple[bytes, bytes]],
    vendor: VendorProfile,
    forwarded: frozenset[bytes] = FORWARDED_HEADERS,
) -> tuple[list[tuple[str, str]], CallerCredentials, bytes | None]:
    """The headers to forward (see FORWARDED_HEADERS), the caller's credentials and its
    Content-Type. The caller's copy of the vendor's key header (e.g. `x-api-key` from the
    Anthropic SDK) is a credential too, and never forwarded: the provider key takes its place."""
    credentials = CallerCredentials()
    content_type: bytes | None = None
    connection: bytes | None = None
    headers: list[tuple[str, str]] = []
    vendor_header, allowed = vendor.auth_header_raw, vendor.caller_headers
    own = vendor.request_id_headers_raw
    for name, value in raw:
        if name == b"authorization":
            credentials.authorization = value
        elif name == b"apikey":
            credentials.api_key = value
        elif name == vendor_header:
            credentials.vendor_header = value
        elif name in own:
            continue  # the call's checked request id is sent instead
        elif name in forwarded or name in allowed or name.startswith(_SDK_PREFIX):
            if name == b"content-type":
                content_type = value
            headers.append((name.decode("latin-1"), value.decode("latin-1")))
        elif name == b"connection":
            connection = value if connection is None else connection + b"," + value
        elif name == b"cache-control":
            credentials.no_cache = b"no-cache" in value.lower()
    if connection is not None and connection.lower() not in _PERSISTENT:
        headers = _without_hop_by_hop(headers, connection)
    headers.append(_IDENTITY)
    return headers, credentials, content_type


def _without_hop_by_hop(headers: list[tuple[str, str]], connection: bytes) -> list[tuple[str, str]]:
    """`headers` without those the caller's `Connection` names (hop-by-hop for the caller's
    connection only, RFC 9110 7.6.1)."""
    named = {token.strip().lower() for token in connection.split(b",")} - _PERSISTENT
    if not named:
        return headers
    drop = {token.decode("latin-1") for token in named}
    return [(name, value) for name, value in headers if name not in drop]
