"""Publisher settings: the shared service settings plus its own port and database."""

from pydantic import Field

from aigw.common.settings import UsageStoreSettings, env


class Settings(UsageStoreSettings):
    IDENTITY = "publisher"

    port: int = Field(8001, validation_alias=env("port", "PUBLISHER_PORT"))
    mongodb_db: str = Field(
        "aigw_publisher", validation_alias=env("mongodb_db", "PUBLISHER_MONGODB_DB")
    )
