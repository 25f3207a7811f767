"""Request and response bodies of `/apis` (camelCase on the wire, snake_case in Python)."""

import ipaddress
import re
from datetime import datetime
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    Field,
    RootModel,
    StringConstraints,
    TypeAdapter,
    model_validator,
)

from aigw.common.addresses import non_public_kind
from aigw.common.guardrails import GUARDRAIL_TYPES, Guardrail, Guardrails
from aigw.common.model_routing import ApiRouting, EndpointName
from aigw.common.response_cache import ResponseCache
from aigw.common.schemas import CamelModel, Collection, RequestModel, read_only
from aigw.publisher.apis.lifecycle import LifecycleAction, describe_actions
from aigw.publisher.apis.merge_patch import merge_patch
from aigw.publisher.apis.repository import ApiDoc, KeyEntry
from aigw.publisher.apis.routing import (
    check_route_prefix,
    check_version,
    normalize_context,
    route_prefix,
)


def check_endpoint_url(url: str) -> str:
    """An absolute http(s) URL; the trailing slash is dropped because the gateway appends
    the provider path itself."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError("endpoint must be an absolute http:// or https:// URL")
    if parts.fragment or any(c.isspace() for c in url):
        raise ValueError("endpoint must not contain whitespace or a '#fragment'")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number in 0-65535
    except ValueError as exc:
        raise ValueError("endpoint port must be a number from 0 to 65535") from exc
    return url.rstrip("/")


def dev_only_endpoint(url: str) -> str | None:
    """Why an endpoint is acceptable only in dev mode, or None if it is fine anywhere: plain
    http, `localhost`, a literal non-public IP address (loopback, link-local, private,
    multicast, reserved; also as IPv4-mapped, NAT64 or 6to4 IPv6), or any other numeric host.
    Non-ASCII hosts are judged as IDNA makes them (fullwidth `１２７.０.０.１` is 127.0.0.1).
    Host names are not resolved here: the gateway checks every address it connects to."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        return "uses plain http"
    host = parts.hostname or ""
    if not host.isascii() and ":" not in host:
        try:
            host = host.encode("idna").decode("ascii")  # nameprep (NFKC), as resolvers do
        except UnicodeError:
            return "is not a valid host name"
    host = host.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return "points at localhost"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        if _NUMERIC_LABEL.fullmatch(host.rpartition(".")[2]):
            return "uses a numeric host other than a dotted-quad IPv4 or a bracketed IPv6 address"
        return None
    kind = non_public_kind(ip)
    return None if kind is None else f"points at a {kind} address"


# A last label of digits and hex letters with a digit in it is no top-level domain, but URL
# parsers and inet_aton read such hosts as IPv4 addresses: 2130706433, 0x7f000001, 127.1, 0.
_NUMERIC_LABEL = re.compile(r"[0-9a-fx]*[0-9][0-9a-fx]*")


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Context = Annotated[
    str, StringConstraints(strip_whitespace=True), AfterValidator(normalize_context)
]
Version = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(check_version)]
EndpointUrl = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=2048),
    AfterValidator(check_endpoint_url),
]


# A user name as keymanager allows it (the API's owner and co-owners are token subjects).
Username = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._@-]{3,64}$")]
MAX_CO_OWNERS = 20

# The endpoints every API may have; an API's other endpoints are its additional endpoints.
ENDPOINT_TYPES = ("production", "sandbox")
MAX_ADDITIONAL_ENDPOINTS = 16


class VendorRefBody(RequestModel):
    name: str = Field(min_length=1, max_length=100)
    version: str = Field(min_length=1, max_length=50)


class Endpoints(RequestModel):
    production: EndpointUrl | None = None
    sandbox: EndpointUrl | None = None

    @model_validator(mode="after")
    def _at_least_one(self) -> Self:
        if self.production is None and self.sandbox is None:
            raise ValueError("set at least one of the production and sandbox endpoints")
        return self


PolicyName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
RequestsPerSecond = Annotated[int, Field(strict=True, gt=0, le=1_000_000)]


class BackendThrottleBody(RequestModel):
    """Backend protection: the most requests per second sent to the provider per key type,
    across all applications (null = no limit)."""

    production: RequestsPerSecond | None = None
    sandbox: RequestsPerSecond | None = None


GUARDRAILS_DESCRIPTION = (
    "guardrails and prompt transformations, applied in this order on the flow each names "
    "(`request`, `response` or `both`); names are distinct (a 446 names the guardrail that "
    f"intervened). Types: {', '.join(GUARDRAIL_TYPES)}, with WSO2's parameters (see the "
    'README\'s "Guardrails"). Invalid regexes, JSONPaths, JSON Schemas or missing parameters '
    "are a 422 naming the field, e.g. `guardrails.0.params.regex`. Applied by the gateways "
    "from the next deploy"
)
GUARDRAILS_EXAMPLE: list[dict[str, Any]] = [
    {
        "type": "REGEX_GUARDRAIL",
        "name": "no-card-numbers",
        "flow": "both",
        "params": {"regex": "\\b(?:\\d[ -]?){13,16}\\b", "invert": True, "showAssessment": True},
    },
    {
        "type": "PII_MASKING_REGEX",
        "name": "mask-emails",
        "flow": "both",
        "params": {
            "piiEntities": [{"piiEntity": "EMAIL", "piiRegex": "[\\w.+-]+@[\\w-]+\\.[\\w.]+"}]
        },
    },
    {
        "type": "WORD_COUNT_GUARDRAIL",
        "name": "short-prompts",
        "flow": "request",
        "params": {"min": 1, "max": 500},
    },
]
CACHE_DESCRIPTION = (
    "the response cache (null: none): `exact` answers the same request again, `semantic` a "
    "request whose last user message is similar (cosine similarity of at least `threshold`, "
    "default 0.8; semantic mode only) in the same conversation; `ttlSeconds` how long an "
    "answer is served; `scope` `application` (an answer is only served to the application "
    "that paid for it) or `api` (shared by every caller). Applied from the next deploy"
)
CACHE_EXAMPLE: dict[str, Any] = {
    "mode": "semantic",
    "ttlSeconds": 600,
    "threshold": 0.92,
    "scope": "application",
}
GUARDRAIL_LIST: TypeAdapter[list[Guardrail]] = TypeAdapter(Guardrails)


class ApiIn(RequestModel):
    name: Name
    context: Context
    version: Version
    description: str = Field("", max_length=2000)
    ai_vendor: VendorRefBody
    endpoints: Endpoints
    policies: list[PolicyName] = Field(
        default_factory=lambda: ["Unlimited"], min_length=1, max_length=50
    )
    backend_throttle: BackendThrottleBody = Field(default_factory=lambda: BackendThrottleBody())
    additional_endpoints: dict[EndpointName, EndpointUrl] = Field(
        default_factory=dict,
        max_length=MAX_ADDITIONAL_ENDPOINTS,
        description=(
            "more provider endpoints by name (routing targets besides production and sandbox); "
            "their provider keys are set with backend-security under the same names"
        ),
    )
    routing: ApiRouting = Field(
        default_factory=ApiRouting,
        description=(
            "multi-model routing per key type (null: the key type's endpoint, no routing); "
            "targets and fallbacks name endpoints of this API"
        ),
    )
    guardrails: Guardrails = Field(
        default_factory=list, description=GUARDRAILS_DESCRIPTION, examples=[GUARDRAILS_EXAMPLE]
    )
    cache: ResponseCache | None = Field(
        None, description=CACHE_DESCRIPTION, examples=[CACHE_EXAMPLE]
    )
    co_owners: list[Username] | None = Field(
        None,
        max_length=MAX_CO_OWNERS,
        description=(
            "users who may see and change the API besides its owner (its creator); only the "
            "owner or an admin may change them. Left out: unchanged ([] on creation)"
        ),
    )

    @model_validator(mode="after")
    def _distinct_co_owners(self) -> Self:
        if self.co_owners is not None:
            self.co_owners = list(dict.fromkeys(self.co_owners))
        return self

    @model_validator(mode="after")
    def _additional_endpoints_are_additional(self) -> Self:
        for name in ENDPOINT_TYPES:
            if name in self.additional_endpoints:
                raise ValueError(
                    f"additionalEndpoints must not be named '{name}': "
                    f"set the {name} endpoint in 'endpoints'"
                )
        return self

    @model_validator(mode="after")
    def _routing_names_known_endpoints(self) -> Self:
        known = self.endpoint_names()
        for key_type in ENDPOINT_TYPES:
            policy = getattr(self.routing, key_type)
            # a key type never reaches the other key type's endpoint (nor its provider key)
            other = "sandbox" if key_type == "production" else "production"
            if policy is not None and other in policy.endpoints():
                raise ValueError(
                    f"routing.{key_type} must not route to the {other} endpoint; "
                    "use the key type's own endpoint or additional endpoints"
                )
            unknown = sorted(policy.endpoints() - set(known)) if policy is not None else []
            if unknown:
                names = ", ".join(f"'{name}'" for name in unknown)
                raise ValueError(
                    f"routing.{key_type} names endpoints the API does not have: {names} "
                    f"(its endpoints: {', '.join(known)})"
                )
        return self

    def endpoint_names(self) -> list[str]:
        """The names of the endpoints the API has: production and sandbox when set, then the
        additional endpoints."""
        kinds = [kind for kind in ENDPOINT_TYPES if getattr(self.endpoints, kind) is not None]
        return kinds + list(self.additional_endpoints)

    @model_validator(mode="after")
    def _distinct_policies(self) -> Self:
        self.policies = list(dict.fromkeys(self.policies))
        return self

    @model_validator(mode="after")
    def _route_is_free_of_gateway_paths(self) -> Self:
        check_route_prefix(route_prefix(self.context, self.version))
        return self


class ApiUpdate(ApiIn):
    """What PUT replaces: the fields of POST; the read-only ones GET adds may come back."""

    id: str | None = read_only()
    route_prefix: str | None = read_only()
    lifecycle_status: str | None = read_only()
    has_deployment: bool | None = read_only()
    deployed_revision: int | None = read_only()
    deployed_time: datetime | None = read_only()
    created_time: datetime | None = read_only()
    updated_time: datetime | None = read_only()
    owner: str | None = read_only()  # set at creation; co-owners are writable


class ApiOut(CamelModel):
    id: str
    name: str
    context: str
    version: str
    description: str
    ai_vendor: VendorRefBody
    endpoints: Endpoints
    policies: list[str]
    backend_throttle: BackendThrottleBody
    additional_endpoints: dict[str, str]
    routing: ApiRouting
    guardrails: list[Guardrail] = Field(
        description=GUARDRAILS_DESCRIPTION, examples=[GUARDRAILS_EXAMPLE]
    )
    cache: ResponseCache | None = Field(description=CACHE_DESCRIPTION, examples=[CACHE_EXAMPLE])
    route_prefix: str
    owner: str | None  # None: created before owners existed, the admins' alone
    co_owners: list[str]
    lifecycle_status: str
    has_deployment: bool
    deployed_revision: int | None
    deployed_time: datetime | None = Field(
        description="when the deployed revision was deployed (null when not deployed)"
    )
    created_time: datetime
    updated_time: datetime

    @classmethod
    def from_doc(cls, doc: ApiDoc) -> Self:
        return cls(
            id=doc["_id"],
            name=doc["name"],
            context=doc["context"],
            version=doc["version"],
            description=doc["description"],
            ai_vendor=VendorRefBody.model_validate(doc["vendor"]),
            endpoints=Endpoints.model_validate(doc["endpoints"]),
            policies=offered_policies(doc),
            backend_throttle=BackendThrottleBody.model_validate(doc.get("backend_throttle") or {}),
            additional_endpoints=additional_endpoints(doc),
            routing=routing(doc),
            guardrails=guardrails(doc),
            cache=response_cache(doc),
            route_prefix=doc["route_prefix"],
            owner=doc.get("owner"),
            co_owners=list(doc.get("co_owners") or []),
            lifecycle_status=doc["lifecycle_status"],
            has_deployment=doc.get("deployed_revision") is not None,
            deployed_revision=doc.get("deployed_revision"),
            deployed_time=doc.get("deployed_time"),
            created_time=doc["created_time"],
            updated_time=doc["updated_time"],
        )


# What a merge patch applies to: the API's writable fields, as a PUT would send them.
_WRITABLE = set(ApiIn.model_fields)


def patch_target(doc: ApiDoc, patch: dict[str, Any]) -> Any:
    """The PUT body a merge patch (RFC 7396) of the API makes, to validate as `ApiUpdate`
    (read-only fields in `patch` are then ignored): the API as GET answers it (its writable
    fields), with `patch` merged in."""
    current = ApiOut.from_doc(doc).model_dump(mode="json", by_alias=True, include=_WRITABLE)
    return merge_patch(current, patch)


def offered_policies(doc: ApiDoc) -> list[str]:
    """The plans an API offers; APIs created before plans existed offer `Unlimited`."""
    return list(doc.get("policies") or ["Unlimited"])


def additional_endpoints(doc: ApiDoc) -> dict[str, str]:
    """The API's additional endpoints by name (none for APIs created before they existed)."""
    return dict(doc.get("additional_endpoints") or {})


def routing(doc: ApiDoc) -> ApiRouting:
    """The API's routing policies (none for APIs created before routing existed)."""
    return ApiRouting.model_validate(doc.get("routing") or {})


def guardrails(doc: ApiDoc) -> list[Guardrail]:
    """The API's guardrails, in order (none for APIs created before guardrails existed)."""
    return GUARDRAIL_LIST.validate_python(doc.get("guardrails") or [])


def response_cache(doc: ApiDoc) -> ResponseCache | None:
    """The API's response cache (none for APIs created before the cache existed)."""
    stored = doc.get("cache")
    return None if stored is None else ResponseCache.model_validate(stored)


def endpoint_url(doc: ApiDoc, name: str) -> str | None:
    """The URL of the endpoint named `name` (None when it is not set)."""
    if name == "production":
        return doc["endpoints"].get("production")
    if name == "sandbox":
        return doc["endpoints"].get("sandbox")
    return additional_endpoints(doc).get(name)


def sealed_key(doc: ApiDoc, name: str) -> KeyEntry | None:
    """The endpoint's stored provider key (ciphertext, masked, origin), None when it has no
    key: never set, set to null, or cleared when the endpoint moved to another origin."""
    entry = (doc.get("backend_security") or {}).get(name)
    return entry if entry and entry.get("ciphertext") else None


def keyless(doc: ApiDoc, name: str) -> bool:
    """Whether the endpoint's key was set to null: it is called with no provider key (a
    decision bound to the origin it was made for, as a key is)."""
    entry = (doc.get("backend_security") or {}).get(name)
    return bool(entry and entry.get("keyless"))


def keys_missing(doc: ApiDoc, *, vendor_needs_key: bool) -> tuple[list[str], list[str]]:
    """The endpoints a deploy would call without the provider key they need: (cleared, never
    set). Cleared: the key, or the null, was dropped when the endpoint moved to another
    origin, and not set since. Never set: an endpoint with a URL, of a vendor that takes a
    key, with neither a key nor a null stored for it."""
    stored = doc.get("backend_security") or {}
    cleared = sorted(name for name, entry in stored.items() if entry and entry.get("required"))
    if not vendor_needs_key:
        return cleared, []
    never_set = [
        name
        for name in endpoint_names(doc)
        if endpoint_url(doc, name) is not None
        and name not in cleared
        and not sealed_key(doc, name)
        and not keyless(doc, name)
    ]
    return cleared, never_set


def endpoint_names(doc: ApiDoc) -> list[str]:
    """Every endpoint a provider key may be set for: production, sandbox (whether or not
    their URL is set, as always) and the additional endpoints."""
    return [*ENDPOINT_TYPES, *additional_endpoints(doc)]


ApiList = Collection[ApiOut]


# --- backend security ----------------------------------------------------------------------


class EndpointKey(RequestModel):
    # Printable ASCII, no surrounding whitespace: the key goes into a header or a query string
    # (a pasted key with a trailing newline would fail every call).
    api_key: str = Field(
        min_length=1, max_length=4096, pattern=r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$"
    )


class BackendSecurityIn(RootModel[dict[EndpointName, EndpointKey | None]]):
    """Provider keys by endpoint name (`production`, `sandbox` or an additional endpoint's
    name); endpoints left out keep their key, null removes it (the endpoint is called with no
    provider key). A key is sealed for the origin of the endpoint's URL as it is now."""

    root: dict[EndpointName, EndpointKey | None] = Field(
        max_length=len(ENDPOINT_TYPES) + MAX_ADDITIONAL_ENDPOINTS,
        examples=[{"production": {"apiKey": "sk-..."}, "backup": {"apiKey": "sk-..."}}],
    )

    @model_validator(mode="after")
    def _at_least_one(self) -> Self:
        if not self.root:
            raise ValueError(
                "set the apiKey of at least one endpoint (production, sandbox or an "
                "additional endpoint)"
            )
        return self


class KeylessEndpoint(CamelModel):
    """An endpoint deliberately called without a provider key (its key was set to null)."""

    keyless: Literal[True] = True


class BackendSecurityOut(RootModel[dict[str, EndpointKey | KeylessEndpoint | None]]):
    """The same shape as the request, but every key masked: plaintext never leaves. Lists
    production, sandbox and every additional endpoint: `{"apiKey": "****abcd"}` where a key is
    set, `{"keyless": true}` where it was set to null (called without a key), and null where
    neither is set (never, or cleared when the endpoint moved to another origin), so the
    endpoint needs a key, or a null, before the next deploy."""

    root: dict[str, EndpointKey | KeylessEndpoint | None]

    @classmethod
    def from_doc(cls, doc: ApiDoc) -> Self:
        masked: dict[str, EndpointKey | KeylessEndpoint | None] = {}
        for name in endpoint_names(doc):
            entry = sealed_key(doc, name)
            if entry:
                masked[name] = EndpointKey(api_key=entry["masked"])
            else:
                masked[name] = KeylessEndpoint() if keyless(doc, name) else None
        return cls(masked)


# --- deploy and lifecycle ------------------------------------------------------------------


class DeploymentOut(CamelModel):
    api_id: str
    revision: int
    deployed_time: datetime


class UndeploymentOut(CamelModel):
    api_id: str
    undeployed_revision: int


class LifecycleIn(RequestModel):
    action: LifecycleAction = Field(description=describe_actions())


class LifecycleOut(CamelModel):
    id: str
    lifecycle_status: str
