"""OAuth2 client management (`/oauth-clients`, for devportal and the clients' owners) and
the OAuth2 protocol endpoints (`/oauth2/token`, `/oauth2/revoke`, for the clients)."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import JSONResponse

from aigw.common.actor import Actor
from aigw.common.service_auth import require_service
from aigw.keymanager.deps import CorrelationId, CurrentActor, OAuth
from aigw.keymanager.oauth.protocol import (
    FORM,
    NO_STORE,
    OAuthError,
    client_credentials,
    invalid_request,
    read_form,
)
from aigw.keymanager.oauth.repository import ClientDoc
from aigw.keymanager.oauth.schemas import ClientList, CreateClientRequest, CreatedClient
from aigw.keymanager.users.schemas import TokenResponse

clients_router = APIRouter(prefix="/oauth-clients", tags=["oauth-clients"])
oauth2_router = APIRouter(prefix="/oauth2", tags=["oauth2"])

# As for API keys: only devportal knows that the application is the caller's.
FromDevportal = Annotated[
    str,
    Depends(
        require_service("devportal", purpose="Client credentials are issued through the portal")
    ),
]


@clients_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create client credentials (secret shown once); devportal-signed requests only",
    responses={409: {"description": "The application has live credentials of this key type"}},
)
async def create_client(
    body: CreateClientRequest, actor: CurrentActor, _caller: FromDevportal, oauth: OAuth
) -> CreatedClient:
    return await oauth.create_client(body, actor)


@clients_router.get("", summary="The caller's OAuth2 clients, without secrets")
async def list_clients(
    actor: CurrentActor,
    oauth: OAuth,
    application_id: Annotated[str | None, Query(alias="applicationId")] = None,
) -> ClientList:
    return await oauth.list_clients(actor, application_id)


@clients_router.delete(
    "/{client_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke a client's secret"
)
async def revoke_client(client_id: str, actor: CurrentActor, oauth: OAuth) -> Response:
    await oauth.revoke_client(client_id, actor)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _form_body(*fields: str) -> dict[str, Any]:
    """The OpenAPI request body of a form endpoint (parsed by hand, to answer OAuth2 errors)."""
    properties = {name: {"type": "string"} for name in fields}
    schema = {"type": "object", "properties": properties, "required": [fields[0]]}
    return {"requestBody": {"required": True, "content": {FORM: {"schema": schema}}}}


async def _authenticated(request: Request, oauth: OAuth) -> tuple[dict[str, str], ClientDoc]:
    """The form parameters and the client that authenticated with them."""
    form = await read_form(request)
    return form, await oauth.authenticate(client_credentials(request, form))


_OAUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "OAuth2 error: invalid_request, unsupported_grant_type"},
    401: {"description": "OAuth2 error: invalid_client"},
}


@oauth2_router.post(
    "/token",
    summary="Client-credentials grant: a JWT access token for the gateway (RFC 6749 §4.4)",
    response_model=TokenResponse,
    responses=_OAUTH_ERRORS,
    openapi_extra=_form_body("grant_type", "client_id", "client_secret", "scope"),
)
async def token(request: Request, oauth: OAuth) -> JSONResponse:
    try:
        form, client = await _authenticated(request, oauth)
        issued = await oauth.issue_token(client, form)
    except OAuthError as exc:
        return exc.response()
    return JSONResponse(issued.model_dump(), headers=NO_STORE)


@oauth2_router.post(
    "/revoke",
    summary="Revoke an access token issued to the calling client (RFC 7009)",
    responses={200: {"description": "Revoked, or nothing to revoke"}, **_OAUTH_ERRORS},
    openapi_extra=_form_body("token", "token_type_hint", "client_id", "client_secret"),
)
async def revoke_token(request: Request, oauth: OAuth, correlation_id: CorrelationId) -> Response:
    try:
        form, client = await _authenticated(request, oauth)
        if not form.get("token"):
            raise invalid_request("The token parameter is missing")
        # the client itself revokes: it is who acted
        await oauth.revoke_token(client, form["token"], Actor(client["_id"], correlation_id))
    except OAuthError as exc:
        return exc.response()
    return Response(status_code=status.HTTP_200_OK, headers=NO_STORE)
