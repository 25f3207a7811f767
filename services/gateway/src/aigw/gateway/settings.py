"""Gateway settings: ports, TLS, upstream timeouts and connection pool, quotas
(pydantic-settings)."""

import os
import re
import socket

from pydantic import Field, FilePath, field_validator

from aigw.common.addresses import IPNetwork, parse_networks
from aigw.common.settings import ServiceSettings, env
from aigw.common.vendors.spec import (
    NEVER_FROM_CALLER,
    NEVER_FROM_CALLER_PREFIXES,
    RESERVED_HEADERS,
)
from aigw.gateway.quota.plans import Plan, test_key_plan

_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9a-z-]{1,64}$")


class Settings(ServiceSettings):
    IDENTITY = "gateway"

    port: int = Field(8280, validation_alias=env("port", "GATEWAY_PORT"))
    https_port: int = Field(8243, validation_alias=env("https_port", "GATEWAY_HTTPS_PORT"))
    tls_cert_file: str | None = Field(
        None, validation_alias=env("tls_cert_file", "GATEWAY_TLS_CERT_FILE")
    )
    tls_key_file: str | None = Field(
        None, validation_alias=env("tls_key_file", "GATEWAY_TLS_KEY_FILE")
    )
    cors_origins: str = Field(
        "",
        validation_alias=env("cors_origins", "GATEWAY_CORS_ORIGINS"),
        description="comma-separated browser origins allowed to call AI APIs ('*' for any); "
        "empty sends no CORS headers",
    )
    upstream_connect_timeout: float = Field(
        5.0, validation_alias=env("upstream_connect_timeout", "GATEWAY_UPSTREAM_CONNECT_TIMEOUT")
    )
    upstream_timeout: float = Field(
        60.0,
        validation_alias=env("upstream_timeout", "GATEWAY_UPSTREAM_TIMEOUT"),
        description="longest wait for the provider's next bytes (headers or a stream chunk)",
    )
    upstream_pool_size: int = Field(
        512, validation_alias=env("upstream_pool_size", "GATEWAY_UPSTREAM_POOL_SIZE")
    )
    upstream_keepalive: float = Field(
        60.0, validation_alias=env("upstream_keepalive", "GATEWAY_UPSTREAM_KEEPALIVE")
    )
    upstream_ca_file: FilePath | None = Field(
        None,
        validation_alias=env("upstream_ca_file", "GATEWAY_UPSTREAM_CA_FILE"),
        description="PEM bundle of the CAs HTTPS providers are verified against (e.g. an "
        "organisation's own model server); unset: the system's",
    )
    upstream_allowed_networks: str = Field(
        "",
        validation_alias=env("upstream_allowed_networks", "GATEWAY_UPSTREAM_ALLOWED_NETWORKS"),
        description="comma-separated CIDRs of non-public networks providers may be reached "
        "in outside dev mode (e.g. an organisation's own model server: 10.0.0.0/8,fd00::/8); "
        "other loopback, private, link-local and reserved addresses are refused",
    )
    max_body_bytes: int = Field(
        10 * 1_048_576,
        validation_alias=env("max_body_bytes", "GATEWAY_MAX_BODY_BYTES"),
        description="largest invocation request body (larger gets 413); audio uploads need "
        "room, so this is the gateway's own setting, not the management APIs' "
        "AIGW_MAX_BODY_BYTES",
    )
    max_head_bytes: int = Field(
        65_536,
        ge=1024,
        validation_alias=env("max_head_bytes", "GATEWAY_MAX_HEAD_BYTES"),
        description="largest request head (request line and headers); larger gets 431",
    )
    max_headers: int = Field(
        100,
        ge=10,
        validation_alias=env("max_headers", "GATEWAY_MAX_HEADERS"),
        description="most headers in a request; more gets 431",
    )
    head_timeout: float = Field(
        10.0,
        gt=0,
        validation_alias=env("head_timeout", "GATEWAY_HEAD_TIMEOUT"),
        description="seconds a request head may take to arrive, from the connection or the "
        "previous response; then 408 and the connection is closed",
    )
    max_connections: int = Field(
        10_000,
        ge=1,
        validation_alias=env("max_connections", "GATEWAY_MAX_CONNECTIONS"),
        description="open connections per worker process (HTTP and HTTPS together); one more "
        "is answered 503 and closed",
    )
    forward_headers: str = Field(
        "",
        validation_alias=env("forward_headers", "GATEWAY_FORWARD_HEADERS"),
        description="comma-separated request headers every API forwards to its provider, "
        "besides the generic ones and its vendor's callerHeaders (e.g. tracing headers, or the "
        "mock provider's x-mock-latency-ms); credentials, cookies, forwarding and hop-by-hop "
        "headers cannot be listed",
    )

    workers: int = Field(
        1,
        ge=1,
        validation_alias=env("workers", "GATEWAY_WORKERS"),
        description="worker processes sharing the ports (SO_REUSEPORT); each is a quota peer",
    )
    gateway_name: str = Field(
        default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}",
        validation_alias=env("gateway_name", "GATEWAY_NAME"),
        description="this process's name in usage records (default host-pid)",
    )
    quota_sync_interval: float = Field(
        0.025,
        validation_alias=env("quota_sync_interval", "GATEWAY_QUOTA_SYNC_INTERVAL"),
        description="seconds between quota count exchanges with the other gateway processes",
    )
    # Test keys (the portal's "Get Test Key") have no subscription: they are held to this
    # built-in plan, "TestKey", counted per user and API (every test key of a user shares it).
    test_key_requests_per_minute: int = Field(
        10,
        ge=1,
        validation_alias=env(
            "test_key_requests_per_minute", "GATEWAY_TEST_KEY_REQUESTS_PER_MINUTE"
        ),
        description="requests a minute per user and API with test keys (plan TestKey)",
    )
    test_key_tokens_per_minute: int = Field(
        10_000,
        ge=1,
        validation_alias=env("test_key_tokens_per_minute", "GATEWAY_TEST_KEY_TOKENS_PER_MINUTE"),
        description="total tokens a minute per user and API with test keys (plan TestKey)",
    )
    test_key_completion_tokens: int = Field(
        256,
        ge=0,
        validation_alias=env("test_key_completion_tokens", "GATEWAY_TEST_KEY_COMPLETION_TOKENS"),
        description="completion tokens a test-key call reserves when it sets no max_tokens",
    )
    usage_batch_interval: float = Field(
        0.5, validation_alias=env("usage_batch_interval", "GATEWAY_USAGE_BATCH_INTERVAL")
    )
    usage_batch_size: int = Field(
        200, validation_alias=env("usage_batch_size", "GATEWAY_USAGE_BATCH_SIZE")
    )

    @field_validator("forward_headers")
    @classmethod
    def _forwardable(cls, value: str) -> str:
        for name in (n.strip().lower() for n in value.split(",") if n.strip()):
            if not _HEADER_NAME.match(name):
                raise ValueError(f"'{name}' is not a valid HTTP header name")
            if (
                name in RESERVED_HEADERS
                or name in NEVER_FROM_CALLER
                or name.startswith(NEVER_FROM_CALLER_PREFIXES)
            ):
                raise ValueError(f"the header '{name}' is the gateway's own or never forwarded")
        return value

    @property
    def forward_header_names(self) -> frozenset[bytes]:
        names = (n.strip().lower() for n in self.forward_headers.split(","))
        return frozenset(name.encode("latin-1") for name in names if name)

    @property
    def test_key_plan(self) -> Plan:
        return test_key_plan(
            self.test_key_requests_per_minute,
            self.test_key_tokens_per_minute,
            self.test_key_completion_tokens,
        )

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    @property
    def upstream_allowed_network_list(self) -> tuple[IPNetwork, ...]:
        return parse_networks(self.upstream_allowed_networks, strict=True)

    @field_validator("upstream_allowed_networks")
    @classmethod
    def _allowed_networks_are_networks(cls, value: str) -> str:
        parse_networks(value, strict=True)  # a start-up error rather than a refused call later
        return value

    @property
    def tls_enabled(self) -> bool:
        return bool(self.tls_cert_file and self.tls_key_file)
