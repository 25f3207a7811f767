"""One provider endpoint of a deployed API."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Upstream:
    """One provider endpoint of a deployed API, with its provider key decrypted.

    `key_error` is set when the provider key could not be decrypted (e.g. the gateway runs
    with another `AIGW_SECRET_KEY`): calls to this endpoint then fail with 503.
    """

    url: str  # without a trailing slash
    api_key: str | None = None
    key_error: str | None = None

    def __repr__(self) -> str:  # never print the provider key
        return f"Upstream(url={self.url!r}, api_key={'***' if self.api_key else None})"
