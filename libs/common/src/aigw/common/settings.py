"""Settings shared by every service, read from the environment with pydantic-settings.

Names follow DESIGN.md: `NATS_URL`, `MONGODB_URL`, `AIGW_SECRET_KEY`, and one port
variable per service. Build settings in `__main__` or in tests, never at import time.
"""

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from aigw.common.crypto import SecretBox, decode_master_key


def env(*names: str) -> AliasChoices:
    """Accept the field name (for tests) and the documented environment variables."""
    return AliasChoices(*names)


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_ignore_empty=True,
        extra="ignore",
        validate_by_name=True,
        validate_by_alias=True,
        hide_input_in_errors=True,  # start-up errors must not echo secrets
    )

    host: str = Field("127.0.0.1", validation_alias=env("host", "AIGW_HOST"))
    nats_url: str = Field("nats://127.0.0.1:4222", validation_alias=env("nats_url", "NATS_URL"))
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
    cors_origins: str = Field(
        "",
        validation_alias=env("cors_origins", "AIGW_CORS_ORIGINS"),
        description="comma-separated browser origins allowed to call the management APIs; "
        "empty sends no CORS headers",
    )

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


class UsageStoreSettings(ServiceSettings):
    """For the services that store the gateways' usage records (publisher, devportal)."""

    usage_retention_days: int = Field(
        0,
        ge=0,
        le=36_500,
        validation_alias=env("usage_retention_days", "AIGW_USAGE_RETENTION_DAYS"),
        description="usage records older than this many days are deleted; 0 keeps them all",
    )
