"""The attacks on the event bus from issue 9, against a real gateway on the authenticated NATS.

NATS refuses a stranger's connection and a service's publish on another's subject
(tests/security/test_nats_permissions.py). These tests take the next step: an attacker who
holds a NATS connection that may publish the subject (a stolen connection, a server
misconfigured without auth) but not the emitter's event key. Whatever they publish is
dropped before it reaches the routing table, and counted.
"""

import json
import logging
import time
import uuid

import pytest

from aigw.common.crypto import sha256_hex
from aigw.common.event_trust import SIGNER_HEADER, EventSigner
from aigw.common.events import KeyIssued, QuotaLimit
from aigw.common.identity import QUOTA_SYNC_SUBJECT, Identity
from aigw.common.messaging import signed_message, stream_for
from aigw.gateway.routing.plans import window_start
from tests.support.bus import connected, emitted, publish
from tests.support.gateway import (
    CHAT,
    PATH,
    Deployed,
    Events,
    RunningGateway,
    bearer,
    deploy_event,
    set_plan,
)
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


def forged_key(d: Deployed) -> tuple[str, KeyIssued]:
    key = f"forged-{uuid.uuid4().hex}"
    payload = KeyIssued(
        key_id=f"forged-{d.unique}",
        key_hash=sha256_hex(key),
        application_id=d.app_id,
        key_type="PRODUCTION",
    )
    return key, payload


async def call(gateway: RunningGateway, d: Deployed, key: str) -> int:
    async with gateway.client() as client:
        response = await client.post(f"/{d.prefix}{PATH}", json=CHAT, headers=bearer(key))
    return response.status_code


async def publish_raw(identity: str, subject: str, body: bytes, headers: dict[str, str]) -> None:
    async with connected(identity) as nc:
        await nc.jetstream().publish(subject, body, stream=stream_for(subject), headers=headers)


async def wait_rejected(gateway: RunningGateway, reason: str, before: int) -> None:
    verifier = gateway.app.follower.verifier
    await gateway.wait_until(lambda: verifier.rejected[reason] > before)


async def test_an_unsigned_key_issued_does_not_make_a_key_work(gateway, deployed_api, events):
    """The issue's first attack: a forged aigw.key.issued with the SHA-256 of an invented key
    made that key work (401 -> 200). Published on keymanager's own connection, unsigned."""
    d = deployed_api
    key, payload = forged_key(d)
    event = emitted(payload)
    body = event.model_dump_json().encode()
    before = gateway.app.follower.verifier.rejected["unsigned"]
    await publish_raw("keymanager", event.type, body, {"Nats-Msg-Id": event.id})
    await wait_rejected(gateway, "unsigned", before)
    assert await call(gateway, d, key) == 401

    await events.publish(payload)  # the same event, signed by keymanager, is folded
    await gateway.wait_until(lambda: sha256_hex(key) in gateway.app.state.table.keys)
    assert await call(gateway, d, key) == 200


async def test_a_key_issued_signed_with_another_services_key_is_dropped(
    gateway, deployed_api, infra
):
    d = deployed_api
    key, payload = forged_key(d)
    event = emitted(payload)
    body = event.model_dump_json().encode()
    headers = {"Nats-Msg-Id": event.id, **infra.signer("publisher").headers(event.type, body)}
    headers[SIGNER_HEADER] = "keymanager"  # claims keymanager, signed with publisher's key
    before = gateway.app.follower.verifier.rejected["bad_signature"]
    await publish_raw("keymanager", event.type, body, headers)
    await wait_rejected(gateway, "bad_signature", before)
    assert await call(gateway, d, key) == 401


async def test_a_key_signed_by_an_unknown_identity_is_dropped(gateway, deployed_api):
    d = deployed_api
    key, payload = forged_key(d)
    event = emitted(payload)
    intruder = Identity.generate("keymanager")  # a fresh key that nobody trusts
    body, headers = signed_message(event, EventSigner(intruder))
    before = gateway.app.follower.verifier.rejected["bad_signature"]
    await publish_raw("keymanager", event.type, body, headers)
    await wait_rejected(gateway, "bad_signature", before)
    assert await call(gateway, d, key) == 401


async def test_a_revision_jump_cannot_pin_the_route(
    gateway, deployed_api, events: Events, mock_provider
):
    """The issue's third attack: a replayed aigw.api.deployed with the revision raised by 100
    and the production URL changed pinned the route, so the real redeploy was ignored."""
    d = deployed_api
    listener = "http://127.0.0.1:9/attacker"
    jump = deploy_event(
        events, d.api_id, d.prefix, mock_provider, d.unique, revision=101, production_url=listener
    )
    await events.publish(jump)
    real = deploy_event(events, d.api_id, d.prefix, mock_provider, d.unique, revision=2)
    await events.publish(real)
    await gateway.wait_route(d.prefix, revision=2)
    route = gateway.app.state.table.routes[d.prefix]
    assert route.revision == 2
    assert route.production is not None
    assert route.production.url != listener
    assert await call(gateway, d, d.production_key) == 200


async def test_forged_quota_counts_do_not_lift_a_quota(
    gateway, deployed_api, events, infra, caplog
):
    """The issue's fourth attack: negative counts on the quota-exchange subject lifted a
    3-a-minute quota to 10 calls. Neither unsigned nor signed-but-absurd counts are taken."""
    d = deployed_api
    await set_plan(events, gateway, d, QuotaLimit(unit="day", requests=3))
    assert [await call(gateway, d, d.production_key) for _ in range(3)] == [200, 200, 200]

    start = window_start(time.time(), "day")
    counts = [[d.app_id, d.api_id, "day", start, -1000, 0, 0, 0]]
    body = json.dumps({"o": "intruder", "c": counts}).encode()
    signed = infra.signer("gateway").headers(QUOTA_SYNC_SUBJECT, body)
    caplog.set_level(logging.WARNING, logger="aigw.gateway.quota.sync")
    async with connected("gateway") as nc:
        for _ in range(10):
            await nc.publish(QUOTA_SYNC_SUBJECT, body)  # unsigned
            await nc.publish(QUOTA_SYNC_SUBJECT, body, headers=signed)  # signed, negative
        await nc.flush()

    def dropped() -> tuple[int, int]:
        said = [record.getMessage() for record in caplog.records]
        return sum("untrusted" in m for m in said), sum("malformed" in m for m in said)

    # every one of them reached the gateway and was dropped (untrusted, implausible)
    await eventually(dropped, (10, 10), what="the 20 forged quota messages dropped")

    book = gateway.app.quota.book
    assert not [key for key in book.peer_counts if key[0] == "intruder"]
    assert await call(gateway, d, d.production_key) == 429


async def test_a_forged_event_is_counted_on_the_metrics_endpoint(gateway, deployed_api):
    d = deployed_api
    _, payload = forged_key(d)
    event = emitted(payload)
    await publish_raw("keymanager", event.type, event.model_dump_json().encode(), {})
    await wait_rejected(gateway, "unsigned", 0)
    async with gateway.client() as client:
        metrics = (await client.get("/metrics")).text
    assert 'aigw_events_rejected_total{reason="unsigned"}' in metrics


async def test_the_real_emitter_still_gets_through(gateway, deployed_api):
    """The positive control for the tests above: a key issued as keymanager issues it."""
    d = deployed_api
    key, payload = forged_key(d)
    await publish(emitted(payload))
    await gateway.wait_until(lambda: sha256_hex(key) in gateway.app.state.table.keys)
    assert await call(gateway, d, key) == 200
