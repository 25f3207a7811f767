"""What keymanager answers and other services read (devportal issues keys and OAuth2 clients
through it), defined once: keymanager answers with these models and devportal parses them."""

from datetime import datetime

from aigw.common.events import KeyType
from aigw.common.schemas import CamelModel, Collection


class IssuedKey(CamelModel):
    """The only response that ever carries the key itself."""

    id: str
    api_key: str
    key_type: KeyType
    application_id: str
    api_id: str | None
    expires_at: datetime | None


class KeySummary(CamelModel):
    """A key as listed: masked, never the key itself."""

    id: str
    key_type: KeyType
    application_id: str
    api_id: str | None
    masked_key: str
    expires_at: datetime | None
    created_time: datetime
    revoked: bool


KeyList = Collection[KeySummary]


class CreatedClient(CamelModel):
    """The only response that ever carries the client secret."""

    client_id: str
    client_secret: str
    application_id: str
    key_type: KeyType
    created_time: datetime


class ClientSummary(CamelModel):
    client_id: str
    application_id: str
    key_type: KeyType
    created_time: datetime
    revoked: bool


ClientList = Collection[ClientSummary]
