"""devportal's calls to keymanager's OAuth2 client endpoints, over the same signed,
request-scoped client as API keys (aigw.devportal.keys.client)."""

from datetime import datetime

from aigw.common.events import KeyType
from aigw.common.schemas import CamelModel, Collection
from aigw.devportal.keys.client import KeymanagerClient, parse

PREFIX = "/api/keymanager/v1/oauth-clients"


class CreatedClient(CamelModel):
    client_id: str
    client_secret: str
    application_id: str
    key_type: KeyType


class ClientSummary(CamelModel):
    client_id: str
    application_id: str
    key_type: KeyType
    created_time: datetime
    revoked: bool


ClientList = Collection[ClientSummary]


async def create_client(
    keymanager: KeymanagerClient, application_id: str, key_type: KeyType
) -> CreatedClient:
    body = {"applicationId": application_id, "keyType": key_type}
    return parse(CreatedClient, await keymanager.send("POST", PREFIX, json=body))


async def list_clients(keymanager: KeymanagerClient, application_id: str) -> ClientList:
    params = {"applicationId": application_id}
    return parse(ClientList, await keymanager.send("GET", PREFIX, params=params))


async def revoke_client(keymanager: KeymanagerClient, client_id: str) -> None:
    await keymanager.send("DELETE", f"{PREFIX}/{client_id}")
