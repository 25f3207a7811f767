"""keymanager settings: the shared service settings plus its port, database and admin seed."""

from datetime import timedelta

from pydantic import SecretStr

from aigw.common.settings import ClientAddressSettings, DatabaseSettings, setting
from aigw.common.tracing.settings import TracingSettings


class Settings(DatabaseSettings, ClientAddressSettings, TracingSettings):
    IDENTITY = "keymanager"

    port: int = setting(8003, "KEYMANAGER_PORT")
    mongodb_db: str = setting("aigw_keymanager", "KEYMANAGER_MONGODB_DB")
    # Only used to seed the "admin" user the first time; an existing admin is never overwritten.
    admin_password: SecretStr = setting(..., "AIGW_ADMIN_PASSWORD")
    token_ttl_seconds: int = setting(3600, "KEYMANAGER_TOKEN_TTL_SECONDS", gt=0)
    # Lifetime of OAuth2 access tokens from the client-credentials grant (RFC 9068 JWTs).
    oauth_token_ttl_seconds: int = setting(3600, "KEYMANAGER_OAUTH_TOKEN_TTL_SECONDS", gt=0)
    # Login throttling (aigw.keymanager.throttle): every attempt is counted before its
    # password is checked, against three budgets per `login_failure_window_seconds`: per
    # (username, source) `login_max_failures`, per source `login_source_max_failures`, per
    # username `login_user_max_failures` (much higher, so a stranger's address is locked long
    # before the account is). A spent budget answers 429 for `login_lock_seconds`; failures
    # are slowed down, growing to `login_max_delay_seconds`.
    login_max_failures: int = setting(5, "KEYMANAGER_LOGIN_MAX_FAILURES", gt=0)
    login_source_max_failures: int = setting(20, "KEYMANAGER_LOGIN_SOURCE_MAX_FAILURES", gt=0)
    login_user_max_failures: int = setting(100, "KEYMANAGER_LOGIN_USER_MAX_FAILURES", gt=0)
    login_failure_window_seconds: int = setting(
        300, "KEYMANAGER_LOGIN_FAILURE_WINDOW_SECONDS", gt=0
    )
    login_lock_seconds: int = setting(60, "KEYMANAGER_LOGIN_LOCK_SECONDS", gt=0)
    login_max_delay_seconds: float = setting(1.0, "KEYMANAGER_LOGIN_MAX_DELAY_SECONDS", ge=0)
    # Sign-ups (only devportal calls POST /users/signup) per calling address and minute: a
    # ceiling over devportal's own per-client limit (DEVPORTAL_SIGNUP_PER_MINUTE).
    signup_per_minute: int = setting(60, "KEYMANAGER_SIGNUP_PER_MINUTE", gt=0)
    # Test keys (API keys bound to one API, the portal's "Get Test Key"): at most
    # `test_key_max_live` live (unexpired, unrevoked) ones per user and API, and at most
    # `test_key_issue_per_minute` new ones per user a minute; beyond either, 429.
    test_key_max_live: int = setting(3, "KEYMANAGER_TEST_KEY_MAX_LIVE", gt=0)
    test_key_issue_per_minute: int = setting(10, "KEYMANAGER_TEST_KEY_ISSUE_PER_MINUTE", gt=0)
    # After a rotation the previous signing key stays in the JWKS for the longest token
    # lifetime plus this leeway (clock differences between services).
    signing_key_leeway_seconds: int = setting(60, "KEYMANAGER_SIGNING_KEY_LEEWAY_SECONDS", ge=0)

    @property
    def signing_key_retire_after(self) -> timedelta:
        """How long a rotated-out signing key keeps verifying: every token it signed expires
        before that."""
        longest = max(self.token_ttl_seconds, self.oauth_token_ttl_seconds)
        return timedelta(seconds=longest + self.signing_key_leeway_seconds)
