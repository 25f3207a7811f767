"""devportal's settings: the shared ones plus its port, database and test-key lifetime."""

from pydantic import Field

from aigw.common.settings import UsageStoreSettings, env


class Settings(UsageStoreSettings):
    IDENTITY = "devportal"

    port: int = Field(8002, validation_alias=env("port", "DEVPORTAL_PORT"))
    mongodb_db: str = Field(
        "aigw_devportal", validation_alias=env("mongodb_db", "DEVPORTAL_MONGODB_DB")
    )
    test_key_ttl_seconds: int = Field(
        3600, gt=0, validation_alias=env("test_key_ttl_seconds", "DEVPORTAL_TEST_KEY_TTL_SECONDS")
    )
    # Developer sign-up (POST /signup creates subscriber accounts); off answers 403.
    signup_enabled: bool = Field(
        True, validation_alias=env("signup_enabled", "DEVPORTAL_SIGNUP_ENABLED")
    )
    # Sign-ups per client address (aigw.common.client_address) and minute; past it 429.
    signup_per_minute: int = Field(
        5, gt=0, validation_alias=env("signup_per_minute", "DEVPORTAL_SIGNUP_PER_MINUTE")
    )
