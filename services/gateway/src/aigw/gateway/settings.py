"""Gateway settings: ports, TLS, upstream timeouts and connection pool (pydantic-settings)."""

import ipaddress
import os
import socket

from pydantic import Field, FilePath, field_validator

from aigw.common.addresses import IPNetwork
from aigw.common.settings import ServiceSettings, env


class Settings(ServiceSettings):
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
    usage_batch_interval: float = Field(
        0.5, validation_alias=env("usage_batch_interval", "GATEWAY_USAGE_BATCH_INTERVAL")
    )
    usage_batch_size: int = Field(
        200, validation_alias=env("usage_batch_size", "GATEWAY_USAGE_BATCH_SIZE")
    )

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    @property
    def upstream_allowed_network_list(self) -> tuple[IPNetwork, ...]:
        return _networks(self.upstream_allowed_networks)

    @field_validator("upstream_allowed_networks")
    @classmethod
    def _allowed_networks_are_networks(cls, value: str) -> str:
        _networks(value)  # a clear start-up error rather than a refused call later
        return value

    @property
    def tls_enabled(self) -> bool:
        return bool(self.tls_cert_file and self.tls_key_file)


def _networks(value: str) -> tuple[IPNetwork, ...]:
    """`10.0.0.0/8, fd00::/8` as networks; host bits set (10.0.0.1/8) is a mistake to report,
    not a network to guess."""
    try:
        return tuple(
            ipaddress.ip_network(part.strip()) for part in value.split(",") if part.strip()
        )
    except ValueError as exc:
        raise ValueError(f"not a list of CIDR networks: {exc}") from None
