"""The client-credentials grant (RFC 6749 §4.4) and token revocation (RFC 7009)."""

import hmac
from datetime import UTC, datetime
from typing import Any

from aigw.common.crypto import sha256_hex
from aigw.common.events import TokenRevoked, new_event
from aigw.common.ids import utcnow
from aigw.common.outbox import Outbox
from aigw.keymanager.oauth.protocol import (
    ClientCredentials,
    OAuthError,
    invalid_client,
    invalid_request,
)
from aigw.keymanager.oauth.repository import (
    REVOKED_TOKENS,
    ClientRepository,
    RevokedTokenRepository,
)
from aigw.keymanager.oauth.tokens import mint_access_token, read_access_token
from aigw.keymanager.signing.keys import KeyRing
from aigw.keymanager.users.schemas import TokenResponse

SOURCE = "keymanager"
CLIENT_CREDENTIALS = "client_credentials"


async def authenticate(clients: ClientRepository, credentials: ClientCredentials) -> dict[str, Any]:
    """The live client these credentials belong to; invalid_client otherwise."""
    client = await clients.find(credentials.client_id)
    presented = sha256_hex(credentials.client_secret)  # hashed either way: same work per call
    stored = client["secret_hash"] if client else sha256_hex("")
    if not hmac.compare_digest(presented, stored) or client is None or client.get("revoked"):
        raise invalid_client()
    return client


def issue_token(
    keys: KeyRing, client: dict[str, Any], form: dict[str, str], ttl_seconds: int
) -> TokenResponse:
    grant_type = form.get("grant_type")
    if not grant_type:
        raise invalid_request("The grant_type parameter is missing")
    if grant_type != CLIENT_CREDENTIALS:
        raise OAuthError("unsupported_grant_type", f"Only {CLIENT_CREDENTIALS} is supported")
    token = mint_access_token(keys.active, client, ttl_seconds)
    return TokenResponse(access_token=token, expires_in=ttl_seconds)


async def revoke_token(
    keys: KeyRing,
    revoked: RevokedTokenRepository,
    outbox: Outbox,
    client: dict[str, Any],
    token: str,
    correlation_id: str,
) -> None:
    """RFC 7009 §2.2: a token that is not a live access token of ours (unknown, expired) is
    answered 200 too, with nothing to revoke; one issued to another client is refused."""
    claims = read_access_token(keys, token)
    if claims is None:
        return
    if claims["client_id"] != client["_id"]:
        raise invalid_request("The token was not issued to this client")
    payload = TokenRevoked(
        jti=claims["jti"],
        client_id=client["_id"],
        expires_at=datetime.fromtimestamp(claims["exp"], UTC),
    )
    event = new_event(payload, source=SOURCE, actor=client["_id"], correlation_id=correlation_id)
    doc = {"_id": payload.jti, "client_id": client["_id"], "expires_at": payload.expires_at}
    if await revoked.insert({**doc, "revoked_time": utcnow()}, event):
        await outbox.try_flush(REVOKED_TOKENS, payload.jti)
