"""Publisher settings: the shared service settings plus its own port and database."""

from aigw.common.portal_service import PortalServiceSettings
from aigw.common.settings import DevModeSettings, setting


class Settings(PortalServiceSettings, DevModeSettings):
    IDENTITY = "publisher"

    port: int = setting(8001, "PUBLISHER_PORT")
    mongodb_db: str = setting("aigw_publisher", "PUBLISHER_MONGODB_DB")
