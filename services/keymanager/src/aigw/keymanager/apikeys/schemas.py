from datetime import datetime

from pydantic import Field

from aigw.common.events import KeyType
from aigw.common.keymanager import IssuedKey
from aigw.common.schemas import CamelModel, Collection, RequestModel

__all__ = ["MAX_EXPIRES_IN", "IssueKeyRequest", "IssuedKey", "KeyList", "KeySummary"]

MAX_EXPIRES_IN = 365 * 24 * 3600  # a year: longer-lived keys should be regenerated instead


class IssueKeyRequest(RequestModel):
    application_id: str = Field(min_length=1, max_length=256)
    key_type: KeyType
    api_id: str | None = Field(None, min_length=1, max_length=256, description="test keys only")
    expires_in: int | None = Field(
        None, gt=0, le=MAX_EXPIRES_IN, description="seconds; null for no expiry"
    )


class KeySummary(CamelModel):
    id: str
    key_type: KeyType
    application_id: str
    api_id: str | None
    masked_key: str
    expires_at: datetime | None
    created_time: datetime
    revoked: bool


KeyList = Collection[KeySummary]
