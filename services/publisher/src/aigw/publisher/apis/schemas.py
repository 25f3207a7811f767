"""Request and response bodies of `/apis` (camelCase on the wire, snake_case in Python)."""

import ipaddress
from datetime import datetime
from typing import Annotated, Any, Self
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from aigw.common.schemas import CamelModel, Collection
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
    return url.rstrip("/")


def dev_only_endpoint(url: str) -> str | None:
    """Why an endpoint is acceptable only in dev mode, or None if it is fine anywhere: plain
    http, `localhost`, or a literal loopback, link-local, private or unspecified IP address.
    Host names are not resolved; this keeps the obvious local targets out of production."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        return "uses plain http"
    host = (parts.hostname or "").rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return "points at localhost"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback or ip.is_unspecified:
        return "points at a loopback address"
    if ip.is_link_local:
        return "points at a link-local address"
    if ip.is_private:
        return "points at a private address"
    return None


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


class VendorRefBody(CamelModel):
    name: str = Field(min_length=1, max_length=100)
    version: str = Field(min_length=1, max_length=50)


class Endpoints(CamelModel):
    production: EndpointUrl | None = None
    sandbox: EndpointUrl | None = None

    @model_validator(mode="after")
    def _at_least_one(self) -> Self:
        if self.production is None and self.sandbox is None:
            raise ValueError("set at least one of the production and sandbox endpoints")
        return self


PolicyName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
RequestsPerSecond = Annotated[int, Field(strict=True, gt=0, le=1_000_000)]


class BackendThrottleBody(CamelModel):
    """Backend protection: the most requests per second sent to the provider per key type,
    across all applications (null = no limit)."""

    production: RequestsPerSecond | None = None
    sandbox: RequestsPerSecond | None = None


class ApiIn(CamelModel):
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

    @model_validator(mode="after")
    def _distinct_policies(self) -> Self:
        self.policies = list(dict.fromkeys(self.policies))
        return self

    @model_validator(mode="after")
    def _route_is_free_of_gateway_paths(self) -> Self:
        check_route_prefix(route_prefix(self.context, self.version))
        return self


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
    route_prefix: str
    lifecycle_status: str
    has_deployment: bool
    deployed_revision: int | None
    created_time: datetime
    updated_time: datetime

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Self:
        return cls(
            id=doc["_id"],
            ai_vendor=VendorRefBody(**doc["vendor"]),
            endpoints=Endpoints(**doc["endpoints"]),
            policies=offered_policies(doc),
            backend_throttle=BackendThrottleBody(**(doc.get("backend_throttle") or {})),
            has_deployment=doc.get("deployed_revision") is not None,
            **{k: doc.get(k) for k in _PLAIN_FIELDS},
        )


def offered_policies(doc: dict[str, Any]) -> list[str]:
    """The plans an API offers; APIs created before plans existed offer `Unlimited`."""
    return list(doc.get("policies") or ["Unlimited"])


_PLAIN_FIELDS = (
    "name",
    "context",
    "version",
    "description",
    "route_prefix",
    "lifecycle_status",
    "deployed_revision",
    "created_time",
    "updated_time",
)


ApiList = Collection[ApiOut]


# --- backend security ----------------------------------------------------------------------

ENDPOINT_TYPES = ("production", "sandbox")


class EndpointKey(CamelModel):
    api_key: str = Field(min_length=1, max_length=4096)


class BackendSecurityIn(CamelModel):
    production: EndpointKey | None = None
    sandbox: EndpointKey | None = None

    @model_validator(mode="after")
    def _at_least_one(self) -> Self:
        if self.production is None and self.sandbox is None:
            raise ValueError("set the apiKey of at least one of production and sandbox")
        return self


class BackendSecurityOut(CamelModel):
    """The same shape as the request, but every key masked: plaintext never leaves."""

    production: EndpointKey | None = None
    sandbox: EndpointKey | None = None

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Self:
        stored = doc.get("backend_security") or {}
        masked = {
            kind: EndpointKey(api_key=entry["masked"])
            for kind, entry in stored.items()
            if kind in ENDPOINT_TYPES and entry
        }
        return cls(**masked)


# --- deploy and lifecycle ------------------------------------------------------------------


class DeploymentOut(CamelModel):
    api_id: str
    revision: int
    deployed_time: datetime


class UndeploymentOut(CamelModel):
    api_id: str
    undeployed_revision: int


class LifecycleIn(CamelModel):
    action: str = Field(min_length=1, max_length=50)


class LifecycleOut(CamelModel):
    id: str
    lifecycle_status: str
