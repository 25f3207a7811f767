"""Credential events applied to the routing table: regenerated API keys, token signing keys,
OAuth2 clients and revoked access tokens.

Like the rest of the table these are idempotent: a revoked client stays revoked if its creation
is replayed, and a retired signing key keeps its retirement date if its rotation is replayed.
"""

import logging
import time
from dataclasses import replace

import jwt

from aigw.common.auth import ALGORITHMS
from aigw.common.events import (
    KeyRegenerated,
    OAuthClientCreated,
    SigningKeyRotated,
    TokenRevoked,
)
from aigw.gateway.routing.table import CLOCK_LEEWAY_SECONDS, OAuthClient, RoutingTable, SigningKey

log = logging.getLogger(__name__)


def key_regenerated(table: RoutingTable, event: KeyRegenerated) -> None:
    """The key keeps its id, application and type; only the new hash opens the gateway."""
    old_hash = table.key_hashes.get(event.key_id)
    if old_hash is None or event.key_id in table.revoked_keys:
        return
    entry = table.pop_key(old_hash)
    if entry is None:
        return
    expires_at = event.expires_at.timestamp() if event.expires_at else None
    table.key_hashes[event.key_id] = event.key_hash
    table.put_key(event.key_hash, replace(entry, expires_at=expires_at))


def signing_key_rotated(table: RoutingTable, event: SigningKeyRotated) -> None:
    """Trust the new key; the previous one only until `previous_valid_until` (not at all if
    the event gives no date). Keys whose date has passed are forgotten."""
    now = time.time()
    _forget_retired_keys(table, now)
    if event.kid not in table.signing_keys:
        try:
            key = jwt.PyJWK(event.jwk, algorithm=ALGORITHMS[0])
        except jwt.PyJWTError as exc:
            log.error("ignoring signing key %s: not a usable Ed25519 JWK (%s)", event.kid, exc)
            return
        table.signing_keys[event.kid] = SigningKey(key)
    previous = table.signing_keys.get(event.previous_kid or "")
    if previous is not None:
        until = event.previous_valid_until.timestamp() if event.previous_valid_until else now
        if previous.valid_until is None or until < previous.valid_until:
            table.signing_keys[event.previous_kid or ""] = replace(previous, valid_until=until)


def _forget_retired_keys(table: RoutingTable, now: float) -> None:
    for kid in [kid for kid, key in table.signing_keys.items() if not key.usable(now)]:
        del table.signing_keys[kid]


def oauth_client_created(table: RoutingTable, event: OAuthClientCreated) -> None:
    if event.client_id in table.revoked_clients:
        return
    if event.application_id in table.deleted_applications:
        return
    table.put_client(OAuthClient(event.client_id, event.application_id, event.key_type))


def oauth_client_revoked(table: RoutingTable, client_id: str) -> None:
    table.revoked_clients.add(client_id)
    table.pop_client(client_id)


def application_clients_revoked(table: RoutingTable, application_id: str) -> None:
    for client_id in list(table.application_clients.get(application_id, ())):
        oauth_client_revoked(table, client_id)


def token_revoked(table: RoutingTable, event: TokenRevoked) -> None:
    """Remember the jti until its token would have expired anyway (leeway included); then drop
    it (and any other expired entry), so the set does not grow without bound."""
    now = time.time() - CLOCK_LEEWAY_SECONDS
    for jti in [jti for jti, expiry in table.revoked_jtis.items() if expiry <= now]:
        del table.revoked_jtis[jti]
    expires_at = event.expires_at.timestamp()
    if expires_at > now:
        table.revoked_jtis[event.jti] = expires_at
