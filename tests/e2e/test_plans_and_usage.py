"""Plans and usage across the services: a plan created at the publisher limits calls at the
gateway, and the usage the publisher and the portal report equals what the provider counted."""

import json
import uuid
from typing import Any

import pytest

from tests.support.portal import CHAT_BODY, Portal
from tests.support.waiting import eventually_sync

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def _metered_api(portal: Portal, plan: str) -> dict[str, Any]:
    """An API offering `plan`, published, and an application subscribed with it."""
    api = portal.create_api(f"metered{uuid.uuid4().hex[:6]}")
    body = {
        "name": api["name"],
        "context": api["context"],
        "version": api["version"],
        "aiVendor": {"name": "MistralAI", "version": "v1"},
        "endpoints": api["endpoints"],
        "policies": ["Unlimited", plan],
    }
    assert portal.pub.put(f"/apis/{api['id']}", json=body).status_code == 200
    portal.secure_deploy_publish(api["id"])
    eventually_sync(lambda: plan in portal.dev.get(f"/apis/{api['id']}").json().get("policies", []))
    app = portal.dev.post("/applications", json={"name": f"app-{uuid.uuid4().hex[:6]}"}).json()
    sub = portal.dev.post(
        "/subscriptions", json={"applicationId": app["id"], "apiId": api["id"], "policy": plan}
    )
    assert sub.status_code == 201, sub.text
    key = portal.key(app["id"], "PRODUCTION")
    path = f"/{api['context']}/0.0.2/v1/chat/completions"
    return {"api": api, "app": app, "sub": sub.json(), "key": key, "path": path}


def test_request_quota_answers_429_with_openai_rate_limit_headers(portal: Portal) -> None:
    plan = f"ThreePerMinute{uuid.uuid4().hex[:6]}"
    created = portal.pub.post(
        "/subscription-policies",
        json={"name": plan, "limits": [{"unit": "minute", "requests": 3}]},
    )
    assert created.status_code == 201, created.text
    metered = _metered_api(portal, plan)
    first = poll_ok(portal, metered)
    assert first.headers["x-ratelimit-limit-requests"] == "3"
    statuses = [portal.chat(metered["path"], metered["key"]).status_code for _ in range(4)]
    assert statuses.count(429) >= 2  # 3 allowed in all, one already used by the first call
    refused = portal.chat(metered["path"], metered["key"])
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0
    assert refused.headers["x-ratelimit-remaining-requests"] == "0"
    assert refused.json()["error"]["message"]


def poll_ok(portal: Portal, metered: dict[str, Any]) -> Any:
    responses: list[Any] = []

    def served() -> bool:
        responses.append(portal.chat(metered["path"], metered["key"]))
        return bool(responses[-1].status_code == 200)

    eventually_sync(served)
    return responses[-1]


def test_reported_usage_equals_what_the_provider_counted(portal: Portal) -> None:
    metered = _metered_api(portal, "Gold")
    # the route and key are live; this call is counted too (refusals before it carry no
    # application, so they are not usage)
    poll_ok(portal, metered)
    counted = {"requests": 1, "promptTokens": 0, "completionTokens": 0, "totalTokens": 0}
    calls = [portal.chat(metered["path"], metered["key"]) for _ in range(3)]
    stream_body = {**CHAT_BODY, "stream": True, "stream_options": {"include_usage": True}}
    streamed = [
        portal.gw.post(
            metered["path"], json=stream_body, headers={"Authorization": f"Bearer {metered['key']}"}
        )
        for _ in range(2)
    ]
    usages = [c.json()["usage"] for c in calls] + [_stream_usage(s.text) for s in streamed]
    counted["requests"] += len(usages)

    def report(client: Any, path: str) -> dict[str, int]:
        totals: dict[str, int] = client.get(path).json()["totals"]
        return totals

    api_path = f"/apis/{metered['api']['id']}/usage"
    app_path = f"/applications/{metered['app']['id']}/usage"
    eventually_sync(
        lambda: report(portal.pub, api_path)["requests"], counted["requests"], timeout=10
    )
    eventually_sync(
        lambda: report(portal.dev, app_path)["requests"], counted["requests"], timeout=10
    )
    warmup = report(portal.pub, api_path)["totalTokens"] - sum(u["total_tokens"] for u in usages)
    assert warmup > 0  # the warm-up call, counted like the others
    for totals in (report(portal.pub, api_path), report(portal.dev, app_path)):
        assert totals["requests"] == counted["requests"]
        assert totals["totalTokens"] == sum(u["total_tokens"] for u in usages) + warmup
    by_model = portal.pub.get(f"{api_path}?groupBy=model").json()["groups"]
    assert [g["key"] for g in by_model] == ["mistral-small-latest"]


def _stream_usage(text: str) -> dict[str, int]:
    chunks = [
        json.loads(line.removeprefix("data: "))
        for line in text.splitlines()
        if line.startswith("data: {")
    ]
    usage: dict[str, int] = chunks[-1]["usage"]
    return usage
