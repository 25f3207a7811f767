"""The audit trail's pure parts: what the fold writes and who owns what, who sees what, the
cursor, and the 503 while the projection is not caught up."""

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from aigw.common.auth import Principal
from aigw.common.errors import InvalidInput, Unavailable
from aigw.common.events import (
    ApiCreated,
    ApiDeleted,
    ApplicationCreated,
    EventPayload,
    KeyIssued,
    KeyRegenerated,
    OAuthClientCreated,
    PolicyUpdated,
    SubscriptionCreated,
    TokenRevoked,
    UserCreated,
    VendorRef,
    new_event,
)
from aigw.common.identity import emitter_of
from aigw.publisher.audit import paging
from aigw.publisher.audit.projection import Links, entity_of, fold
from aigw.publisher.audit.schemas import AuditQuery
from aigw.publisher.audit.service import AuditService
from aigw.publisher.audit.visibility import NOTHING, Viewer, visible


def _fold_all(*payloads: EventPayload, actor: str = "alice") -> list[dict[str, Any]]:
    links, docs = Links(), []
    for seq, payload in enumerate(payloads, start=1):
        source = emitter_of(payload.TYPE)
        assert source is not None
        envelope = new_event(payload, source=source, actor=actor)
        folded = fold(seq, envelope, envelope.model_dump_json(), links)
        links.known.update({link["_id"]: link["value"] for link in folded.links})
        docs.append(dict(folded.doc))
    return docs


def test_entities_are_the_types_second_token() -> None:
    assert entity_of("aigw.api.deployed") == "api"
    assert entity_of("aigw.oauthclient.revoked") == "oauthclient"


def test_keys_clients_and_tokens_belong_to_the_application_that_owns_them() -> None:
    app, key, client = "app-1", "key-1", "client-1"
    docs = _fold_all(
        ApplicationCreated(application_id=app, name="a", owner="alice"),
        SubscriptionCreated(subscription_id="s", application_id=app, api_id="x", policy="Gold"),
        KeyIssued(key_id=key, key_hash="0" * 64, application_id=app, key_type="SANDBOX"),
        KeyRegenerated(key_id=key, key_hash="1" * 64),
        OAuthClientCreated(client_id=client, application_id=app, key_type="PRODUCTION"),
        TokenRevoked(jti="t", client_id=client, expires_at=datetime.now(UTC)),
        actor="admin",  # the owner is the application's, not whoever acted
    )
    assert [(d["application_id"], d["owner"]) for d in docs] == [(app, "alice")] * 6


def test_a_key_of_an_application_never_announced_has_no_owner() -> None:
    [doc] = _fold_all(
        KeyIssued(key_id="k", key_hash="0" * 64, application_id="ghost", key_type="SANDBOX")
    )
    assert doc["application_id"] == "ghost"
    assert "owner" not in doc


def test_a_test_key_is_its_users() -> None:
    [doc] = _fold_all(
        KeyIssued(key_id="k", key_hash="0" * 64, application_id="testkey:bob", key_type="SANDBOX")
    )
    assert doc["owner"] == "bob"


def test_an_apis_events_name_its_creator_and_nothing_else_an_owner() -> None:
    api = str(uuid.uuid4())
    created = ApiCreated(
        api_id=api,
        name="n",
        context="c",
        version="1",
        vendor=VendorRef(name="OpenAI", version="v1"),
        lifecycle_status="CREATED",
    )
    docs = _fold_all(created, ApiDeleted(api_id=api), PolicyUpdated(name="Gold"), actor="paula")
    assert [d.get("api_owner") for d in docs] == ["paula", "paula", None]
    assert not any("owner" in d for d in docs)
    assert [d["entity"] for d in docs] == ["api", "api", "policy"]


def test_who_sees_what() -> None:
    def principal(name: str, *roles: str) -> Principal:
        return Principal(name, frozenset(roles))

    assert visible(Viewer(principal("root", "admin"))) == {}
    assert visible(Viewer(principal("alice", "subscriber"))) == {"owner": "alice"}
    assert visible(Viewer(principal("nobody"))) == NOTHING
    paula = visible(Viewer(principal("paula", "publisher"), ("api-1",)))
    assert paula == {
        "$or": [
            {"entity": {"$in": ["vendor", "policy"]}},
            {"entity": "api", "$or": [{"api_owner": "paula"}, {"subject": {"$in": ["api-1"]}}]},
        ]
    }


def test_cursors_round_trip_and_others_are_refused() -> None:
    assert paging.decode(paging.encode(42)) == 42
    for bad in ("", "x", paging.encode(1)[:-1] + "!", "YTE6LTE", "Yjo1"):
        with pytest.raises(InvalidInput):
            paging.decode(bad)


class _NotCaughtUp:
    caught_up = False


async def test_the_trail_answers_503_until_it_has_caught_up() -> None:
    service = AuditService(None, None, _NotCaughtUp())  # type: ignore[arg-type]
    admin = Principal("root", frozenset({"admin"}))
    with pytest.raises(Unavailable):
        await service.page(admin, AuditQuery(), None, 10)
    with pytest.raises(Unavailable):
        await service.export(admin, AuditQuery())


def test_user_events_are_nobodys_but_the_admins() -> None:
    [doc] = _fold_all(UserCreated(username="alice", roles=["subscriber"]))
    assert "owner" not in doc
    assert "api_owner" not in doc
