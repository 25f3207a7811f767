"""Upgrading a deployment from before signed events: the events already in the stream were
published unsigned (NATS had no authorization then). Provisioning marks where they end, the
gateway still folds them, and every event after the mark must be signed."""

import json
from pathlib import Path

import nats
import pytest
from nats.js.api import StorageType, StreamConfig

from aigw.common.crypto import sha256_hex
from aigw.common.events import EventPayload, KeyIssued, SubscriptionCreated
from aigw.common.messaging import LEGACY_SUBJECTS, STREAM_NAME, UNSIGNED_THROUGH
from aigw.devtools import nats_auth
from aigw.devtools.processes import ManagedProcess, free_port, nats_server
from aigw.gateway.settings import Settings
from tests.support.bus import emitted
from tests.support.gateway import CHAT, PATH, Events, bearer, deploy_event, run_gateway
from tests.support.infra import Infra

pytestmark = pytest.mark.integration


class UpgradedNats:
    """One NATS store, started first as the old deployment ran it, then as it runs now."""

    def __init__(self, infra: Infra, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.credentials = infra.credentials

    def start(self, config: Path) -> ManagedProcess:
        server = nats_server(self.port, self.workdir / "js", config, self.workdir / "nats.log")
        server.start()
        server.wait_ready()
        return server


@pytest.fixture
def legacy(infra: Infra, tmp_path: Path) -> UpgradedNats:
    return UpgradedNats(infra, tmp_path)


async def _publish_unsigned(url: str, *payloads: EventPayload) -> None:
    nc = await nats.connect(url)  # the old servers had no authorization
    try:
        js = nc.jetstream()
        for payload in payloads:
            event = emitted(payload)
            await js.publish(event.type, event.model_dump_json().encode())
    finally:
        await nc.close()


async def test_events_from_before_signing_are_folded_and_later_unsigned_ones_are_not(
    legacy: UpgradedNats, events: Events, gateway_settings: Settings, mock_provider: str
) -> None:
    unique = "legacy1"
    api_id, prefix, app_id = f"api-{unique}", f"legacy{unique}/1.0", f"app-{unique}"
    old_key, late_key = "old-key-from-before", "late-unsigned-key"

    # the old deployment: no authorization, one stream on aigw.>, unsigned events
    open_config = legacy.workdir / "open.conf"
    open_config.write_text("# no authorization: how NATS ran before signed events\n")
    server = legacy.start(open_config)
    nc = await nats.connect(legacy.url)
    await nc.jetstream().add_stream(
        StreamConfig(name=STREAM_NAME, subjects=LEGACY_SUBJECTS, storage=StorageType.FILE)
    )
    await nc.close()
    issued = KeyIssued(
        key_id="k-old", key_hash=sha256_hex(old_key), application_id=app_id, key_type="PRODUCTION"
    )
    subscribed = SubscriptionCreated(
        subscription_id=f"sub-{unique}", application_id=app_id, api_id=api_id, policy="Unlimited"
    )
    deployed = deploy_event(events, api_id, prefix, mock_provider, unique, sandbox=False)
    await _publish_unsigned(legacy.url, deployed, subscribed, issued)
    server.stop()

    # the upgrade: authorization on, the streams provisioned (which marks the old events)
    server = legacy.start(legacy.credentials / nats_auth.SERVER_CONFIG)
    try:
        await nats_auth.provision_streams(legacy.url, legacy.credentials)
        options = nats_auth.connect_options(legacy.credentials, "provisioner")
        nc = await nats.connect(legacy.url, **options)
        info = await nc.jetstream().stream_info(STREAM_NAME)
        await nc.close()
        assert (info.config.metadata or {})[UNSIGNED_THROUGH] == "3"

        # an unsigned event after the mark (a connection with keymanager's nkey, no signature)
        late = KeyIssued(
            key_id="k-late",
            key_hash=sha256_hex(late_key),
            application_id=app_id,
            key_type="PRODUCTION",
        )
        event = emitted(late)
        nc = await nats.connect(
            legacy.url, **nats_auth.connect_options(legacy.credentials, "keymanager")
        )
        await nc.jetstream().publish(event.type, json.dumps(event.model_dump(mode="json")).encode())
        await nc.close()

        settings = gateway_settings.model_copy(update={"nats_url": legacy.url, "port": free_port()})
        async with run_gateway(settings) as gateway, gateway.client() as client:
            assert gateway.app.state.table.routes[prefix].revision == 1
            ok = await client.post(f"/{prefix}{PATH}", json=CHAT, headers=bearer(old_key))
            late_call = await client.post(f"/{prefix}{PATH}", json=CHAT, headers=bearer(late_key))
            assert gateway.app.follower.verifier.rejected["unsigned"] == 1
        assert ok.status_code == 200, ok.text
        assert late_call.status_code == 401
    finally:
        server.stop()
