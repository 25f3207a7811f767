from pydantic import Field

from aigw.common.events import KeyType
from aigw.common.keymanager import IssuedKey, KeyList, KeySummary
from aigw.common.schemas import RequestModel

__all__ = ["MAX_EXPIRES_IN", "IssueKeyRequest", "IssuedKey", "KeyList", "KeySummary"]

MAX_EXPIRES_IN = 365 * 24 * 3600  # a year: longer-lived keys should be regenerated instead


class IssueKeyRequest(RequestModel):
    application_id: str = Field(min_length=1, max_length=256)
    key_type: KeyType
    api_id: str | None = Field(None, min_length=1, max_length=256, description="test keys only")
    expires_in: int | None = Field(
        None, gt=0, le=MAX_EXPIRES_IN, description="seconds; null for no expiry"
    )
