"""Settings shared by the services, read from the environment with pydantic-settings.

Names follow DESIGN.md: `NATS_URL`, `MONGODB_URL`, `AIGW_SECRET_KEY`, and one port
variable per service. Every field names its one environment variable through `setting()`;
tests pass the field's own name (`Settings(port=...)`). `ServiceSettings` holds what every
service uses; the groups below it are inherited only by the services that use them.
Build settings in `__main__` or in tests, never at import time.
"""

import ssl
from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field, FilePath, SecretStr, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from aigw.common.addresses import IPNetwork, parse_networks
from aigw.common.crypto import SecretBox, decode_master_key
from aigw.common.event_trust import EventSigner, EventVerifier
from aigw.common.identity import Identity, read_trust_file
from aigw.common.nats_servers import nats_servers, uses_tls


def setting(default: Any, env_name: str, /, **field_options: Any) -> Any:
    """A field read from the environment variable `env_name` (`...` as default: required).

    `field_options` are pydantic's `Field` options: `description`, constraints such as
    `ge=1`, or `default_factory`. The field's own name is accepted too, but only as a keyword
    (validate_by_name), never from the environment (see `_DocumentedNameOnly`)."""
    if not env_name.isupper():  # aigw.common.startup names errors by the upper-case alias
        raise ValueError(f"{env_name}: environment variable names are upper case")
    return Field(default, validation_alias=env_name, **field_options)


def environment_name(field: FieldInfo) -> str | None:
    """The environment variable a field is read from, None for one not made by `setting()`."""
    alias = field.validation_alias
    return alias if isinstance(alias, str) else None


class _DocumentedNameOnly(EnvSettingsSource):
    """The environment, read by each field's documented name only: with validate_by_name on,
    pydantic-settings would also read the field's own name (`PORT`, `HOST`, `SECRET_KEY`, case
    insensitive), so a platform's `PORT` would move every service."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        name = environment_name(field)
        if name is None:
            return super().get_field_value(field, field_name)
        value = self.env_vars.get(name if self.case_sensitive else name.lower())
        return value, name, False  # (value, key, complex): every setting is a plain value


def nats_tls_context(
    url: str, ca_file: Path | None, cert_file: Path | None, key_file: Path | None
) -> ssl.SSLContext | None:
    """TLS to NATS, verified against `ca_file` (or the system CAs for a `tls://` URL), with a
    client certificate when one is given (for servers that verify clients)."""
    if not (ca_file or cert_file or uses_tls(url)):
        return None
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    if cert_file:
        context.load_cert_chain(str(cert_file), str(key_file) if key_file else None)
    return context


class BusSettings(BaseSettings):
    """What every process on the event bus uses: its identity, NATS, the trusted emitters'
    keys, logging and the address its health port listens on. The snapshotter has only these
    (it never holds the master key)."""

    # the service's identity on the event bus (aigw.common.identity), set by each service
    IDENTITY: ClassVar[str]

    model_config = SettingsConfigDict(
        env_ignore_empty=True,
        extra="ignore",
        validate_by_name=True,
        validate_by_alias=True,
        hide_input_in_errors=True,  # start-up errors must not echo secrets
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # keywords (tests), then the environment; no .env file or secrets directory is read
        return init_settings, _DocumentedNameOnly(settings_cls)

    host: str = setting("127.0.0.1", "AIGW_HOST")
    nats_url: str = setting(
        "nats://127.0.0.1:4222",
        "NATS_URL",
        description="the NATS server, or a cluster's servers comma-separated "
        "(nats://n1:4222,nats://n2:4222,nats://n3:4222)",
    )
    nats_seed_file: FilePath = setting(
        ...,
        "NATS_SEED_FILE",
        description="this service's NATS nkey seed: authenticates to NATS and signs its events",
    )
    trust_file: FilePath = setting(
        ...,
        "AIGW_TRUST_FILE",
        description="the services' event-signing public keys (JSON, see aigw.common.identity)",
    )
    nats_tls_ca_file: FilePath | None = setting(None, "NATS_TLS_CA_FILE")
    nats_tls_cert_file: FilePath | None = setting(None, "NATS_TLS_CERT_FILE")
    nats_tls_key_file: FilePath | None = setting(None, "NATS_TLS_KEY_FILE")
    log_level: str = setting("INFO", "AIGW_LOG_LEVEL")

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

    @property
    def nats_servers(self) -> list[str]:
        """NATS_URL as the list nats-py and FastStream take (aigw.common.nats_servers)."""
        return nats_servers(self.nats_url)

    def nats_tls(self) -> ssl.SSLContext | None:
        return nats_tls_context(
            self.nats_url, self.nats_tls_ca_file, self.nats_tls_cert_file, self.nats_tls_key_file
        )

    @field_validator("nats_url")
    @classmethod
    def _nats_url_is_usable(cls, value: str) -> str:
        nats_servers(value)  # raises a clear ValueError
        return value

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


class ServiceSettings(BusSettings):
    """What every service uses besides the bus: the master key, the HTTP server's limits and
    CORS, and the web build its /docs pages come from."""

    secret_key: SecretStr = setting(..., "AIGW_SECRET_KEY")
    previous_secret_keys: str = setting("", "AIGW_PREVIOUS_SECRET_KEYS")
    max_body_bytes: int = setting(1_048_576, "AIGW_MAX_BODY_BYTES")
    max_head_bytes: int = setting(
        65_536,
        "AIGW_MAX_HEAD_BYTES",
        ge=1024,
        description="largest request head (request line and headers); larger gets 431",
    )
    max_headers: int = setting(
        100, "AIGW_MAX_HEADERS", ge=10, description="most headers in a request; more gets 431"
    )
    head_timeout: float = setting(
        10.0,
        "AIGW_HEAD_TIMEOUT",
        gt=0,
        description="seconds a request head may take to arrive, from the connection or the "
        "previous response; then 408 and the connection is closed",
    )
    max_connections: int = setting(
        1000,
        "AIGW_MAX_CONNECTIONS",
        ge=1,
        description="open connections per process; one more is answered 503 and closed",
    )
    cors_origins: str = setting(
        "",
        "AIGW_CORS_ORIGINS",
        description="comma-separated browser origins allowed to call the management APIs; "
        "empty sends no CORS headers",
    )
    web_dir: Path | None = setting(
        None,
        "AIGW_WEB_DIR",
        description="the portals' build (web/dist, made by `make web`): the portals and every "
        "service's /docs and /redoc assets; default: the checkout's web/dist",
    )

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip() for origin in self.cors_origins.split(",") if origin.strip()]

    def secret_box(self) -> SecretBox:
        """The current master key, plus retired ones still needed to read old ciphertexts."""
        previous = [k for k in self.previous_secret_keys.split(",") if k.strip()]
        return SecretBox(self.secret_key.get_secret_value(), previous)

    @field_validator("secret_key")
    @classmethod
    def _secret_key_is_usable(cls, value: SecretStr) -> SecretStr:
        decode_master_key(value.get_secret_value())  # raises a clear ValueError
        return value

    @field_validator("previous_secret_keys")
    @classmethod
    def _previous_keys_are_usable(cls, value: str) -> str:
        for key in value.split(","):
            if key.strip():
                decode_master_key(key)
        return value


# The groups below are inherited by the services that use them (combine them freely: each is
# a ServiceSettings, so the fields above are there once).


class DatabaseSettings(ServiceSettings):
    """For the services with a database (publisher, devportal, keymanager; not the gateway)."""

    mongodb_url: str = setting("mongodb://127.0.0.1:27017", "MONGODB_URL")
    mongodb_timeout_ms: int = setting(
        1000,
        "MONGODB_TIMEOUT_MS",
        ge=100,
        le=60_000,
        description="how long a call waits to reach MongoDB (server selection and connect) "
        "before it answers 503 with Retry-After; raise it to ride out a replica set's election",
    )


class UsageStoreSettings(DatabaseSettings):
    """For the services that store the gateways' usage records (publisher, devportal)."""

    usage_retention_days: int = setting(
        0,
        "AIGW_USAGE_RETENTION_DAYS",
        ge=0,
        le=36_500,
        description="the usage reports' per-minute rollups older than this many days are "
        "deleted; 0 keeps them all",
    )
    usage_calls_retention_days: int = setting(
        30,
        "AIGW_USAGE_CALLS_RETENTION_DAYS",
        ge=0,
        le=36_500,
        description="the per-call usage records (the calls lists) older than this many days "
        "are deleted; 0 keeps them all",
    )


class KeymanagerClientSettings(ServiceSettings):
    """For the services that verify keymanager's management tokens and call it (publisher,
    devportal)."""

    keymanager_url: str = setting("http://127.0.0.1:8003", "KEYMANAGER_URL")
    jwks_refresh_seconds: float = setting(
        60.0,
        "AIGW_JWKS_REFRESH_SECONDS",
        gt=0,
        le=86_400,
        description="how often publisher and devportal refetch keymanager's JWKS: a signing "
        "key that left it stops verifying management tokens within this time",
    )


class PortalSettings(ServiceSettings):
    """For the services that serve a portal (publisher, devportal): where browsers reach each
    service. The portals call these, and their Content-Security-Policy allows exactly these
    origins."""

    publisher_public_url: str = setting("http://127.0.0.1:8001", "PUBLISHER_PUBLIC_URL")
    devportal_public_url: str = setting("http://127.0.0.1:8002", "DEVPORTAL_PUBLIC_URL")
    keymanager_public_url: str = setting("http://127.0.0.1:8003", "KEYMANAGER_PUBLIC_URL")
    gateway_public_url: str = setting("http://127.0.0.1:8280", "GATEWAY_PUBLIC_URL")


class DevModeSettings(ServiceSettings):
    """For the services whose checks dev mode relaxes (publisher: provider endpoints; gateway:
    the addresses it connects to)."""

    dev_mode: bool = setting(False, "AIGW_DEV_MODE")


class ClientAddressSettings(ServiceSettings):
    """For the services with per-source limits behind reverse proxies (devportal's and
    keymanager's sign-up and login throttles)."""

    trusted_proxies: str = setting(
        "",
        "AIGW_TRUSTED_PROXIES",
        description="comma-separated addresses or CIDR blocks of the reverse proxies in front "
        "of the service, whose X-Forwarded-For names the client for per-source limits; empty "
        "trusts no one (the TCP peer is the client)",
    )

    @property
    def trusted_proxy_networks(self) -> tuple[IPNetwork, ...]:
        return parse_networks(self.trusted_proxies)

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies_parse(cls, value: str) -> str:
        parse_networks(value)  # raises a clear ValueError
        return value
