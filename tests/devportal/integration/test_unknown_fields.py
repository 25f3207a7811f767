"""devportal's request bodies refuse unknown fields with a 422 naming them (a misspelt field is
never silently dropped); a subscription sent back as GET answered it still updates."""

import httpx
import pytest

from tests.support.devportal import publish_api
from tests.support.infra import Infra
from tests.support.refusals import assert_unknown

pytestmark = pytest.mark.integration


async def test_a_misspelt_application_field_is_refused_and_nothing_is_stored(
    devportal: httpx.AsyncClient,
) -> None:
    response = await devportal.post("/applications", json={"name": "typo", "descripton": "x"})
    assert_unknown(response, "descripton")
    assert (await devportal.get("/applications")).json()["count"] == 0


async def test_key_and_subscription_bodies_refuse_unknown_fields(
    devportal: httpx.AsyncClient, infra: Infra
) -> None:
    app_id = (await devportal.post("/applications", json={"name": "strict"})).json()["id"]
    api_id = await publish_api(devportal, infra.nats_url)
    keys = f"/applications/{app_id}/api-keys"
    assert_unknown(await devportal.post(keys, json={"keyType": "PRODUCTION", "ttl": 5}), "ttl")
    oauth = f"/applications/{app_id}/oauth-keys"
    assert_unknown(await devportal.post(oauth, json={"keyType": "SANDBOX", "scope": "x"}), "scope")
    body = {"applicationId": app_id, "apiId": api_id, "plan": "Gold"}
    assert_unknown(await devportal.post("/subscriptions", json=body), "plan")
    assert (await devportal.get("/subscriptions")).json()["count"] == 0

    del body["plan"]
    subscription = (await devportal.post("/subscriptions", json=body)).json()
    path = f"/subscriptions/{subscription['id']}"
    assert_unknown(await devportal.put(path, json={"policy": "Unlimited", "polcy": "x"}), "polcy")
    [listed] = (await devportal.get("/subscriptions")).json()["list"]
    response = await devportal.put(path, json=listed)
    assert response.status_code == 200, response.text  # GET, PUT: the read-only fields ignored
    assert response.json() == subscription
