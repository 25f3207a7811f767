from datetime import datetime

from pydantic import Field

from aigw.common.events import KeyType
from aigw.common.schemas import CamelModel, RequestModel

MAX_EXPIRES_IN = 365 * 24 * 3600  # a year: longer-lived keys should be regenerated instead


class ApiKeyCreate(RequestModel):
    key_type: KeyType
    expires_in: int | None = Field(
        None, gt=0, le=MAX_EXPIRES_IN, description="seconds until the key expires; none: never"
    )


class ApplicationKey(CamelModel):
    """The only devportal response that carries a key: shown once, never stored here."""

    id: str
    api_key: str
    key_type: KeyType
    expires_at: datetime | None
