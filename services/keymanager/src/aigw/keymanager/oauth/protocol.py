"""The OAuth2 wire protocol of the token and revocation endpoints: form bodies, client
authentication (RFC 6749 §2.3.1) and error responses (RFC 6749 §5.2).

These endpoints speak OAuth2, not the management error contract: errors are
`{"error", "error_description"}`; `invalid_client` is a 401 with `WWW-Authenticate: Basic`,
everything else a 400. Responses are never cached (`Cache-Control: no-store`)."""

import base64
import binascii
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote_plus

from fastapi import Request
from fastapi.responses import JSONResponse

FORM = "application/x-www-form-urlencoded"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
MAX_PARAM = 4096


class OAuthError(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description

    def response(self) -> JSONResponse:
        headers = dict(NO_STORE)
        status = 400
        if self.error == "invalid_client":
            status = 401
            headers["WWW-Authenticate"] = 'Basic realm="aigw"'
        body = {"error": self.error, "error_description": self.description}
        return JSONResponse(body, status_code=status, headers=headers)


def invalid_request(description: str) -> OAuthError:
    return OAuthError("invalid_request", description)


def invalid_client() -> OAuthError:
    # one message for every failure: unknown client, wrong secret or revoked client
    return OAuthError("invalid_client", "Client authentication failed")


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    client_id: str
    client_secret: str


async def read_form(request: Request) -> dict[str, str]:
    """The form parameters; a parameter sent twice is an error (RFC 6749 §3.2)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != FORM:
        raise invalid_request(f"The request body must be {FORM}")
    try:
        parsed = parse_qs((await request.body()).decode(), strict_parsing=False)
    except UnicodeDecodeError as exc:
        raise invalid_request("The request body is not UTF-8") from exc
    if any(len(values) > 1 for values in parsed.values()):
        raise invalid_request("A parameter is repeated")
    form = {name: values[0] for name, values in parsed.items()}
    if any(len(value) > MAX_PARAM for value in form.values()):
        raise invalid_request("A parameter is too long")
    return form


def client_credentials(request: Request, form: dict[str, Any]) -> ClientCredentials:
    """HTTP Basic (preferred by RFC 6749) or `client_id`/`client_secret` in the body, never
    both (RFC 6749 §2.3: one authentication method per request)."""
    in_body = "client_id" in form or "client_secret" in form
    header = request.headers.get("authorization")
    if header is not None:
        if in_body:
            raise invalid_request("Use one client authentication method, not two")
        return _basic(header)
    if not (form.get("client_id") and form.get("client_secret")):
        raise invalid_client()
    return ClientCredentials(form["client_id"], form["client_secret"])


def _basic(header: str) -> ClientCredentials:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        raise invalid_client()
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise invalid_client() from exc
    client_id, colon, secret = decoded.partition(":")
    if not colon or not client_id or not secret:
        raise invalid_client()
    # RFC 6749 §2.3.1: both are form-urlencoded before they are joined and base64-encoded
    return ClientCredentials(unquote_plus(client_id), unquote_plus(secret))
