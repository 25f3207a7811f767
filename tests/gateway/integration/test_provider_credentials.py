"""A provider that rejects the provider key the gateway sent (401/403) is the API's problem,
not the caller's: the caller gets 502 `provider_rejected_credentials`, never the provider's
"Incorrect API key" (which reads as if their own key were wrong, and may describe the
organisation's key). The answers to calls the gateway made without a key of its own come back
unchanged, as do other provider errors (test_invocation)."""

import uuid

import pytest

from aigw.common.model_routing import RoutingPolicy
from aigw.common.vendors import VendorDefinition
from tests.support.gateway import CHAT, PATH, bearer, deploy_with_keys
from tests.support.routed import routed_api, target
from tests.support.usage import usage_tap
from tests.support.vendors import ACME_VENDOR

pytestmark = pytest.mark.integration

WRONG_KEY = "sk-wrong-provider-key-0123456789"
ACME = VendorDefinition.model_validate(ACME_VENDOR).spec()


def assert_rejected_credentials(response) -> None:
    assert response.status_code == 502, response.text
    error = response.json()["error"]
    assert error["code"] == "provider_rejected_credentials"
    assert error["type"] == "api_error"
    assert "not your API key" in error["message"]
    assert "Incorrect API key" not in response.text  # the provider's body is not relayed
    assert "Mock failure" not in response.text


async def test_a_wrong_provider_key_is_a_502_not_the_providers_401(
    gateway, events, mock_provider, mock
):
    d = await deploy_with_keys(
        events, gateway, mock_provider, uuid.uuid4().hex[:8], production_key=WRONG_KEY
    )
    async with usage_tap(events, d.api_id) as tap, gateway.client() as client:
        response = await client.post(
            f"/{d.prefix}{PATH}", json=CHAT, headers=bearer(d.production_key)
        )
        [record] = await tap.wait_for(1)
    assert_rejected_credentials(response)
    assert WRONG_KEY not in response.text
    assert record.status == 502  # what the caller got; the provider answered 401
    seen = [r for r in (await mock.get("/_mock/requests")).json() if d.unique in r["path"]]
    assert len(seen) == 1  # the provider did answer: it refused the gateway's key


async def test_a_403_to_the_gateways_key_is_a_502_too(gateway, deployed_api):
    d = deployed_api
    async with gateway.client() as client:
        response = await client.post(
            f"/{d.prefix}{PATH}",
            json=CHAT,
            headers={**bearer(d.production_key), "x-mock-status": "403"},
        )
    assert_rejected_credentials(response)


async def test_without_a_provider_key_of_the_gateways_the_401_comes_back(
    gateway, events, mock_provider
):
    """An endpoint deliberately called without a provider key: the gateway sent no
    credentials of its own, so the provider's answer is relayed as it is."""
    d = await deploy_with_keys(
        events, gateway, mock_provider, uuid.uuid4().hex[:8], production_key=None
    )
    async with gateway.client() as client:
        response = await client.post(
            f"/{d.prefix}{PATH}", json=CHAT, headers=bearer(d.production_key)
        )
    assert response.status_code == 401
    assert "Incorrect API key" in response.json()["error"]["message"]


async def test_a_routed_target_rejecting_the_key_is_a_502_and_not_failed_over(
    events, gateway, mock_provider, mock
):
    """As any other client error of a target: no failover (the fallback would be sent the
    same call), but the caller gets 502, with the target that refused named."""
    policy = RoutingPolicy(targets=[target("a")], fallbacks=[target("b")])
    routed = await routed_api(events, gateway, mock_provider, mock, policy)
    await routed.misbehave(a={"failStatus": 401})
    async with gateway.client() as client:
        response = await routed.call(client)
    assert_rejected_credentials(response)
    assert response.headers["x-aigw-target"] == "a"
    assert await routed.seen() == {"a": 1}


async def test_a_wrong_provider_key_in_the_query_is_a_502_too(gateway, events, mock_provider):
    """A vendor whose key travels as a query parameter (the mock's Acme answers 401)."""
    d = await deploy_with_keys(
        events, gateway, mock_provider, uuid.uuid4().hex[:8], vendor=ACME, production_key=WRONG_KEY
    )
    request = {"engine": "acme-large", "input": "count these words"}
    async with gateway.client() as client:
        response = await client.post(
            f"/{d.prefix}/acme/generate", json=request, headers=bearer(d.production_key)
        )
    assert_rejected_credentials(response)
    assert "bad key" not in response.text
    assert WRONG_KEY not in response.text
