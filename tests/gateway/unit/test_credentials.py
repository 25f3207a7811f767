"""Credential events in the routing table: signing keys, OAuth2 clients, revoked tokens,
regenerated keys; and local verification of access tokens against that table."""

import time
from datetime import UTC, datetime, timedelta

import pytest

from aigw.common.events import (
    ApplicationDeleted,
    KeyIssued,
    KeyRegenerated,
    KeyRevoked,
    OAuthClientCreated,
    OAuthClientRevoked,
    TokenRevoked,
)
from aigw.gateway.errors import Refused
from aigw.gateway.proxy.tokens import AccessTokens, looks_like_jwt
from aigw.gateway.routing.builder import apply
from aigw.gateway.routing.table import RoutingTable
from tests.support.access_tokens import AccessTokenSigner

CLIENT = OAuthClientCreated(client_id="c1", application_id="app1", key_type="SANDBOX")


def later(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def table_with(*events) -> RoutingTable:
    table = RoutingTable()
    for event in events:
        apply(table, event)
    return table


def test_jwt_shape_is_told_from_api_keys():
    assert looks_like_jwt("eyJhbGciOi.eyJzdWIi.c2ln")
    assert not looks_like_jwt("aigw_abc.def.ghi")
    assert not looks_like_jwt("eyJhbGciOi.eyJzdWIi")


def test_a_valid_token_takes_application_and_key_type_from_the_client():
    signer = AccessTokenSigner()
    table = table_with(signer.rotated(), CLIENT)
    token = signer.sign(signer.claims("c1", "app1", "PRODUCTION"))  # the claim is not trusted
    entry = AccessTokens().verify(table, token)
    assert (entry.application_id, entry.key_type) == ("app1", "SANDBOX")


def test_a_token_claiming_another_application_is_refused():
    signer = AccessTokenSigner()
    table = table_with(signer.rotated(), CLIENT)
    with pytest.raises(Refused):
        AccessTokens().verify(table, signer.sign(signer.claims("c1", "app2", "SANDBOX")))


def test_rotation_retires_the_previous_key_at_its_date_and_replays_the_same():
    first, second, third = AccessTokenSigner(), AccessTokenSigner(), AccessTokenSigner()
    events = [first.rotated(), second.rotated(first, grace=60), third.rotated(second, grace=-1)]
    table = table_with(*events)
    assert table.signing_keys[first.kid].valid_until == pytest.approx(time.time() + 60, abs=5)
    assert not table.signing_keys[second.kid].usable(time.time())
    assert table.signing_keys[third.kid].valid_until is None
    for event in events:  # a replay keeps the retirement dates
        apply(table, event)
    assert table.snapshot() == table_with(*events).snapshot()
    assert not table.signing_keys[second.kid].usable(time.time())
    apply(table, AccessTokenSigner().rotated())  # expired keys are forgotten on the next one
    assert second.kid not in table.signing_keys


def test_a_revoked_client_stays_revoked_on_replay_and_with_its_application():
    table = table_with(CLIENT, OAuthClientRevoked(client_id="c1"), CLIENT)
    assert "c1" not in table.oauth_clients
    table = table_with(CLIENT, ApplicationDeleted(application_id="app1"), CLIENT)
    assert "c1" not in table.oauth_clients


def test_revoked_jtis_are_dropped_after_their_expiry():
    table = table_with(
        TokenRevoked(jti="old", client_id="c1", expires_at=later(-60)),
        TokenRevoked(jti="live", client_id="c1", expires_at=later(600)),
    )
    assert set(table.revoked_jtis) == {"live"}
    table.revoked_jtis["stale"] = time.time() - 60
    apply(table, TokenRevoked(jti="x", client_id="c1", expires_at=later(600)))
    assert set(table.revoked_jtis) == {"live", "x"}


def test_a_regenerated_key_replaces_the_hash_but_not_a_revoked_key():
    issued = KeyIssued(key_id="k", key_hash="h1", application_id="a", key_type="PRODUCTION")
    regenerated = KeyRegenerated(key_id="k", key_hash="h2", expires_at=later(60))
    table = table_with(issued, regenerated)
    assert set(table.keys) == {"h2"}
    assert table.keys["h2"].application_id == "a"
    assert table.keys["h2"].expires_at is not None
    table = table_with(issued, KeyRevoked(key_id="k"), regenerated)
    assert table.keys == {}


def test_a_cached_token_is_refused_once_its_key_is_retired_or_its_client_revoked():
    signer, successor = AccessTokenSigner(), AccessTokenSigner()
    table = table_with(signer.rotated(), CLIENT)
    token = signer.sign(signer.claims("c1", "app1", "SANDBOX"))
    tokens = AccessTokens()
    tokens.verify(table, token)
    assert token in tokens.verified
    tokens.verify(table, token)  # from the cache
    apply(table, successor.rotated(signer, grace=-1))
    with pytest.raises(Refused, match="unknown key"):
        tokens.verify(table, token)
    fresh = successor.sign(successor.claims("c1", "app1", "SANDBOX"))
    tokens.verify(table, fresh)
    apply(table, OAuthClientRevoked(client_id="c1"))
    with pytest.raises(Refused, match="client"):
        tokens.verify(table, fresh)
