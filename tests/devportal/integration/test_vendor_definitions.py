"""GET /apis/{id}/definition: the published API's vendor OpenAPI document (the Developer
Portal's Try Out), built-in vendors' from the product, custom vendors' from
aigw.vendor.changed events."""

import uuid
from typing import Any

import httpx
import pytest

from aigw.common.events import ApiPublished, VendorChanged, VendorRef
from aigw.common.vendors import VendorDefinition
from tests.support.devportal import api_event, publish, publish_api, wait_for_api, wait_until
from tests.support.infra import Infra
from tests.support.vendors import ACME_VENDOR

pytestmark = pytest.mark.integration


def custom_vendor(version: str) -> VendorDefinition:
    return VendorDefinition.model_validate({**ACME_VENDOR, "version": version})


def vendor_event(vendor: VendorDefinition, action: str) -> Any:
    payload = VendorChanged(
        vendor=vendor.spec(), action=action, api_definition=vendor.api_definition
    )
    return api_event(payload)


async def publish_on(devportal: httpx.AsyncClient, nats_url: str, vendor: VendorRef) -> str:
    api_id = str(uuid.uuid4())
    event = ApiPublished(
        api_id=api_id,
        name="acme",
        context="acme",
        version="1.0.0",
        route_prefix="acme/1.0.0",
        vendor=vendor,
    )
    await publish(nats_url, api_event(event))
    await wait_for_api(devportal, api_id)
    return api_id


async def test_a_built_in_vendor_s_definition_lists_its_operations(
    devportal: httpx.AsyncClient, infra: Infra
) -> None:
    api_id = await publish_api(devportal, infra.nats_url)  # MistralAI v1

    response = await devportal.get(f"/apis/{api_id}/definition")

    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert "post" in document["paths"]["/v1/chat/completions"]


async def test_a_custom_vendor_s_definition_comes_from_its_events(
    devportal: httpx.AsyncClient, infra: Infra
) -> None:
    vendor = custom_vendor(f"v-{uuid.uuid4().hex[:8]}")
    ref = VendorRef(name=vendor.name, version=vendor.version)
    await publish(infra.nats_url, vendor_event(vendor, "created"))
    api_id = await publish_on(devportal, infra.nats_url, ref)

    async def served() -> bool:
        response = await devportal.get(f"/apis/{api_id}/definition")
        return response.status_code == 200 and response.json() == vendor.api_definition

    await wait_until(served)

    # a deleted vendor has no definition any more
    await publish(infra.nats_url, vendor_event(vendor, "deleted"))

    async def gone() -> bool:
        return (await devportal.get(f"/apis/{api_id}/definition")).status_code == 404

    await wait_until(gone)


async def test_an_unknown_vendor_or_an_unpublished_api_has_no_definition(
    devportal: httpx.AsyncClient, infra: Infra
) -> None:
    api_id = await publish_on(devportal, infra.nats_url, VendorRef(name="Nobody", version="v9"))
    response = await devportal.get(f"/apis/{api_id}/definition")
    assert response.status_code == 404
    assert "has no API definition" in response.json()["description"]

    assert (await devportal.get(f"/apis/{uuid.uuid4()}/definition")).status_code == 404


async def test_the_definition_needs_a_token(devportal: httpx.AsyncClient, infra: Infra) -> None:
    api_id = await publish_api(devportal, infra.nats_url)
    response = await devportal.get(f"/apis/{api_id}/definition", headers={"Authorization": ""})
    assert response.status_code == 401
