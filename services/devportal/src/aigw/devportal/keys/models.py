from pydantic import Field

from aigw.common.events import KeyType
from aigw.devportal.schemas import RequestModel

MAX_EXPIRES_IN = 365 * 24 * 3600  # a year: longer-lived keys should be regenerated instead


class ApiKeyCreate(RequestModel):
    key_type: KeyType
    expires_in: int | None = Field(
        None, gt=0, le=MAX_EXPIRES_IN, description="seconds until the key expires; none: never"
    )
