"""OAuth2 use cases: client credentials (WSO2's "consumer key and secret") created, listed
and revoked; the client-credentials grant (RFC 6749 §4.4) and token revocation (RFC 7009).
Each change stages its event in the same write (transactional outbox), then tries to publish
it at once."""

import hmac
import secrets
from datetime import UTC, datetime

from aigw.common.actor import Actor
from aigw.common.auth import STALE_TOKEN
from aigw.common.crypto import sha256_hex
from aigw.common.errors import Conflict, NotFound, Unauthorized
from aigw.common.events import OAuthClientCreated, OAuthClientRevoked, TokenRevoked
from aigw.common.ids import utcnow, utcnow_ms
from aigw.common.outbox import Outbox
from aigw.keymanager.oauth.protocol import (
    ClientCredentials,
    OAuthError,
    invalid_client,
    invalid_request,
)
from aigw.keymanager.oauth.repository import (
    CLIENTS,
    REVOKED_TOKENS,
    ClientDoc,
    ClientRepository,
    RevokedTokenDoc,
    RevokedTokenRepository,
    active_slot,
)
from aigw.keymanager.oauth.schemas import (
    ClientList,
    ClientSummary,
    CreateClientRequest,
    CreatedClient,
)
from aigw.keymanager.oauth.tokens import mint_access_token, read_access_token
from aigw.keymanager.signing.service import SigningKeyService
from aigw.keymanager.users.offboarding import Offboarding
from aigw.keymanager.users.schemas import TokenResponse

SOURCE = "keymanager"
CLIENT_CREDENTIALS = "client_credentials"


def may_see(actor: Actor, client: ClientDoc) -> bool:
    """A client is its owner's; an admin sees and revokes everyone's."""
    return actor.admin or client["owner"] == actor.subject


class OAuthService:
    def __init__(
        self,
        clients: ClientRepository,
        revoked: RevokedTokenRepository,
        outbox: Outbox,
        signing: SigningKeyService,
        offboarding: Offboarding,
        token_ttl_seconds: int,
    ) -> None:
        self._clients = clients
        self._revoked = revoked
        self._outbox = outbox
        self._signing = signing
        self._offboarding = offboarding
        self._token_ttl = token_ttl_seconds

    # --- client credentials ----------------------------------------------------------------

    async def create_client(self, request: CreateClientRequest, actor: Actor) -> CreatedClient:
        """A second live client for the same application and key type is a 409: the secret
        cannot be shown again, so the caller revokes the old client and creates a new one.
        A client whose owner was deleted while this request was under way is revoked at once,
        and the request answered 401."""
        secret = secrets.token_urlsafe(32)
        doc = _new_client_doc(request, secret, actor.subject)
        payload = OAuthClientCreated(
            client_id=doc["_id"], application_id=request.application_id, key_type=request.key_type
        )
        if not await self._clients.insert(doc, actor.event(payload, SOURCE)):
            raise Conflict(
                f"Application {request.application_id!r} already has {request.key_type} "
                "client credentials; revoke them first"
            )
        await self._outbox.try_flush(CLIENTS, doc["_id"])
        if await self._offboarding.revoke_if_owner_gone(actor, client_id=doc["_id"]):
            raise Unauthorized(STALE_TOKEN)
        return CreatedClient(
            client_id=doc["_id"],
            client_secret=secret,
            application_id=doc["application_id"],
            key_type=doc["key_type"],
            created_time=doc["created_time"],
        )

    async def list_clients(self, actor: Actor, application_id: str | None) -> ClientList:
        owner = None if actor.admin else actor.subject
        docs = await self._clients.find_many(owner, application_id)
        return ClientList.of([_summary(doc) for doc in docs])

    async def revoke_client(self, client_id: str, actor: Actor) -> None:
        """Idempotent: revoking a revoked client is a no-op without a second event."""
        doc = await self._clients.find(client_id)
        if doc is None or not may_see(actor, doc):
            raise NotFound(f"OAuth client {client_id!r} does not exist")  # others' stay hidden
        event = actor.event(OAuthClientRevoked(client_id=client_id), SOURCE)
        if await self._clients.mark_revoked(client_id, event):
            await self._outbox.try_flush(CLIENTS, client_id)

    # --- the OAuth2 protocol ---------------------------------------------------------------

    async def authenticate(self, credentials: ClientCredentials) -> ClientDoc:
        """The live client these credentials belong to; invalid_client otherwise."""
        client = await self._clients.find(credentials.client_id)
        presented = sha256_hex(credentials.client_secret)  # hashed either way: same work
        stored = client["secret_hash"] if client else sha256_hex("")
        if not hmac.compare_digest(presented, stored) or client is None or client.get("revoked"):
            raise invalid_client()
        return client

    async def issue_token(self, client: ClientDoc, form: dict[str, str]) -> TokenResponse:
        grant_type = form.get("grant_type")
        if not grant_type:
            raise invalid_request("The grant_type parameter is missing")
        if grant_type != CLIENT_CREDENTIALS:
            raise OAuthError("unsupported_grant_type", f"Only {CLIENT_CREDENTIALS} is supported")
        keys = await self._signing.current()
        token = mint_access_token(keys.active, client, self._token_ttl)
        return TokenResponse(access_token=token, expires_in=self._token_ttl)

    async def revoke_token(self, client: ClientDoc, token: str, actor: Actor) -> None:
        """RFC 7009 §2.2: a token that is not a live access token of ours (unknown, expired) is
        answered 200 too, with nothing to revoke; one issued to another client is refused.
        `actor` is the client itself."""
        claims = read_access_token(await self._signing.current(), token)
        if claims is None:
            return
        if claims["client_id"] != client["_id"]:
            raise invalid_request("The token was not issued to this client")
        payload = TokenRevoked(
            jti=claims["jti"],
            client_id=client["_id"],
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        )
        doc: RevokedTokenDoc = {
            "_id": payload.jti,
            "client_id": client["_id"],
            "expires_at": payload.expires_at,
            "revoked_time": utcnow(),
        }
        if await self._revoked.insert(doc, actor.event(payload, SOURCE)):
            await self._outbox.try_flush(REVOKED_TOKENS, payload.jti)


def _new_client_doc(request: CreateClientRequest, secret: str, owner: str) -> ClientDoc:
    return {
        "_id": secrets.token_urlsafe(18),
        "secret_hash": sha256_hex(secret),
        "application_id": request.application_id,
        "key_type": request.key_type,
        "slot": active_slot(request.application_id, request.key_type),
        "created_time": utcnow_ms(),
        "revoked": False,
        "owner": owner,
    }


def _summary(doc: ClientDoc) -> ClientSummary:
    return ClientSummary(
        client_id=doc["_id"],
        revoked=bool(doc.get("revoked")),
        application_id=doc["application_id"],
        key_type=doc["key_type"],
        created_time=doc["created_time"],
    )
