import pytest

from tests.support.publisher import API_PREFIX, Publisher
from tests.support.tokens import TestSigner

pytestmark = pytest.mark.integration


async def test_lists_the_built_in_vendors(publisher: Publisher):
    response = await publisher.client.get(f"{API_PREFIX}/ai-vendors")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4
    assert [v["name"] for v in body["list"]] == ["OpenAI", "MistralAI", "AzureOpenAI", "Anthropic"]
    by_name = {v["name"]: v for v in body["list"]}
    assert all(v["builtIn"] for v in body["list"])
    bearer = {"type": "header", "name": "Authorization", "valuePrefix": "Bearer "}
    assert by_name["MistralAI"]["auth"] == bearer
    assert by_name["AzureOpenAI"]["auth"] == {
        "type": "header",
        "name": "api-key",
        "valuePrefix": "",
    }
    assert by_name["Anthropic"]["defaultHeaders"] == {"anthropic-version": "2023-06-01"}
    assert by_name["OpenAI"]["metadata"]["totalTokenCount"] == {
        "inputSource": "payload",
        "attributeIdentifier": "$.usage.total_tokens",
    }


async def test_gets_one_vendor_or_404(publisher: Publisher):
    response = await publisher.client.get(f"{API_PREFIX}/ai-vendors/OpenAI/v1")
    assert response.status_code == 200
    assert "/v1/chat/completions" in response.json()["apiDefinition"]["paths"]
    assert response.json()["stream"]["usageOption"] == "include_usage"
    missing = await publisher.client.get(f"{API_PREFIX}/ai-vendors/OpenAI/v9")
    assert missing.status_code == 404
    assert "known vendors" in missing.json()["description"]
    assert "MistralAI v1" in missing.json()["description"]


@pytest.mark.parametrize("path", ["/ai-vendors", "/apis"])
async def test_no_token_is_401(publisher: Publisher, path: str):
    response = await publisher.client.get(f"{API_PREFIX}{path}", headers={"Authorization": ""})
    assert response.status_code == 401
    assert response.json()["code"] == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_token_from_another_signer_is_401(publisher: Publisher):
    stranger = TestSigner()
    response = await publisher.client.get(f"{API_PREFIX}/apis", headers=stranger.auth())
    assert response.status_code == 401


async def test_a_garbage_token_is_401(publisher: Publisher):
    headers = {"Authorization": "Bearer not-a-jwt"}
    response = await publisher.client.post(
        f"{API_PREFIX}/apis", json=publisher.body(), headers=headers
    )
    assert response.status_code == 401


async def test_a_subscriber_may_not_manage_apis(publisher: Publisher, signer: TestSigner):
    headers = signer.auth(subject="dev", roles=("subscriber",))
    for method, path in [("GET", "/apis"), ("POST", "/apis"), ("GET", "/ai-vendors")]:
        response = await publisher.client.request(
            method, f"{API_PREFIX}{path}", json=publisher.body(), headers=headers
        )
        assert response.status_code == 403, (method, path)
        assert "admin, publisher" in response.json()["description"]


async def test_a_publisher_role_may(publisher: Publisher, signer: TestSigner):
    headers = signer.auth(subject="pub", roles=("publisher",))
    response = await publisher.client.get(f"{API_PREFIX}/apis", headers=headers)
    assert response.status_code == 200
    assert response.json() == {"count": 0, "list": []}


async def test_health_and_openapi(publisher: Publisher):
    assert (await publisher.client.get("/health/ready")).json() == {"status": "UP"}
    paths = (await publisher.client.get("/openapi.json")).json()["paths"]
    assert f"{API_PREFIX}/apis/{{api_id}}/deploy" in paths
