"""Publisher settings: the shared service settings plus its own port and database."""

from aigw.common.settings import (
    DevModeSettings,
    KeymanagerClientSettings,
    PortalSettings,
    UsageStoreSettings,
    setting,
)


class Settings(UsageStoreSettings, KeymanagerClientSettings, PortalSettings, DevModeSettings):
    IDENTITY = "publisher"

    port: int = setting(8001, "PUBLISHER_PORT")
    mongodb_db: str = setting("aigw_publisher", "PUBLISHER_MONGODB_DB")
