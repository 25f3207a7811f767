"""A vendor definition compiled for the hot path: the operations it forwards, the headers a
caller may set, how the provider key and the default headers are sent, and the vendor's
metering rules."""

from dataclasses import dataclass, field
from urllib.parse import quote, unquote_plus

from aigw.common.vendors import VendorSpec, builtin_spec
from aigw.gateway.metering.meter import Meter
from aigw.gateway.routing.operations import NO_OPERATIONS, Operations
from aigw.gateway.routing.upstream import Upstream


@dataclass(frozen=True, slots=True)
class VendorProfile:
    name: str
    meter: Meter = field(compare=False)
    auth_header: str | None = None  # lower-case; None unless the key goes in a header
    auth_prefix: str = ""  # e.g. "Bearer "
    auth_query: str | None = None  # the query parameter that carries the key
    default_headers: tuple[tuple[str, str], ...] = ()  # lower-case names
    ask_stream_usage: bool = False  # add `stream_options.include_usage` to streaming calls
    operations: Operations = field(default=NO_OPERATIONS, compare=False)  # what is forwarded
    # the vendor's headers a caller may set, as ASGI header names (lower-case bytes)
    caller_headers: frozenset[bytes] = frozenset()
    # the header the call's request id goes to the provider in (lower-case; None: not sent)
    request_id_header: str | None = "x-request-id"
    # `auth_header` as the hot path compares it with ASGI header names, and the request-id
    # headers a caller's copy of is never forwarded (x-request-id and `request_id_header`)
    auth_header_raw: bytes | None = field(init=False, repr=False, compare=False)
    request_id_headers_raw: frozenset[bytes] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        raw = self.auth_header.encode("latin-1") if self.auth_header else None
        object.__setattr__(self, "auth_header_raw", raw)
        rid = self.request_id_header
        own = {b"x-request-id", *([rid.encode("latin-1")] if rid else [])}
        object.__setattr__(self, "request_id_headers_raw", frozenset(own))

    @classmethod
    def compile(cls, spec: VendorSpec) -> "VendorProfile":
        auth = spec.auth
        meter = Meter(spec.metadata, spec.stream)
        operations, caller_headers = spec.operations, spec.caller_headers
        if operations is None:
            # deployed before revisions carried operations: a built-in vendor's are known; a
            # custom vendor forwards nothing until the API is deployed again
            current = builtin_spec(spec.name, spec.version)
            operations = current.operations if current is not None else None
            caller_headers = current.caller_headers if current is not None else []
        allowed = {name.lower().encode("latin-1") for name in caller_headers}
        source = meter.request_model
        if source is not None and source.kind == "header":
            allowed.add(source.name.encode("latin-1"))  # the caller names its model there
        return cls(
            name=spec.name,
            meter=meter,
            auth_header=auth.name.lower() if auth.type == "header" else None,
            auth_prefix=auth.value_prefix,
            auth_query=auth.name if auth.type == "queryParameter" else None,
            default_headers=tuple((k.lower(), v) for k, v in spec.default_headers.items()),
            ask_stream_usage=spec.stream.usage_option == "include_usage",
            operations=Operations(operations) if operations else NO_OPERATIONS,
            caller_headers=frozenset(allowed),
            request_id_header=spec.request_id_header.lower() if spec.request_id_header else None,
        )

    def add_headers(self, headers: list[tuple[str, str]], provider_key: str | None) -> None:
        """Add the provider key (header auth) and the default headers the caller did not set."""
        if self.default_headers:
            present = {name.lower() for name, _ in headers}
            headers.extend(pair for pair in self.default_headers if pair[0] not in present)
        if provider_key is not None and self.auth_header is not None:
            headers.append((self.auth_header, self.auth_prefix + provider_key))

    def sends_key(self, upstream: Upstream) -> bool:
        """Whether calls to `upstream` carry the API's provider key (header or query)."""
        return upstream.api_key is not None and (
            self.auth_header is not None or self.auth_query is not None
        )

    def query_secret(self, upstream: Upstream) -> str | None:
        """The provider key if this vendor sends it in the query (answers must not echo it)."""
        return upstream.api_key if self.auth_query is not None else None

    def query(self, query: str, provider_key: str | None) -> str:
        """The query string to send: the caller's, with the key parameter (query auth) replaced
        by the provider key."""
        if self.auth_query is None or provider_key is None:
            return query
        return replace_param(query, self.auth_query, provider_key)


class VendorProfiles:
    """One compiled profile per vendor revision: every API deployed on the same definition
    shares it (replaying 10,000 APIs compiles a handful of profiles, not 10,000)."""

    def __init__(self) -> None:
        self._compiled: dict[tuple[str, str], tuple[VendorSpec, VendorProfile]] = {}

    def of(self, spec: VendorSpec) -> VendorProfile:
        key = (spec.name, spec.version)
        held = self._compiled.get(key)
        if held is not None and (held[0] is spec or held[0] == spec):
            return held[1]
        profile = VendorProfile.compile(spec)
        self._compiled[key] = (spec, profile)
        return profile


def replace_param(query: str, name: str, value: str) -> str:
    """`query` with every `name` parameter (however percent-encoded) replaced by one `value`."""
    kept = [p for p in query.split("&") if p and unquote_plus(p.partition("=")[0]) != name]
    kept.append(f"{name}={quote(value, safe='')}")
    return "&".join(kept)
