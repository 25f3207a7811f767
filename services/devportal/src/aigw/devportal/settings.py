"""devportal's settings: the shared ones plus its port, database and test-key lifetime."""

from aigw.common.portal_service import PortalServiceSettings
from aigw.common.settings import ClientAddressSettings, setting


class Settings(PortalServiceSettings, ClientAddressSettings):
    IDENTITY = "devportal"

    port: int = setting(8002, "DEVPORTAL_PORT")
    mongodb_db: str = setting("aigw_devportal", "DEVPORTAL_MONGODB_DB")
    test_key_ttl_seconds: int = setting(3600, "DEVPORTAL_TEST_KEY_TTL_SECONDS", gt=0)
    # Developer sign-up (POST /signup creates subscriber accounts); off answers 403.
    signup_enabled: bool = setting(True, "DEVPORTAL_SIGNUP_ENABLED")
    # Sign-ups per client address (aigw.common.client_address) and minute; past it 429.
    signup_per_minute: int = setting(5, "DEVPORTAL_SIGNUP_PER_MINUTE", gt=0)
