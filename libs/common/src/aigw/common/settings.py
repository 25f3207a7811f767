"""Settings shared by every service, read from the environment with pydantic-settings.

Names follow DESIGN.md: `NATS_URL`, `MONGODB_URL`, `AIGW_SECRET_KEY`, and one port
variable per service. Build settings in `__main__` or in tests, never at import time.
"""

import ssl
from pathlib import Path
from typing import Any, ClassVar

from pydantic import AliasChoices, Field, FilePath, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from aigw.common.addresses import IPNetwork, parse_networks
from aigw.common.crypto import SecretBox, decode_master_key
from aigw.common.event_trust import EventSigner, EventVerifier
from aigw.common.identity import Identity, read_trust_file


def nats_tls_context(
    url: str, ca_file: Path | None, cert_file: Path | None, key_file: Path | None
) -> ssl.SSLContext | None:
    """TLS to NATS, verified against `ca_file` (or the system CAs for a `tls://` URL), with a
    client certificate when one is given (for servers that verify clients)."""
    if not (ca_file or cert_file or url.startswith("tls://")):
        return None
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    if cert_file:
        context.load_cert_chain(str(cert_file), str(key_file) if key_file else None)
    return context


def env(*names: str) -> AliasChoices:
    """Accept the field name (for tests) and the documented environment variables."""
    return AliasChoices(*names)


class ServiceSettings(BaseSettings):
    # the service's identity on the event bus (aigw.common.identity), set by each service
    IDENTITY: ClassVar[str]

    model_config = SettingsConfigDict(
        env_ignore_empty=True,
        extra="ignore",
        validate_by_name=True,
        validate_by_alias=True,
        hide_input_in_errors=True,  # start-up errors must not echo secrets
    )

    host: str = Field("127.0.0.1", validation_alias=env("host", "AIGW_HOST"))
    nats_url: str = Field("nats://127.0.0.1:4222", validation_alias=env("nats_url", "NATS_URL"))
    nats_seed_file: FilePath = Field(
        validation_alias=env("nats_seed_file", "NATS_SEED_FILE"),
        description="this service's NATS nkey seed: authenticates to NATS and signs its events",
    )
    trust_file: FilePath = Field(
        validation_alias=env("trust_file", "AIGW_TRUST_FILE"),
        description="the services' event-signing public keys (JSON, see aigw.common.identity)",
    )
    nats_tls_ca_file: FilePath | None = Field(
        None, validation_alias=env("nats_tls_ca_file", "NATS_TLS_CA_FILE")
    )
    nats_tls_cert_file: FilePath | None = Field(
        None, validation_alias=env("nats_tls_cert_file", "NATS_TLS_CERT_FILE")
    )
    nats_tls_key_file: FilePath | None = Field(
        None, validation_alias=env("nats_tls_key_file", "NATS_TLS_KEY_FILE")
    )
    mongodb_url: str = Field(
        "mongodb://127.0.0.1:27017", validation_alias=env("mongodb_url", "MONGODB_URL")
    )
    secret_key: SecretStr = Field(validation_alias=env("secret_key", "AIGW_SECRET_KEY"))
    previous_secret_keys: str = Field(
        "", validation_alias=env("previous_secret_keys", "AIGW_PREVIOUS_SECRET_KEYS")
    )
    keymanager_url: str = Field(
        "http://127.0.0.1:8003", validation_alias=env("keymanager_url", "KEYMANAGER_URL")
    )
    log_level: str = Field("INFO", validation_alias=env("log_level", "AIGW_LOG_LEVEL"))
    dev_mode: bool = Field(False, validation_alias=env("dev_mode", "AIGW_DEV_MODE"))
    max_body_bytes: int = Field(
        1_048_576, validation_alias=env("max_body_bytes", "AIGW_MAX_BODY_BYTES")
    )
    max_head_bytes: int = Field(
        65_536,
        ge=1024,
        validation_alias=env("max_head_bytes", "AIGW_MAX_HEAD_BYTES"),
        description="largest request head (request line and headers); larger gets 431",
    )
    max_headers: int = Field(
        100,
        ge=10,
        validation_alias=env("max_headers", "AIGW_MAX_HEADERS"),
        description="most headers in a request; more gets 431",
    )
    head_timeout: float = Field(
        10.0,
        gt=0,
        validation_alias=env("head_timeout", "AIGW_HEAD_TIMEOUT"),
        description="seconds a request head may take to arrive, from the connection or the "
        "previous response; then 408 and the connection is closed",
    )
    max_connections: int = Field(
        1000,
        ge=1,
        validation_alias=env("max_connections", "AIGW_MAX_CONNECTIONS"),
        description="open connections per process; one more is answered 503 and closed",
    )
    cors_origins: str = Field(
        "",
        validation_alias=env("cors_origins", "AIGW_CORS_ORIGINS"),
        description="comma-separated browser origins allowed to call the management APIs; "
        "empty sends no CORS headers",
    )

    web_dir: Path | None = Field(
        None,
        validation_alias=env("web_dir", "AIGW_WEB_DIR"),
        description="the portals' build (web/dist, made by `make web`): the portals and every "
        "service's /docs and /redoc assets; default: the checkout's web/dist",
    )
    # where browsers reach each service: the portals call these, and their Content-Security-
    # Policy allows exactly these origins
    publisher_public_url: str = Field(
        "http://127.0.0.1:8001",
        validation_alias=env("publisher_public_url", "PUBLISHER_PUBLIC_URL"),
    )
    devportal_public_url: str = Field(
        "http://127.0.0.1:8002",
        validation_alias=env("devportal_public_url", "DEVPORTAL_PUBLIC_URL"),
    )
    keymanager_public_url: str = Field(
        "http://127.0.0.1:8003",
        validation_alias=env("keymanager_public_url", "KEYMANAGER_PUBLIC_URL"),
    )
    gateway_public_url: str = Field(
        "http://127.0.0.1:8280", validation_alias=env("gateway_public_url", "GATEWAY_PUBLIC_URL")
    )

    trusted_proxies: str = Field(
        "",
        validation_alias=env("trusted_proxies", "AIGW_TRUSTED_PROXIES"),
        description="comma-separated addresses or CIDR blocks of the reverse proxies in front "
        "of the service, whose X-Forwarded-For names the client for per-source limits; empty "
        "trusts no one (the TCP peer is the client)",
    )

    @property
    def trusted_proxy_networks(self) -> tuple[IPNetwork, ...]:
        return parse_networks(self.trusted_proxies)

    jwks_refresh_seconds: float = Field(
        60.0,
        gt=0,
        le=86_400,
        validation_alias=env("jwks_refresh_seconds", "AIGW_JWKS_REFRESH_SECONDS"),
        description="how often publisher and devportal refetch keymanager's JWKS: a signing "
        "key that left it stops verifying management tokens within this time",
    )

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    def secret_box(self) -> SecretBox:
        """The current master key, plus retired ones still needed to read old ciphertexts."""
        previous = [k for k in self.previous_secret_keys.split(",") if k.strip()]
        return SecretBox(self.secret_key.get_secret_value(), previous)

    def identity(self) -> Identity:
        return Identity.load(self.IDENTITY, Path(self.nats_seed_file))

    def event_signer(self) -> EventSigner:
        return EventSigner(self.identity())

    def event_verifier(self) -> EventVerifier:
        return EventVerifier(read_trust_file(Path(self.trust_file)))

    def nats_options(self) -> dict[str, Any]:
        """nats.connect options: this service's nkey, its own reply inbox and TLS."""
        options: dict[str, Any] = dict(self.identity().connect_options())
        if (tls := self.nats_tls()) is not None:
            options["tls"] = tls
        return options

    def nats_tls(self) -> ssl.SSLContext | None:
        return nats_tls_context(
            self.nats_url, self.nats_tls_ca_file, self.nats_tls_cert_file, self.nats_tls_key_file
        )

    @field_validator("nats_seed_file")
    @classmethod
    def _seed_is_usable(cls, value: Path) -> Path:
        Identity.load("-", value)  # raises a clear ValueError without echoing the seed
        return value

    @field_validator("trust_file")
    @classmethod
    def _trust_file_is_usable(cls, value: Path) -> Path:
        read_trust_file(value)
        return value

    @field_validator("secret_key")
    @classmethod
    def _secret_key_is_usable(cls, value: SecretStr) -> SecretStr:
        decode_master_key(value.get_secret_value())  # raises a clear ValueError
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies_parse(cls, value: str) -> str:
        parse_networks(value)  # raises a clear ValueError
        return value

    @field_validator("previous_secret_keys")
    @classmethod
    def _previous_keys_are_usable(cls, value: str) -> str:
        for key in value.split(","):
            if key.strip():
                decode_master_key(key)
        return value


class UsageStoreSettings(ServiceSettings):
    """For the services that store the gateways' usage records (publisher, devportal)."""

    usage_retention_days: int = Field(
        0,
        ge=0,
        le=36_500,
        validation_alias=env("usage_retention_days", "AIGW_USAGE_RETENTION_DAYS"),
        description="usage records older than this many days are deleted; 0 keeps them all",
    )
