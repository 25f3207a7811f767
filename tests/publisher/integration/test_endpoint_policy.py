"""Which provider endpoints and contexts publisher accepts, in and outside dev mode."""

import pytest

from aigw.common.requests import MAX_CORRELATION_ID
from tests.support.publisher import API_PREFIX, Publisher

pytestmark = pytest.mark.integration

APIS = f"{API_PREFIX}/apis"
DEV_ONLY = "plain-http and loopback endpoints are accepted only in dev mode (AIGW_DEV_MODE=true)"

LOCAL_ENDPOINTS = [
    "http://api.mistral.ai",
    "http://127.0.0.1:8090",
    "https://127.0.0.1:8443",
    "https://localhost",
    "https://LOCALHOST.:8443/v1",
    "https://10.0.0.7",
    "https://192.168.1.10",
    "https://172.16.5.4",
    "https://169.254.169.254",
    "https://0.0.0.0",
    "https://[::1]:8443",
    "https://[fe80::1]",
    "https://[::ffff:127.0.0.1]",
    # other spellings of 127.0.0.1 and 169.254.169.254 that resolvers accept
    "https://2130706433",
    "https://0x7f000001",
    "https://127.1",
    "https://0",
    "https://2852039166",
    "https://１２７.０.０.１",
]


@pytest.mark.parametrize("url", LOCAL_ENDPOINTS)
@pytest.mark.parametrize("kind", ["production", "sandbox"])
async def test_outside_dev_mode_local_or_plain_http_endpoints_are_422(
    production_publisher: Publisher, url: str, kind: str
):
    body = production_publisher.body(endpoints={kind: url})
    response = await production_publisher.client.post(APIS, json=body)
    assert response.status_code == 422, response.text
    description = response.json()["description"]
    assert DEV_ONLY in description
    assert kind in description
    assert (await production_publisher.client.get(APIS)).json()["count"] == 0


async def test_outside_dev_mode_an_update_cannot_point_an_api_at_a_local_endpoint(
    production_publisher: Publisher,
):
    api = await production_publisher.create(endpoints={"production": "https://api.mistral.ai"})
    body = production_publisher.body(endpoints={"production": "http://127.0.0.1:8090"})
    response = await production_publisher.client.put(f"{APIS}/{api['id']}", json=body)
    assert response.status_code == 422
    assert DEV_ONLY in response.json()["description"]
    fetched = (await production_publisher.client.get(f"{APIS}/{api['id']}")).json()
    assert fetched["endpoints"]["production"] == "https://api.mistral.ai"


async def test_outside_dev_mode_public_https_endpoints_are_accepted(
    production_publisher: Publisher,
):
    endpoints = {"production": "https://api.mistral.ai", "sandbox": "https://8.8.8.8:8443/v1"}
    created = await production_publisher.create(endpoints=endpoints)
    assert created["endpoints"] == endpoints


@pytest.mark.parametrize("url", LOCAL_ENDPOINTS)
async def test_in_dev_mode_local_and_plain_http_endpoints_are_accepted(
    publisher: Publisher, url: str
):
    created = await publisher.create(endpoints={"sandbox": url})
    assert created["endpoints"]["sandbox"] == url.rstrip("/")


@pytest.mark.parametrize(
    ("context", "version"),
    [
        ("health", "0.0.2"),
        ("health/live", "0.0.2"),
        ("/metrics", "0.0.2"),
        ("docs", "0.0.2"),
        ("openapi.json", "0.0.2"),
        ("redoc/api", "0.0.2"),
        ("Docs", "0.0.2"),
        ("{version}/api", "metrics"),
    ],
)
async def test_contexts_the_gateways_own_paths_would_shadow_are_422(
    publisher: Publisher, context: str, version: str
):
    body = publisher.body(context=context, version=version)
    response = await publisher.client.post(APIS, json=body)
    assert response.status_code == 422, response.text
    assert "reserved" in response.json()["description"]


@pytest.mark.parametrize("context", ["healthcheck", "api/health", "my-docs", "metrics2"])
async def test_reserved_words_elsewhere_in_a_context_are_fine(publisher: Publisher, context: str):
    created = await publisher.create(context=context)
    assert created["context"] == context


async def test_a_well_formed_correlation_id_reaches_the_event(publisher: Publisher):
    async with publisher.expect_event("aigw.api.created") as created:
        response = await publisher.client.post(
            APIS, json=publisher.body(), headers={"X-Correlation-ID": "corr-pub-1"}
        )
        assert response.status_code == 201
        created.about(response.json()["id"])
    event = await created
    assert event.correlationid == "corr-pub-1"


@pytest.mark.parametrize(
    "header", ["x" * (MAX_CORRELATION_ID + 1), "has spaces", "semi;colon", "<script>"]
)
async def test_an_over_long_or_malformed_correlation_id_is_replaced(
    publisher: Publisher, header: str
):
    async with publisher.expect_event("aigw.api.created") as created:
        response = await publisher.client.post(
            APIS, json=publisher.body(), headers={"X-Correlation-ID": header}
        )
        assert response.status_code == 201, response.text
        created.about(response.json()["id"])
    event = await created
    assert event.correlationid != header
    assert len(event.correlationid) == 32  # a fresh uuid4 hex
