"""`make rotate-secret-key`: every secret at rest moves from master key A to B, deployed
APIs get a new revision whose event carries B's ciphertexts, and a rerun changes nothing."""

import asyncio
import os
import sys
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from aigw.common.crypto import (
    SecretBox,
    generate_master_key,
    legacy_provider_key_context,
    provider_key_context,
)
from aigw.devtools.rotate_secret_key import RotateSettings, rotate
from aigw.keymanager.signing.keys import SigningKey
from aigw.keymanager.signing.repository import COLLECTION as SIGNING_KEYS
from aigw.keymanager.signing.service import load_or_create
from tests.support.events import stream_events
from tests.support.infra import Infra
from tests.support.publisher import API_PREFIX, Publisher, running_publisher
from tests.support.tokens import TestSigner

pytestmark = pytest.mark.integration

PROVIDER_KEYS = {"production": "prod-provider-key-0123456789", "sandbox": "sandbox-key-9876543210"}


async def _secured_api(publisher: Publisher, context: str, *, deploy: bool) -> str:
    api = await publisher.create(context=context)
    body = {kind: {"apiKey": key} for kind, key in PROVIDER_KEYS.items()}
    url = f"{API_PREFIX}/apis/{api['id']}"
    assert (await publisher.client.put(f"{url}/backend-security", json=body)).status_code == 200
    if deploy:
        assert (await publisher.client.post(f"{url}/deploy")).status_code == 201
    return str(api["id"])


async def _setup_under_key_a(
    infra: Infra, key_a: str, signer: TestSigner, unique: str
) -> tuple[str, str]:
    """Two APIs (one deployed) with provider keys, and a keymanager signing key, under A."""
    async with running_publisher(infra, key_a, signer, unique, dev_mode=True) as publisher:
        deployed = await _secured_api(publisher, f"rotdep{unique}", deploy=True)
        undeployed = await _secured_api(publisher, f"rotund{unique}", deploy=False)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.mongodb_url)
    await load_or_create(client[f"km_{unique}"], SecretBox(key_a))
    await client.close()
    return deployed, undeployed


def _settings(infra: Infra, key_b: str, key_a: str, unique: str) -> RotateSettings:
    return RotateSettings(
        **infra.bus_settings("publisher"),
        mongodb_url=infra.mongodb_url,
        secret_key=key_b,
        previous_secret_keys=key_a,
        publisher_db=f"pub_{unique}",
        keymanager_db=f"km_{unique}",
    )


async def _stored(infra: Infra, unique: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.mongodb_url)
    apis = [d async for d in client[f"pub_{unique}"]["apis"].find({})]
    signing = await client[f"km_{unique}"][SIGNING_KEYS].find_one({})
    await client.close()
    assert signing is not None
    return apis, signing


def _assert_provider_keys_under(apis: list[dict[str, Any]], only_b: SecretBox) -> None:
    for doc in apis:
        for kind, sealed in doc["backend_security"].items():
            assert sealed["ciphertext"].startswith(f"v1.{only_b.kid}.")
            context = provider_key_context(doc["_id"], kind, doc["endpoints"][kind])
            assert only_b.decrypt(sealed["ciphertext"], context) == PROVIDER_KEYS[kind]


async def test_rotation_reencrypts_everything_and_redeploys(
    infra: Infra, secret_key: str, signer: TestSigner, unique: str
):
    key_b = generate_master_key()
    only_b = SecretBox(key_b)
    deployed, _ = await _setup_under_key_a(infra, secret_key, signer, unique)

    report = await rotate(_settings(infra, key_b, secret_key, unique))

    assert (report.provider_keys.keys_reencrypted, report.provider_keys.apis_redeployed) == (4, 1)
    assert report.signing_keys.keys_reencrypted == 1
    assert report.events_pending == 0
    apis, signing = await _stored(infra, unique)
    _assert_provider_keys_under(apis, only_b)
    active = signing["active"]
    assert active["sealed_private_key"].startswith(f"v1.{only_b.kid}.")
    SigningKey.unseal(active["kid"], active["sealed_private_key"], only_b)  # opens under B alone
    await _assert_new_revision_is_sealed_under_b(infra, deployed, only_b)


async def _assert_new_revision_is_sealed_under_b(
    infra: Infra, api_id: str, only_b: SecretBox
) -> None:
    events = await stream_events(infra.nats_url, "aigw.api.deployed")
    mine = [e.data for e in events if e.subject == api_id]
    assert [d["revision"] for d in mine] == [1, 2]
    for kind, key in PROVIDER_KEYS.items():
        endpoint = mine[-1][kind]
        context = provider_key_context(api_id, kind, endpoint["url"])
        assert only_b.decrypt(endpoint["api_key_ciphertext"], context) == key
    with pytest.raises(ValueError, match="not configured"):  # revision 1 was sealed under A
        only_b.decrypt(mine[0]["production"]["api_key_ciphertext"], "")


async def test_second_run_changes_nothing(
    infra: Infra, secret_key: str, signer: TestSigner, unique: str
):
    key_b = generate_master_key()
    await _setup_under_key_a(infra, secret_key, signer, unique)
    settings = _settings(infra, key_b, secret_key, unique)
    await rotate(settings)
    before = await _stored(infra, unique)

    output = await _run_command(infra, key_b, secret_key, unique)  # the documented command

    assert "provider_keys.keys_reencrypted: 0" in output
    assert "provider_keys.apis_redeployed: 0" in output
    assert "signing_keys.keys_reencrypted: 0" in output
    assert await _stored(infra, unique) == before


async def test_keys_sealed_before_origins_were_bound_are_migrated(
    infra: Infra, secret_key: str, signer: TestSigner, unique: str
):
    """Ciphertexts bound to API id and endpoint only (before origins were bound; gateways now
    refuse them): the command, run with the current key alone, reseals them for their
    endpoint's origin and redeploys, so the deployment works again."""
    box = SecretBox(secret_key)
    deployed, _ = await _setup_under_key_a(infra, secret_key, signer, unique)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(infra.mongodb_url)
    apis = client[f"pub_{unique}"]["apis"]
    for doc in [d async for d in apis.find({})]:
        legacy = {
            f"backend_security.{kind}": {
                "ciphertext": box.encrypt(key, legacy_provider_key_context(doc["_id"], kind)),
                "masked": "****",
            }
            for kind, key in PROVIDER_KEYS.items()
        }
        await apis.update_one({"_id": doc["_id"]}, {"$set": legacy})
    await client.close()

    settings = _settings(infra, secret_key, "", unique)
    report = await rotate(settings)

    counts = report.provider_keys
    assert (counts.keys_reencrypted, counts.keys_bound_to_origin, counts.apis_redeployed) == (
        4,
        4,
        1,
    )
    apis_after, _ = await _stored(infra, unique)
    _assert_provider_keys_under(apis_after, box)
    events = await stream_events(infra.nats_url, "aigw.api.deployed")
    latest = [e.data for e in events if e.subject == deployed][-1]
    assert latest["revision"] == 2
    for kind, key in PROVIDER_KEYS.items():
        context = provider_key_context(deployed, kind, latest[kind]["url"])
        assert box.decrypt(latest[kind]["api_key_ciphertext"], context) == key
    again = await rotate(settings)
    assert (again.provider_keys.keys_reencrypted, again.provider_keys.apis_redeployed) == (0, 0)


async def _run_command(infra: Infra, key_b: str, key_a: str, unique: str) -> str:
    env = {
        **os.environ,
        "AIGW_SECRET_KEY": key_b,
        "AIGW_PREVIOUS_SECRET_KEYS": key_a,
        "MONGODB_URL": infra.mongodb_url,
        **infra.bus_env("publisher"),
        "PUBLISHER_MONGODB_DB": f"pub_{unique}",
        "KEYMANAGER_MONGODB_DB": f"km_{unique}",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "aigw.devtools.rotate_secret_key",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0, out.decode()
    assert key_a not in out.decode()
    assert key_b not in out.decode()
    return out.decode()
