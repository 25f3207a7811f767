"""Any provider, several models, across the four services: a custom vendor created at the
publisher and metered end to end, an Anthropic API called with the official SDK on its native
path, and a routing policy that fails over, all set up through the management APIs."""

import uuid
from typing import Any

import anthropic
import httpx
import pytest

from aigw.devtools.stack import Stack
from tests.support.portal import Portal
from tests.support.vendors import ACME_VENDOR
from tests.support.waiting import eventually_sync

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def _api(portal: Portal, context: str, vendor: dict[str, str], **extra: Any) -> dict[str, Any]:
    response = portal.pub.post(
        "/apis",
        json={
            "name": f"{context}-api",
            "context": context,
            "version": "1.0",
            "aiVendor": vendor,
            "endpoints": {"production": f"{portal.mock}/production"},
            **extra,
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def _ready(portal: Portal, api_id: str, keys: dict[str, str]) -> str:
    """Secure, deploy, publish, subscribe: a production key of a subscribed application."""
    security = {name: {"apiKey": key} for name, key in keys.items()}
    secured = portal.pub.put(f"/apis/{api_id}/backend-security", json=security)
    assert secured.status_code == 200, secured.text
    assert portal.pub.post(f"/apis/{api_id}/deploy").status_code in (200, 201)
    published = portal.pub.post(f"/apis/{api_id}/lifecycle", json={"action": "publish"})
    assert published.status_code == 200, published.text
    return portal.key(portal.subscribed_app(api_id), "PRODUCTION")


def test_a_custom_vendor_is_created_used_and_metered(portal: Portal) -> None:
    created = portal.pub.post("/ai-vendors", json=ACME_VENDOR)
    assert created.status_code in (201, 409), created.text  # 409: a rerun in the same store
    listed = portal.pub.get("/ai-vendors").json()["list"]
    assert {(v["name"], v["builtIn"]) for v in listed} >= {("Acme", False), ("Anthropic", True)}
    context = f"acme{uuid.uuid4().hex[:6]}"
    api = _api(portal, context, {"name": "Acme", "version": "v2"})
    key = _ready(portal, api["id"], {"production": "mock-provider-key"})
    path = f"/{context}/1.0/acme/generate"
    body = {"engine": "acme-large", "input": "how many tokens is this sentence"}
    headers = {"Authorization": f"Bearer {key}"}
    eventually_sync(lambda: portal.gw.post(path, json=body, headers=headers).status_code, 200)
    answer = portal.gw.post(path, json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    tokens = answer.json()["billing"]["tokens"]

    def reported() -> dict[str, Any]:
        response = portal.pub.get(f"/apis/{api['id']}/usage", params={"groupBy": "model"})
        assert response.status_code == 200, response.text
        return dict(response.json())

    # the poll made at least one call too: every call has the same counts
    eventually_sync(lambda: reported()["totals"]["requests"], lambda n: n >= 2)
    usage = reported()
    calls = usage["totals"]["requests"]
    assert usage["totals"]["promptTokens"] == calls * tokens["in"]
    assert usage["totals"]["completionTokens"] == calls * tokens["out"]
    assert usage["totals"]["totalTokens"] == calls * tokens["sum"]
    assert [g["key"] for g in usage["groups"]] == ["acme-large-2026"]
    in_use = portal.pub.delete("/ai-vendors/Acme/v2")
    assert in_use.status_code == 409
    assert api["id"] in in_use.text or context in in_use.text


def test_a_vendor_the_gateway_could_not_use_is_refused(portal: Portal) -> None:
    bad = {
        **ACME_VENDOR,
        "name": "Broken",
        "metadata": {"promptTokenCount": {"inputSource": "payload", "attributeIdentifier": "$..x"}},
    }
    response = portal.pub.post("/ai-vendors", json=bad)
    assert response.status_code in (400, 422)
    assert "recursive descent" in response.text
    assert portal.pub.get("/ai-vendors/Broken/v2").status_code == 404


def test_the_anthropic_sdk_through_the_gateway(stack: Stack, portal: Portal) -> None:
    context = f"claude{uuid.uuid4().hex[:6]}"
    api = _api(portal, context, {"name": "Anthropic", "version": "2023-06-01"})
    key = _ready(portal, api["id"], {"production": "mock-provider-key"})
    client = anthropic.Anthropic(
        base_url=f"{stack.url('gateway')}/{context}/1.0", api_key=key, max_retries=0
    )
    ask = {
        "model": "claude-mock-1",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "Who is the most renowned French painter?"}],
    }
    eventually_sync(lambda: _served(client, ask))
    message = client.messages.create(**ask)
    assert "[production]" in message.content[0].text
    assert message.usage.input_tokens > 0
    with client.messages.stream(**ask) as stream:
        text = "".join(stream.text_stream)
    assert "[production]" in text


def _served(client: anthropic.Anthropic, ask: dict[str, Any]) -> bool:
    try:
        client.messages.create(**ask)
    except anthropic.APIStatusError:
        return False
    return True


def test_a_routing_policy_fails_over_to_its_fallback(portal: Portal) -> None:
    unique = uuid.uuid4().hex[:6]
    primary, backup = f"primary{unique}", f"backup{unique}"
    context = f"routed{unique}"
    api = _api(
        portal,
        context,
        {"name": "OpenAI", "version": "v1"},
        endpoints={"production": f"{portal.mock}/{primary}"},
        additionalEndpoints={"backup": f"{portal.mock}/{backup}"},
        routing={
            "production": {
                "targets": [{"endpoint": "production", "model": "gpt-primary"}],
                "fallbacks": [{"endpoint": "backup", "model": "gpt-backup"}],
                "timeoutSeconds": 5,
                "suspendSeconds": 60,
            }
        },
    )
    assert api["routing"]["production"]["fallbacks"][0]["endpoint"] == "backup"
    key = _ready(
        portal, api["id"], {"production": "mock-provider-key", "backup": "mock-provider-key"}
    )
    path = f"/{context}/1.0/v1/chat/completions"
    eventually_sync(lambda: portal.chat(path, key).status_code, 200)
    healthy = portal.chat(path, key)
    assert (healthy.headers["x-aigw-target"], healthy.json()["model"]) == (
        "production",
        "gpt-primary",
    )
    mock = httpx.Client(base_url=portal.mock)
    try:
        mock.post("/_mock/config", json={"segments": {primary: {"failStatus": 503}}})
        mock.delete("/_mock/requests")
        failed_over = portal.chat(path, key)
        suspended = portal.chat(path, key)
    finally:
        mock.post("/_mock/config", json={"segments": {}})
    assert failed_over.status_code == 200
    assert failed_over.headers["x-aigw-target"] == "backup"
    assert failed_over.headers["x-aigw-model"] == "gpt-backup"
    assert suspended.headers["x-aigw-target"] == "backup"
    hits = [r["path"].split("/")[1] for r in mock.get("/_mock/requests").json()]
    # one failed attempt at the primary; then it is suspended and the backup answers alone
    assert (hits.count(primary), hits.count(backup)) == (1, 2)
    assert failed_over.json()["model"] == "gpt-backup"
