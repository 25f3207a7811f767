"""keymanager settings: the shared service settings plus its port, database and admin seed."""

from pydantic import Field, SecretStr

from aigw.common.settings import ServiceSettings, env


class Settings(ServiceSettings):
    port: int = Field(8003, validation_alias=env("port", "KEYMANAGER_PORT"))
    mongodb_db: str = Field(
        "aigw_keymanager", validation_alias=env("mongodb_db", "KEYMANAGER_MONGODB_DB")
    )
    # Only used to seed the "admin" user the first time; an existing admin is never overwritten.
    admin_password: SecretStr = Field(validation_alias=env("admin_password", "AIGW_ADMIN_PASSWORD"))
    token_ttl_seconds: int = Field(
        3600, gt=0, validation_alias=env("token_ttl_seconds", "KEYMANAGER_TOKEN_TTL_SECONDS")
    )
