"""The NATS server itself enforces who may connect and what each identity may publish: the
same configuration `make run` starts nats-server with (aigw.devtools.nats_auth)."""

import contextlib

import nats
import nats.errors
import pytest
from nats.js.api import ConsumerConfig, DeliverPolicy, StreamConfig

from aigw.common.events import UserCreated, new_event
from aigw.common.identity import PUBLISHES, SERVICES, Identity, emitter_of
from aigw.common.messaging import STREAM_NAME, STREAM_SUBJECTS, USAGE_STREAM_NAME
from tests.support.bus import connected, publish_signed
from tests.support.infra import Infra, session_infra

pytestmark = pytest.mark.integration

# one subject of each owner, and what every other identity must not publish
SAMPLES = [
    "aigw.api.deployed",
    "aigw.policy.updated",
    "aigw.vendor.changed",
    "aigw.subscription.created",
    "aigw.application.deleted",
    "aigw.key.issued",
    "aigw.signingkey.rotated",
    "aigw.oauthclient.created",
    "aigw.token.revoked",
    "aigw.user.created",
    "aigw.usage.recorded",
    "aigwq.usage",
    "$KV.AIGW_CACHE.x.probe",  # the gateways' response cache: only they write it
]
FORBIDDEN = [
    (identity, subject)
    for identity in (*SERVICES, "provisioner")
    for subject in SAMPLES
    if emitter_of(subject) != identity
]


async def test_a_client_without_credentials_is_refused(infra: Infra):
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await nats.connect(
            infra.nats_url, connect_timeout=2, allow_reconnect=False, max_reconnect_attempts=0
        )


async def test_an_nkey_the_server_does_not_know_is_refused(infra: Infra):
    stranger = Identity.generate("publisher")
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await nats.connect(
            infra.nats_url,
            nkeys_seed_str=stranger.seed,
            connect_timeout=2,
            allow_reconnect=False,
            max_reconnect_attempts=0,
        )


async def _publish_outcome(identity: str, subject: str) -> str:
    """What the server does with a core publish: 'ok' or the violation it reports."""
    errors: list[Exception] = []

    async def on_error(exc: Exception) -> None:
        errors.append(exc)

    infra = session_infra()
    nc = await nats.connect(infra.nats_url, error_cb=on_error, **infra.nats_options(identity))
    try:
        await nc.publish(subject, b"{}")
        await nc.flush(timeout=2)
        with contextlib.suppress(nats.errors.TimeoutError):
            await nc.flush(timeout=0.5)  # the violation arrives asynchronously
    finally:
        await nc.close()
    return "; ".join(str(e) for e in errors) or "ok"


@pytest.mark.parametrize(("identity", "subject"), FORBIDDEN)
async def test_an_identity_may_not_publish_another_services_subject(infra, identity, subject):
    outcome = await _publish_outcome(identity, subject)
    assert "permissions violation for publish" in outcome


@pytest.mark.parametrize("identity", SERVICES)
async def test_each_service_may_publish_its_own_subjects(infra, identity):
    for pattern in PUBLISHES[identity]:
        subject = pattern.replace(">", "probe")
        assert await _publish_outcome(identity, subject) == "ok"


@pytest.mark.parametrize("identity", SERVICES)
async def test_no_service_may_reconfigure_or_purge_the_streams(infra, identity):
    """A compromised service cannot wipe the trail: stream admin is the provisioner's."""
    async with connected(identity) as nc:
        js = nc.jetstream(timeout=2)
        attempts = [
            js.update_stream(StreamConfig(name=STREAM_NAME, subjects=STREAM_SUBJECTS, max_msgs=1)),
            js.purge_stream(STREAM_NAME),
            js.delete_stream(USAGE_STREAM_NAME),
            js.add_stream(StreamConfig(name="EVIL", subjects=["evil.>"])),
        ]
        for attempt in attempts:
            with pytest.raises((nats.errors.TimeoutError, nats.errors.Error)):
                await attempt
    async with connected() as nc:  # both streams are still there, as provisioned
        js = nc.jetstream()
        assert (await js.stream_info(STREAM_NAME)).config.subjects == STREAM_SUBJECTS
        assert (await js.stream_info(USAGE_STREAM_NAME)).config.max_age


async def test_a_service_may_not_read_another_services_replies(infra):
    outcome: list[str] = []

    async def on_error(exc: Exception) -> None:
        outcome.append(str(exc))

    nc = await nats.connect(infra.nats_url, error_cb=on_error, **infra.nats_options("gateway"))
    try:
        await nc.subscribe("_INBOX_keymanager.>")
        with contextlib.suppress(nats.errors.TimeoutError):
            await nc.flush(timeout=1)
            await nc.flush(timeout=0.5)
    finally:
        await nc.close()
    assert any("permissions violation for subscription" in o for o in outcome)


@pytest.mark.parametrize(
    ("identity", "subject"),
    [
        # the internet-facing gateway may not drive the portals' durable consumers...
        ("gateway", "$JS.API.CONSUMER.MSG.NEXT.AIGW_EVENTS.devportal-catalog-aigw_devportal"),
        ("gateway", "$JS.ACK.AIGW_EVENTS.devportal-catalog-aigw_devportal.1.1.1.1.1"),
        ("gateway", "$JS.API.CONSUMER.DELETE.AIGW_EVENTS.devportal-catalog-aigw_devportal"),
        ("gateway", "$JS.API.CONSUMER.DURABLE.CREATE.AIGW_EVENTS.mine"),
        ("gateway", "$JS.API.CONSUMER.CREATE.AIGW_USAGE"),
        # ...and publisher reads the events stream (account standing, the audit trail) only
        # through ordered consumers of its own: no durable there, nor devportal's
        ("publisher", "$JS.API.CONSUMER.MSG.NEXT.AIGW_EVENTS.devportal-catalog-aigw_devportal"),
        ("publisher", "$JS.API.CONSUMER.DURABLE.CREATE.AIGW_EVENTS.audit"),
        ("publisher", "$JS.ACK.AIGW_EVENTS.devportal-catalog-aigw_devportal.1.1.1.1.1"),
        ("keymanager", "$JS.API.CONSUMER.CREATE.AIGW_EVENTS"),
        # nobody but the provisioner reads single messages or deletes them
        ("devportal", "$JS.API.STREAM.MSG.GET.AIGW_EVENTS"),
        ("devportal", "$JS.API.STREAM.MSG.DELETE.AIGW_EVENTS"),
        ("devportal", "$JS.API.CONSUMER.DELETE.AIGW_USAGE.publisher-usage-aigw_publisher"),
        # the response cache's bucket: read (watched) by gateways only, purged by nobody
        ("publisher", "$JS.API.CONSUMER.CREATE.KV_AIGW_CACHE"),
        ("keymanager", "$JS.API.STREAM.INFO.KV_AIGW_CACHE"),
        ("devportal", "$JS.API.DIRECT.GET.KV_AIGW_CACHE.$KV.AIGW_CACHE.x.probe"),
        ("devportal", "$JS.API.STREAM.MSG.GET.KV_AIGW_CACHE"),
        ("gateway", "$JS.API.STREAM.PURGE.KV_AIGW_CACHE"),
        ("gateway", "$JS.API.CONSUMER.DURABLE.CREATE.KV_AIGW_CACHE.mine"),
    ],
)
async def test_an_identity_may_not_touch_consumers_it_does_not_own(infra, identity, subject):
    outcome = await _publish_outcome(identity, subject)
    assert "permissions violation for publish" in outcome


@pytest.mark.parametrize("identity", ["publisher", "devportal"])
async def test_the_portals_may_replay_user_events_for_account_standing(infra, identity):
    """aigw.common.standing: an ordered consumer on the events stream, nothing more."""
    event = new_event(
        UserCreated(username=f"probe-{identity}", roles=[]), source="keymanager", actor="t"
    )
    async with connected("keymanager") as keymanager:
        await publish_signed(keymanager, event)
    async with connected(identity) as nc:
        js = nc.jetstream(timeout=2)
        sub = await js.subscribe(
            "aigw.user.>",
            stream=STREAM_NAME,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.ALL,
        )
        seen = []
        while event.id not in seen:  # other tests put user subjects on the stream too
            msg = await sub.next_msg(timeout=5)
            seen.append(msg.headers.get("Nats-Msg-Id") if msg.headers else None)
        await sub.unsubscribe()


async def test_publisher_may_fold_the_whole_events_stream_for_the_audit_trail(infra):
    """aigw.publisher.audit: an ordered consumer over every subject, from a stream position."""
    event = new_event(UserCreated(username="probe-audit", roles=[]), source="keymanager", actor="t")
    async with connected("keymanager") as keymanager:
        await publish_signed(keymanager, event)
    async with connected("publisher") as nc:
        js = nc.jetstream(timeout=2)
        last = (await js.stream_info(STREAM_NAME)).state.last_seq
        sub = await js.subscribe(
            "aigw.>",
            stream=STREAM_NAME,
            ordered_consumer=True,
            config=ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=last
            ),
        )
        msg = await sub.next_msg(timeout=5)
        assert msg.metadata.sequence.stream == last
        await sub.unsubscribe()
