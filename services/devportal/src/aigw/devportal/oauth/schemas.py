"""OAuth2 client credentials as the developer portal shows them (WSO2's names: consumer key
and consumer secret)."""

from datetime import datetime

from aigw.common.events import KeyType
from aigw.common.schemas import CamelModel, Collection, RequestModel


class OAuthKeyCreate(RequestModel):
    key_type: KeyType


class OAuthKeys(CamelModel):
    """The only devportal response that carries a consumer secret: shown once, never stored."""

    consumer_key: str
    consumer_secret: str
    key_type: KeyType


class OAuthKeySummary(CamelModel):
    consumer_key: str
    key_type: KeyType
    created_time: datetime
    revoked: bool


OAuthKeyList = Collection[OAuthKeySummary]
