"""Developer sign-up: anyone may create a subscriber account, unless the operator switched it
off (DEVPORTAL_SIGNUP_ENABLED=false), at most DEVPORTAL_SIGNUP_PER_MINUTE per client address
(then 429 with Retry-After). devportal forwards the request to keymanager, signed as
devportal (`aigw.common.service_auth`): keymanager creates accounts only on that signature, and
only with the subscriber role. The password is passed on once and never logged or stored here.
"""

from typing import Annotated

import httpx
from fastapi import APIRouter, Depends, Request, status
from pydantic import Field

from aigw.common.client_address import client_source
from aigw.common.errors import (
    ErrorBody,
    Forbidden,
    ServiceError,
    TooManyRequests,
    UpstreamFailure,
)
from aigw.common.ratelimit import count_signup
from aigw.common.schemas import CamelModel, RequestModel
from aigw.common.service_auth import ServiceAuth
from aigw.devportal.deps import AppSettings, CorrelationId, Db
from aigw.devportal.keys.client import KeymanagerRejected

SIGNUP_PATH = "/api/keymanager/v1/users/signup"
SERVICE_NAME = "devportal"

router = APIRouter(tags=["signup"])


class SignupRequest(RequestModel):
    """Checked by keymanager (username 3-64 of `A-Za-z0-9._@-`, password 8+ characters);
    here only bounded, so its 422 comes back as is."""

    username: str = Field(max_length=256)
    password: str = Field(max_length=1024)


class SignedUp(CamelModel):
    username: str
    roles: list[str]


def _signer(request: Request) -> ServiceAuth:
    """One signer per app, keyed from its AIGW_SECRET_KEY (derived once)."""
    state = request.app.state
    auth: ServiceAuth | None = getattr(state, "signup_auth", None)
    if auth is None:
        auth = ServiceAuth(state.settings.secret_key.get_secret_value(), SERVICE_NAME)
        state.signup_auth = auth
    return auth


Signer = Annotated[ServiceAuth, Depends(_signer)]


@router.post(
    "/signup",
    status_code=status.HTTP_201_CREATED,
    summary="Create a subscriber account (no token needed), if sign-up is enabled",
    responses={
        403: {"description": "Sign-up is disabled"},
        409: {"description": "The username is taken"},
        429: {"model": ErrorBody, "description": "Too many sign-ups; see Retry-After"},
        502: {"description": "Keymanager failed"},
    },
)
async def signup(
    body: SignupRequest,
    request: Request,
    settings: AppSettings,
    db: Db,
    signer: Signer,
    correlation_id: CorrelationId,
) -> SignedUp:
    if not settings.signup_enabled:
        raise Forbidden("Sign-up is disabled", message="Sign-up is disabled")
    source = client_source(request, settings.trusted_proxy_networks)
    await count_signup(db, source, settings.signup_per_minute)
    http: httpx.AsyncClient = request.app.state.keymanager_http
    payload = body.model_dump(mode="json")
    headers = {"X-Correlation-ID": correlation_id}
    try:
        response = await http.post(SIGNUP_PATH, json=payload, headers=headers, auth=signer)
    except httpx.HTTPError as exc:
        raise UpstreamFailure(f"Keymanager is unreachable: {type(exc).__name__}") from exc
    return _created(response)


def _created(response: httpx.Response) -> SignedUp:
    if response.status_code >= 500 or response.status_code in (401, 403):
        # a signature keymanager refuses is our misconfiguration, not the caller's fault
        raise UpstreamFailure(f"Keymanager refused the sign-up with HTTP {response.status_code}")
    if response.status_code >= 400:
        raise _rejected(response)
    try:
        return SignedUp.model_validate_json(response.content)
    except ValueError as exc:
        raise UpstreamFailure("Keymanager answered with an unexpected body") from exc


def _rejected(response: httpx.Response) -> ServiceError:
    try:
        body = response.json()
        message, description = str(body["message"]), str(body["description"])
    except (ValueError, KeyError, TypeError):
        message, description = "Sign-up rejected", f"Keymanager answered {response.status_code}"
    retry_after = response.headers.get("Retry-After", "")
    if response.status_code == 429 and retry_after.isdigit():  # keymanager's own ceiling
        return TooManyRequests(description, retry_after=int(retry_after), message=message)
    return KeymanagerRejected(response.status_code, message, description)
