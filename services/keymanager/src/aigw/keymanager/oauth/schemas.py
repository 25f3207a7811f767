from pydantic import Field

from aigw.common.events import KeyType
from aigw.common.keymanager import ClientList, ClientSummary, CreatedClient
from aigw.common.schemas import RequestModel

__all__ = ["ClientList", "ClientSummary", "CreateClientRequest", "CreatedClient"]


class CreateClientRequest(RequestModel):
    application_id: str = Field(min_length=1, max_length=256)
    key_type: KeyType
