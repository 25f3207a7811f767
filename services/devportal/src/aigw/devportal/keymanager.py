"""devportal's one client of keymanager: API keys, OAuth2 clients and sign-up.

Built once in the lifespan with the connection pool and devportal's service signature
(`aigw.common.service_auth`): keymanager issues keys, clients and accounts only on devportal's
word that the application is the caller's (or the API published, or sign-up open). Keys and
clients are managed in the caller's name: `acting_for` forwards the caller's Authorization
header as is (the signature covers it); sign-up is devportal's own call, without one.

Failures map to the error contract: keymanager unreachable or failing (5xx, unreadable body)
is our 502; its 4xx answers are passed through with its own message and Retry-After (a
test-key limit). Neither the header nor any key or password ever reaches a log line. The
answers are parsed into keymanager's own models (`aigw.common.keymanager`).
"""

from typing import Any, Self

import httpx
from pydantic import BaseModel, ValidationError

from aigw.common.errors import ServiceError, TooManyRequests, UpstreamFailure
from aigw.common.events import KeyType
from aigw.common.keymanager import ClientList, CreatedClient, IssuedKey, KeyList
from aigw.common.schemas import CamelModel
from aigw.common.service_auth import ServiceAuth

API = "/api/keymanager/v1"
KEYS = f"{API}/api-keys"
CLIENTS = f"{API}/oauth-clients"
SIGNUP = f"{API}/users/signup"
SERVICE_NAME = "devportal"
TIMEOUT_SECONDS = 10


class KeyRequest(CamelModel):
    application_id: str
    key_type: KeyType
    api_id: str | None = None
    expires_in: int | None = None


class KeymanagerRejected(ServiceError):
    """A 4xx from keymanager, relayed with its status and message."""

    def __init__(
        self, status_code: int, message: str, description: str, retry_after: str | None = None
    ) -> None:
        super().__init__(description, message=message)
        self.status_code = status_code
        if retry_after is not None:  # e.g. a test-key limit: when to come back
            self.headers = {"Retry-After": retry_after}


class KeymanagerClient:
    """The lifespan's client (no caller headers), or a request's view of it from `acting_for`
    (same pool, same signer)."""

    def __init__(
        self, http: httpx.AsyncClient, signer: httpx.Auth, headers: dict[str, str] | None = None
    ) -> None:
        self._http = http
        self._signer = signer
        self._headers = headers or {}

    @classmethod
    def connect(
        cls, base_url: str, secret_key: str, transport: httpx.AsyncBaseTransport | None = None
    ) -> Self:
        """Close it with `aclose` (the lifespan does)."""
        http = httpx.AsyncClient(base_url=base_url, transport=transport, timeout=TIMEOUT_SECONDS)
        return cls(http, ServiceAuth(secret_key, SERVICE_NAME))

    async def aclose(self) -> None:
        await self._http.aclose()

    def acting_for(self, authorization: str, correlation_id: str) -> "KeymanagerClient":
        headers = {"Authorization": authorization, "X-Correlation-ID": correlation_id}
        return KeymanagerClient(self._http, self._signer, headers)

    # API keys
    async def issue(self, request: KeyRequest) -> IssuedKey:
        body = request.model_dump(mode="json", by_alias=True)
        return parse(IssuedKey, await self.send("POST", KEYS, json=body))

    async def list_keys(self, application_id: str) -> KeyList:
        params = {"applicationId": application_id}
        return parse(KeyList, await self.send("GET", KEYS, params=params))

    async def regenerate(self, key_id: str) -> IssuedKey:
        return parse(IssuedKey, await self.send("POST", f"{KEYS}/{key_id}/regenerate"))

    async def revoke(self, key_id: str) -> None:
        await self.send("DELETE", f"{KEYS}/{key_id}")

    # OAuth2 clients
    async def create_client(self, application_id: str, key_type: KeyType) -> CreatedClient:
        body = {"applicationId": application_id, "keyType": key_type}
        return parse(CreatedClient, await self.send("POST", CLIENTS, json=body))

    async def list_clients(self, application_id: str) -> ClientList:
        params = {"applicationId": application_id}
        return parse(ClientList, await self.send("GET", CLIENTS, params=params))

    async def revoke_client(self, client_id: str) -> None:
        await self.send("DELETE", f"{CLIENTS}/{client_id}")

    # Sign-up
    async def signup[M: BaseModel](
        self, answer: type[M], body: BaseModel, correlation_id: str
    ) -> M:
        """The new account as `answer` reads it; keymanager's own 429 stays a 429."""
        headers = {"X-Correlation-ID": correlation_id}
        json = body.model_dump(mode="json")
        response = await self._request("POST", SIGNUP, json=json, headers=headers)
        if response.status_code >= 500 or response.status_code in (401, 403):
            # a signature keymanager refuses is our misconfiguration, not the caller's fault
            raise UpstreamFailure(
                f"Keymanager refused the sign-up with HTTP {response.status_code}"
            )
        if response.status_code >= 400:
            raise _signup_rejected(response)
        return parse(answer, response)

    async def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = await self._request(method, path, headers=self._headers, **kwargs)
        _raise_for_status(response)
        return response

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self._http.request(method, path, auth=self._signer, **kwargs)
        except httpx.HTTPError as exc:
            raise UpstreamFailure(f"Keymanager is unreachable: {type(exc).__name__}") from exc


def _raise_for_status(response: httpx.Response) -> None:
    if response.status_code >= 500:
        raise UpstreamFailure(f"Keymanager failed with HTTP {response.status_code}")
    if response.status_code >= 400:
        message, description = _error_text(response)
        retry_after = response.headers.get("retry-after")
        if retry_after is not None and not retry_after.isdigit():
            retry_after = None
        raise KeymanagerRejected(response.status_code, message, description, retry_after)


def _error_text(response: httpx.Response) -> tuple[str, str]:
    """Keymanager speaks the same error contract; fall back to the status if it did not."""
    try:
        body = response.json()
        return str(body["message"]), str(body.get("description") or body["message"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return response.reason_phrase, f"Keymanager answered HTTP {response.status_code}"


def _signup_rejected(response: httpx.Response) -> ServiceError:
    try:
        body = response.json()
        message, description = str(body["message"]), str(body["description"])
    except (ValueError, KeyError, TypeError):
        message, description = "Sign-up rejected", f"Keymanager answered {response.status_code}"
    retry_after = response.headers.get("Retry-After", "")
    if response.status_code == 429 and retry_after.isdigit():  # keymanager's own ceiling
        return TooManyRequests(description, retry_after=int(retry_after), message=message)
    return KeymanagerRejected(response.status_code, message, description)


def parse[M: BaseModel](model: type[M], response: httpx.Response) -> M:
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        raise UpstreamFailure("Keymanager answered with an unexpected body") from exc
