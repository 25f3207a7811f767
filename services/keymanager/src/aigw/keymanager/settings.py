"""keymanager settings: the shared service settings plus its port, database and admin seed."""

from datetime import timedelta

from pydantic import Field, SecretStr

from aigw.common.settings import ServiceSettings, env


class Settings(ServiceSettings):
    IDENTITY = "keymanager"

    port: int = Field(8003, validation_alias=env("port", "KEYMANAGER_PORT"))
    mongodb_db: str = Field(
        "aigw_keymanager", validation_alias=env("mongodb_db", "KEYMANAGER_MONGODB_DB")
    )
    # Only used to seed the "admin" user the first time; an existing admin is never overwritten.
    admin_password: SecretStr = Field(validation_alias=env("admin_password", "AIGW_ADMIN_PASSWORD"))
    token_ttl_seconds: int = Field(
        3600, gt=0, validation_alias=env("token_ttl_seconds", "KEYMANAGER_TOKEN_TTL_SECONDS")
    )
    # Lifetime of OAuth2 access tokens from the client-credentials grant (RFC 9068 JWTs).
    oauth_token_ttl_seconds: int = Field(
        3600,
        gt=0,
        validation_alias=env("oauth_token_ttl_seconds", "KEYMANAGER_OAUTH_TOKEN_TTL_SECONDS"),
    )
    # Login throttling (aigw.keymanager.throttle): every attempt is counted before its
    # password is checked, against three budgets per `login_failure_window_seconds`: per
    # (username, source) `login_max_failures`, per source `login_source_max_failures`, per
    # username `login_user_max_failures` (much higher, so a stranger's address is locked long
    # before the account is). A spent budget answers 429 for `login_lock_seconds`; failures
    # are slowed down, growing to `login_max_delay_seconds`.
    login_max_failures: int = Field(
        5, gt=0, validation_alias=env("login_max_failures", "KEYMANAGER_LOGIN_MAX_FAILURES")
    )
    login_source_max_failures: int = Field(
        20,
        gt=0,
        validation_alias=env("login_source_max_failures", "KEYMANAGER_LOGIN_SOURCE_MAX_FAILURES"),
    )
    login_user_max_failures: int = Field(
        100,
        gt=0,
        validation_alias=env("login_user_max_failures", "KEYMANAGER_LOGIN_USER_MAX_FAILURES"),
    )
    login_failure_window_seconds: int = Field(
        300,
        gt=0,
        validation_alias=env(
            "login_failure_window_seconds", "KEYMANAGER_LOGIN_FAILURE_WINDOW_SECONDS"
        ),
    )
    login_lock_seconds: int = Field(
        60, gt=0, validation_alias=env("login_lock_seconds", "KEYMANAGER_LOGIN_LOCK_SECONDS")
    )
    login_max_delay_seconds: float = Field(
        1.0,
        ge=0,
        validation_alias=env("login_max_delay_seconds", "KEYMANAGER_LOGIN_MAX_DELAY_SECONDS"),
    )
    # Sign-ups (only devportal calls POST /users/signup) per calling address and minute: a
    # ceiling over devportal's own per-client limit (DEVPORTAL_SIGNUP_PER_MINUTE).
    signup_per_minute: int = Field(
        60, gt=0, validation_alias=env("signup_per_minute", "KEYMANAGER_SIGNUP_PER_MINUTE")
    )
    # Test keys (API keys bound to one API, the portal's "Get Test Key"): at most
    # `test_key_max_live` live (unexpired, unrevoked) ones per user and API, and at most
    # `test_key_issue_per_minute` new ones per user a minute; beyond either, 429.
    test_key_max_live: int = Field(
        3, gt=0, validation_alias=env("test_key_max_live", "KEYMANAGER_TEST_KEY_MAX_LIVE")
    )
    test_key_issue_per_minute: int = Field(
        10,
        gt=0,
        validation_alias=env("test_key_issue_per_minute", "KEYMANAGER_TEST_KEY_ISSUE_PER_MINUTE"),
    )
    # After a rotation the previous signing key stays in the JWKS for the longest token
    # lifetime plus this leeway (clock differences between services).
    signing_key_leeway_seconds: int = Field(
        60,
        ge=0,
        validation_alias=env("signing_key_leeway_seconds", "KEYMANAGER_SIGNING_KEY_LEEWAY_SECONDS"),
    )

    @property
    def signing_key_retire_after(self) -> timedelta:
        """How long a rotated-out signing key keeps verifying: every token it signed expires
        before that."""
        longest = max(self.token_ttl_seconds, self.oauth_token_ttl_seconds)
        return timedelta(seconds=longest + self.signing_key_leeway_seconds)
