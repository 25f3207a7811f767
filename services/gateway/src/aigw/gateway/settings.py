"""Gateway settings: ports, TLS, upstream timeouts and connection pool, quotas
(pydantic-settings)."""

import os
import re
import socket
from pathlib import Path

from pydantic import FilePath, SecretStr, field_validator

from aigw.common.addresses import IPNetwork, parse_networks
from aigw.common.settings import DevModeSettings, setting
from aigw.common.tracing.settings import TracingSettings
from aigw.common.vendors.spec import (
    NEVER_FROM_CALLER,
    NEVER_FROM_CALLER_PREFIXES,
    RESERVED_HEADERS,
)
from aigw.gateway.routing.plans import Plan, test_key_plan

_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9a-z-]{1,64}$")


class Settings(DevModeSettings, TracingSettings):
    IDENTITY = "gateway"

    port: int = setting(8280, "GATEWAY_PORT")
    https_port: int = setting(8243, "GATEWAY_HTTPS_PORT")
    tls_cert_file: str | None = setting(None, "GATEWAY_TLS_CERT_FILE")
    tls_key_file: str | None = setting(None, "GATEWAY_TLS_KEY_FILE")
    cors_origins: str = setting(
        "",
        "GATEWAY_CORS_ORIGINS",
        description="comma-separated browser origins allowed to call AI APIs ('*' for any); "
        "empty sends no CORS headers",
    )
    upstream_connect_timeout: float = setting(5.0, "GATEWAY_UPSTREAM_CONNECT_TIMEOUT")
    upstream_timeout: float = setting(
        60.0,
        "GATEWAY_UPSTREAM_TIMEOUT",
        description="longest wait for the provider's next bytes (headers or a stream chunk)",
    )
    upstream_pool_size: int = setting(512, "GATEWAY_UPSTREAM_POOL_SIZE")
    upstream_keepalive: float = setting(60.0, "GATEWAY_UPSTREAM_KEEPALIVE")
    upstream_ca_file: FilePath | None = setting(
        None,
        "GATEWAY_UPSTREAM_CA_FILE",
        description="PEM bundle of the CAs HTTPS providers are verified against (e.g. an "
        "organisation's own model server); unset: the system's",
    )
    upstream_allowed_networks: str = setting(
        "",
        "GATEWAY_UPSTREAM_ALLOWED_NETWORKS",
        description="comma-separated CIDRs of non-public networks providers may be reached "
        "in outside dev mode (e.g. an organisation's own model server: 10.0.0.0/8,fd00::/8); "
        "other loopback, private, link-local and reserved addresses are refused",
    )
    embeddings_url: str | None = setting(
        None,
        "GATEWAY_EMBEDDINGS_URL",
        description="an OpenAI-compatible embeddings endpoint (e.g. "
        "https://api.openai.com/v1/embeddings) for the semantic guardrail and the semantic "
        "cache; unset: APIs that need one answer 503",
    )
    embeddings_api_key: SecretStr | None = setting(
        None, "GATEWAY_EMBEDDINGS_API_KEY", description="sent as `Authorization: Bearer`"
    )
    embeddings_model: str = setting("all-MiniLM-L6-v2", "GATEWAY_EMBEDDINGS_MODEL")
    embeddings_timeout: float = setting(5.0, "GATEWAY_EMBEDDINGS_TIMEOUT", gt=0)
    guardrail_regex_timeout_ms: int = setting(
        100,
        "GATEWAY_GUARDRAIL_REGEX_TIMEOUT_MS",
        ge=1,
        le=10_000,
        description="longest a guardrail's regex may run on one text; past it the guardrail "
        "intervenes (fails closed)",
    )
    guardrail_stream_holdback: int = setting(
        256,
        "GATEWAY_GUARDRAIL_STREAM_HOLDBACK",
        ge=16,
        le=65_536,
        description="most characters a deny-list regex guardrail holds back on a stream (text "
        "that may still start a match)",
    )
    max_body_bytes: int = setting(
        10 * 1_048_576,
        "GATEWAY_MAX_BODY_BYTES",
        description="largest invocation request body (larger gets 413); audio uploads need "
        "room, so this is the gateway's own setting, not the management APIs' "
        "AIGW_MAX_BODY_BYTES",
    )
    max_head_bytes: int = setting(
        65_536,
        "GATEWAY_MAX_HEAD_BYTES",
        ge=1024,
        description="largest request head (request line and headers); larger gets 431",
    )
    max_headers: int = setting(
        100, "GATEWAY_MAX_HEADERS", ge=10, description="most headers in a request; more gets 431"
    )
    head_timeout: float = setting(
        10.0,
        "GATEWAY_HEAD_TIMEOUT",
        gt=0,
        description="seconds a request head may take to arrive, from the connection or the "
        "previous response; then 408 and the connection is closed",
    )
    max_connections: int = setting(
        10_000,
        "GATEWAY_MAX_CONNECTIONS",
        ge=1,
        description="open connections per worker process (HTTP and HTTPS together); one more "
        "is answered 503 and closed",
    )
    forward_headers: str = setting(
        "",
        "GATEWAY_FORWARD_HEADERS",
        description="comma-separated request headers every API forwards to its provider, "
        "besides the generic ones and its vendor's callerHeaders (e.g. tracing headers, or the "
        "mock provider's x-mock-latency-ms); credentials, cookies, forwarding and hop-by-hop "
        "headers cannot be listed",
    )

    workers: int = setting(
        1,
        "GATEWAY_WORKERS",
        ge=1,
        description="worker processes sharing the ports (SO_REUSEPORT); each is a quota peer",
    )
    drain_seconds: float = setting(
        5.0,
        "GATEWAY_DRAIN_SECONDS",
        ge=0,
        description="on SIGTERM, seconds the gateway keeps serving with /health/ready at 503 "
        "(and `Connection: close` on every answer) before it stops accepting connections: time "
        "for a load balancer to notice",
    )
    drain_timeout: float = setting(
        30.0,
        "GATEWAY_DRAIN_TIMEOUT",
        gt=0,
        description="on SIGTERM, after the port is closed, longest wait for the calls and "
        "streams in flight to finish; then they are cut",
    )
    gateway_name: str = setting(
        ...,
        "GATEWAY_NAME",
        default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}",
        description="this process's name in usage records (default host-pid)",
    )
    quota_sync_interval: float = setting(
        0.025,
        "GATEWAY_QUOTA_SYNC_INTERVAL",
        description="seconds between quota count exchanges with the other gateway processes",
    )
    # Test keys (the portal's "Get Test Key") have no subscription: they are held to this
    # built-in plan, "TestKey", counted per user and API (every test key of a user shares it).
    test_key_requests_per_minute: int = setting(
        10,
        "GATEWAY_TEST_KEY_REQUESTS_PER_MINUTE",
        ge=1,
        description="requests a minute per user and API with test keys (plan TestKey)",
    )
    test_key_tokens_per_minute: int = setting(
        10_000,
        "GATEWAY_TEST_KEY_TOKENS_PER_MINUTE",
        ge=1,
        description="total tokens a minute per user and API with test keys (plan TestKey)",
    )
    test_key_completion_tokens: int = setting(
        256,
        "GATEWAY_TEST_KEY_COMPLETION_TOKENS",
        ge=0,
        description="completion tokens a test-key call reserves when it sets no max_tokens",
    )
    access_log: str = setting(
        "off",
        "GATEWAY_ACCESS_LOG",
        min_length=1,
        description="one JSON line per call: off, stdout, or the path of a file to append to "
        "(written in batches off the request path; never keys or prompts)",
    )
    usage_batch_interval: float = setting(
        0.5,
        "GATEWAY_USAGE_BATCH_INTERVAL",
        gt=0,
        description="seconds between usage batches; with GATEWAY_STATE_DIR also how often the "
        "usage spool is written and fsynced (what a kill -9 can lose: the calls of one interval)",
    )
    usage_batch_size: int = setting(200, "GATEWAY_USAGE_BATCH_SIZE", ge=1)
    state_dir: Path | None = setting(
        None,
        "GATEWAY_STATE_DIR",
        description="a directory of this gateway's own (make run: its data folder's gateway/) "
        "for the routing table's snapshot and the usage records not yet sent, so that a "
        "gateway restarted while NATS is down serves from its last table and no usage record "
        "is lost on restart; unset: neither is kept",
    )
    snapshot_interval: float = setting(
        30.0,
        "GATEWAY_SNAPSHOT_INTERVAL",
        gt=0,
        description="seconds between routing table snapshots (when events arrived; one is "
        "written at shutdown too)",
    )
    shared_snapshot: bool = setting(
        True,
        "GATEWAY_SHARED_SNAPSHOT",
        description="a gateway with no table of its own starts from the snapshotter's signed "
        "snapshot in the AIGW_SNAPSHOTS object store, then replays only newer events; false: "
        "always replay the whole stream",
    )
    usage_spool_max_records: int = setting(
        100_000,
        "GATEWAY_USAGE_SPOOL_MAX_RECORDS",
        ge=1,
        description="most usage records kept while NATS is away (in memory, and in "
        "GATEWAY_STATE_DIR's spool); past it the oldest are dropped and counted in "
        "aigw_gateway_usage_records_dropped_total",
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
