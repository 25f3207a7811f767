from datetime import datetime

from pydantic import Field

from aigw.common.events import KeyType
from aigw.common.schemas import CamelModel, Collection, RequestModel


class CreateClientRequest(RequestModel):
    application_id: str = Field(min_length=1, max_length=256)
    key_type: KeyType


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
