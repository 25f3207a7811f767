"""Secret-key rotation reseals the provider keys of additional endpoints too, and redeploys an
API on a custom vendor with that vendor's definition."""

import pytest

from aigw.common.crypto import SecretBox, generate_master_key, provider_key_context
from aigw.common.events import ApiDeployed
from aigw.common.vendors import VendorDefinition
from aigw.devtools.rotate_secret_key import RotateSettings, rotate
from tests.support.events import stream_events
from tests.support.infra import Infra
from tests.support.publisher import API_PREFIX, running_publisher
from tests.support.tokens import TestSigner
from tests.support.vendors import vendor_body

pytestmark = pytest.mark.integration

KEYS = {"production": "prod-provider-key-0123456789", "backup": "backup-provider-key-98765"}

BACKUP = "https://backup.example.com"


async def test_rotation_reseals_additional_endpoint_keys_and_redeploys(
    infra: Infra, secret_key: str, signer: TestSigner, unique: str
):
    vendor = vendor_body(f"Acme-{unique}")
    async with running_publisher(infra, secret_key, signer, unique, dev_mode=True) as publisher:
        created = await publisher.client.post(f"{API_PREFIX}/ai-vendors", json=vendor)
        assert created.status_code == 201, created.text
        api = await publisher.create(
            aiVendor={"name": vendor["name"], "version": "v1"},
            additionalEndpoints={"backup": BACKUP},
        )
        url = f"{API_PREFIX}/apis/{api['id']}"
        body = {name: {"apiKey": key} for name, key in KEYS.items()} | {"sandbox": None}
        assert (await publisher.client.put(f"{url}/backend-security", json=body)).status_code == 200
        assert (await publisher.client.post(f"{url}/deploy")).status_code == 201

    key_b = generate_master_key()
    settings = RotateSettings(
        **infra.bus_settings("publisher"),
        mongodb_url=infra.mongodb_url,
        secret_key=key_b,
        previous_secret_keys=secret_key,
        publisher_db=f"pub_{unique}",
        keymanager_db=f"km_{unique}",
    )
    report = await rotate(settings)

    assert (report.provider_keys.keys_reencrypted, report.provider_keys.apis_redeployed) == (2, 1)
    only_b = SecretBox(key_b)
    events = await stream_events(infra.nats_url, "aigw.api.deployed")
    revisions = [ApiDeployed.from_envelope(e) for e in events if e.subject == api["id"]]
    assert [r.revision for r in revisions] == [1, 2]
    latest = revisions[-1]
    assert latest.vendor == VendorDefinition.model_validate(vendor).spec()
    backup = latest.endpoints["backup"].api_key_ciphertext
    assert backup is not None
    assert backup.startswith(f"v1.{only_b.kid}.")
    assert (
        only_b.decrypt(backup, provider_key_context(api["id"], "backup", BACKUP)) == KEYS["backup"]
    )
    assert latest.production is not None
    production = latest.production.api_key_ciphertext
    assert production is not None
    context = provider_key_context(api["id"], "production", latest.production.url)
    assert only_b.decrypt(production, context) == KEYS["production"]

    again = await rotate(settings)  # nothing left under the old key
    assert (again.provider_keys.keys_reencrypted, again.provider_keys.apis_redeployed) == (0, 0)
