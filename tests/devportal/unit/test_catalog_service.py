"""The catalogue's use cases: only listed APIs are visible, Try Out's definition comes from the
API's vendor, and a test key is for one published API, in no application."""

import json

import pytest

from aigw.common.actor import Actor
from aigw.common.errors import NotFound
from aigw.common.vendors import BUILT_IN_VENDORS
from aigw.devportal.vendors.repository import VendorDefinitionDoc
from tests.support.devportal_memory import MemoryDevportal, StoodInKeymanager


async def test_a_test_key_is_for_the_published_api_and_no_application(
    keymanager: StoodInKeymanager,
) -> None:
    portal = MemoryDevportal(test_key_ttl_seconds=600)
    await portal.publish_api("api-1")

    key = await portal.catalog.test_key(Actor("alice", "c"), keymanager.client(), "api-1")

    assert key.expires_in == 600
    [request] = keymanager.fake.requests
    assert json.loads(request.content) == {
        "applicationId": "testkey:alice",
        "keyType": "PRODUCTION",
        "apiId": "api-1",
        "expiresIn": 600,
    }


async def test_an_unpublished_api_has_no_test_key(
    portal: MemoryDevportal, alice: Actor, keymanager: StoodInKeymanager
) -> None:
    with pytest.raises(NotFound, match="'api-1' is not published"):
        await portal.catalog.test_key(alice, keymanager.client(), "api-1")
    assert keymanager.fake.requests == []


async def test_a_built_in_vendors_definition_is_the_products_own(
    portal: MemoryDevportal,
) -> None:
    await portal.publish_api("api-1")  # on MistralAI v1, a built-in vendor
    [mistral] = [v for v in BUILT_IN_VENDORS if (v.name, v.version) == ("MistralAI", "v1")]

    assert await portal.catalog.definition("api-1") == mistral.api_definition


async def test_a_custom_vendor_without_a_live_definition_has_none(
    portal: MemoryDevportal,
) -> None:
    await portal.publish_api("api-1")
    entry = portal.catalog_repo.entries["api-1"]
    entry["vendor"] = {"name": "Acme", "version": "v1"}

    with pytest.raises(NotFound, match="AI vendor Acme v1 of API 'api-1' has no API definition"):
        await portal.catalog.definition("api-1")

    document = {"openapi": "3.1.0", "paths": {}}
    portal.vendor_definitions.definitions[("Acme", "v1")] = VendorDefinitionDoc(
        api_definition=document, deleted=False
    )
    assert await portal.catalog.definition("api-1") == document
