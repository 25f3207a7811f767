"""devportal's calls to keymanager (API keys here; OAuth2 clients in aigw.devportal.oauth).

Keys are issued in the caller's name: the caller's Authorization header is forwarded as is,
and every request is signed as devportal (`aigw.common.service_auth`), since keymanager issues
keys only on devportal's word that the application is the caller's (or the API published).
Failures map to the error contract: keymanager unreachable or failing (5xx, unreadable body)
is our 502; its 4xx answers are passed through with its own message and Retry-After (a
test-key limit). Neither the header nor any key ever reaches a log line.
"""

from datetime import datetime
from typing import Annotated, Any

import httpx
from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError

from aigw.common.errors import ServiceError, UpstreamFailure
from aigw.common.events import KeyType
from aigw.common.schemas import CamelModel, Collection
from aigw.common.service_auth import ServiceAuth
from aigw.devportal.deps import CorrelationId

PREFIX = "/api/keymanager/v1/api-keys"
SERVICE_NAME = "devportal"


class KeyRequest(CamelModel):
    application_id: str
    key_type: KeyType
    api_id: str | None = None
    expires_in: int | None = None


class IssuedKey(CamelModel):
    id: str
    api_key: str
    key_type: KeyType
    application_id: str
    api_id: str | None = None
    expires_at: datetime | None = None


# Keymanager's masked key summaries, passed on without reshaping.
KeyList = Collection[dict[str, Any]]


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
    """Request-scoped: carries the caller's credentials and correlation id; `auth` signs each
    request as devportal."""

    def __init__(self, http: httpx.AsyncClient, headers: dict[str, str], auth: httpx.Auth) -> None:
        self._http = http
        self._headers = headers
        self._auth = auth

    async def issue(self, request: KeyRequest) -> IssuedKey:
        body = request.model_dump(mode="json", by_alias=True)
        return parse(IssuedKey, await self.send("POST", PREFIX, json=body))

    async def list_keys(self, application_id: str) -> KeyList:
        params = {"applicationId": application_id}
        return parse(KeyList, await self.send("GET", PREFIX, params=params))

    async def regenerate(self, key_id: str) -> IssuedKey:
        return parse(IssuedKey, await self.send("POST", f"{PREFIX}/{key_id}/regenerate"))

    async def revoke(self, key_id: str) -> None:
        await self.send("DELETE", f"{PREFIX}/{key_id}")

    async def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.request(
                method, path, headers=self._headers, auth=self._auth, **kwargs
            )
        except httpx.HTTPError as exc:
            raise UpstreamFailure(f"Keymanager is unreachable: {type(exc).__name__}") from exc
        _raise_for_status(response)
        return response


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


def parse[M: BaseModel](model: type[M], response: httpx.Response) -> M:
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        raise UpstreamFailure("Keymanager answered with an unexpected body") from exc


def _service_auth(request: Request) -> ServiceAuth:
    """One signer per app, keyed from its AIGW_SECRET_KEY (derived once)."""
    state = request.app.state
    auth: ServiceAuth | None = getattr(state, "keymanager_auth", None)
    if auth is None:
        auth = ServiceAuth(state.settings.secret_key.get_secret_value(), SERVICE_NAME)
        state.keymanager_auth = auth
    return auth


def get_keymanager(request: Request, correlation_id: CorrelationId) -> KeymanagerClient:
    http: httpx.AsyncClient = request.app.state.keymanager_http
    # the caller's own header: keys are issued in its name (verified by CurrentPrincipal)
    headers = {"Authorization": request.headers.get("authorization", "")}
    if correlation_id is not None:
        headers["X-Correlation-ID"] = correlation_id
    return KeymanagerClient(http, headers, _service_auth(request))


Keymanager = Annotated[KeymanagerClient, Depends(get_keymanager)]
