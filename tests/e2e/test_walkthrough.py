"""The README walkthrough over HTTP against the four services running as separate processes."""

import asyncio
import json
import time
import uuid
from typing import Any

import httpx
import pytest

from aigw.devtools.processes import free_port
from aigw.devtools.stack import Stack
from tests.support.events import stream_events
from tests.support.portal import CHAT_BODY, UPSTREAM_TIMEOUT_SECONDS, Portal
from tests.support.waiting import eventually_sync

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def test_vendors_are_built_in(portal: Portal) -> None:
    response = portal.pub.get("/ai-vendors")
    assert response.status_code == 200
    names = {v["name"]: v for v in response.json()["list"]}
    assert {"OpenAI", "MistralAI", "AzureOpenAI"} <= names.keys()
    assert all(v["version"] for v in names.values())


def test_production_and_sandbox_keys_reach_their_endpoints(
    portal: Portal, mistral: dict[str, Any]
) -> None:
    httpx.delete(f"{portal.mock}/_mock/requests")
    prod = portal.chat(mistral["path"], mistral["PRODUCTION"])
    assert prod.status_code == 200, prod.text
    body = prod.json()
    assert body["object"] == "chat.completion"
    assert "[production]" in body["choices"][0]["message"]["content"]
    assert body["usage"]["total_tokens"] > 0

    sandbox = portal.gw.post(
        mistral["path"], json=CHAT_BODY, headers={"ApiKey": mistral["SANDBOX"]}
    )
    assert sandbox.status_code == 200, sandbox.text
    assert "[sandbox]" in sandbox.json()["choices"][0]["message"]["content"]

    seen = httpx.get(f"{portal.mock}/_mock/requests").json()
    requests = seen["list"] if isinstance(seen, dict) else seen
    auths = [{k.lower(): v for k, v in r["headers"].items()} for r in requests]
    assert auths[0]["authorization"] == "Bearer mock-provider-key"
    assert auths[1]["authorization"] == "Bearer mock-sandbox-key"
    for headers in auths:  # the caller's key never reaches the provider
        assert mistral["PRODUCTION"] not in json.dumps(headers)
        assert mistral["SANDBOX"] not in json.dumps(headers)
        assert "apikey" not in headers


def test_streaming_comes_back_as_sse_chunks(portal: Portal, mistral: dict[str, Any]) -> None:
    body = {**CHAT_BODY, "stream": True}
    headers = {"Authorization": f"Bearer {mistral['PRODUCTION']}", "x-mock-chunk-delay-ms": "30"}
    arrivals: list[float] = []
    events: list[str] = []
    with portal.gw.stream("POST", mistral["path"], json=body, headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data: "):
                arrivals.append(time.monotonic())
                events.append(line.removeprefix("data: "))
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert len(chunks) >= 3
    # relayed as produced, not buffered: the chunks arrive spread over the provider's delays
    assert arrivals[-1] - arrivals[0] >= 0.03 * (len(chunks) - 2)


def test_version_first_context(portal: Portal) -> None:
    name = f"mistral{uuid.uuid4().hex[:6]}"
    api = portal.create_api(f"{{version}}/{name}")
    portal.secure_deploy_publish(api["id"])
    app_id = portal.subscribed_app(api["id"])
    key = portal.key(app_id, "PRODUCTION")
    path = f"/0.0.2/{name}/v1/chat/completions"
    eventually_sync(lambda: portal.chat(path, key).status_code, 200)
    assert portal.chat(f"/{name}/0.0.2/v1/chat/completions", key).status_code == 404


def test_new_deployment_is_routed_within_a_second(portal: Portal, mistral: dict[str, Any]) -> None:
    context = f"fresh{uuid.uuid4().hex[:6]}"
    api = portal.create_api(context)
    # published (which needs a deployment), then undeployed: the application exists and is
    # subscribed before the new deploy, so only the route is missing
    portal.secure_deploy_publish(api["id"])
    assert portal.pub.post(f"/apis/{api['id']}/undeploy").status_code == 200
    app_id = portal.subscribed_app(api["id"])
    key = portal.key(app_id, "PRODUCTION")
    path = f"/{context}/0.0.2/v1/chat/completions"
    eventually_sync(lambda: portal.chat(path, key).status_code, 404)  # the undeploy has reached it
    assert portal.pub.post(f"/apis/{api['id']}/deploy").status_code in (200, 201)
    # routed within a second of the deploy
    eventually_sync(lambda: portal.chat(path, key).status_code, 200, timeout=1.0)


def test_unpublished_api_is_not_in_the_portal(portal: Portal) -> None:
    api = portal.create_api(f"draft{uuid.uuid4().hex[:6]}")
    listed = {a["id"] for a in portal.dev.get("/apis").json()["list"]}
    assert api["id"] not in listed
    assert portal.dev.get(f"/apis/{api['id']}").status_code == 404


def test_test_key_works_for_its_api_only(portal: Portal, mistral: dict[str, Any]) -> None:
    response = portal.dev.post(f"/apis/{mistral['api']['id']}/test-key")
    assert response.status_code == 201, response.text
    assert response.json()["expiresIn"] > 0
    test_key = response.json()["apiKey"]
    eventually_sync(lambda: portal.chat(mistral["path"], test_key).status_code, 200)

    other = portal.create_api(f"other{uuid.uuid4().hex[:6]}")
    portal.secure_deploy_publish(other["id"])
    other_path = f"/{other['context']}/0.0.2/v1/chat/completions"
    eventually_sync(
        lambda: portal.chat(other_path, test_key).status_code, lambda status: status != 404
    )
    assert portal.chat(other_path, test_key).status_code == 403


def _error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["message"]
    return str(error["message"])


def test_gateway_errors(portal: Portal, mistral: dict[str, Any]) -> None:
    path = mistral["path"]
    _error(portal.gw.post(path, json=CHAT_BODY), 401)
    _error(portal.chat(path, "aigw_not-a-real-key"), 401)
    _error(portal.chat("/nosuchapi/9.9.9/v1/chat/completions", mistral["PRODUCTION"]), 404)
    malformed = portal.gw.post(
        path,
        content=b'{"model": ',
        headers={
            "Authorization": f"Bearer {mistral['PRODUCTION']}",
            "content-type": "application/json",
        },
    )
    _error(malformed, 400)

    # a key of an application that is not subscribed to this API
    other = portal.create_api(f"unsub{uuid.uuid4().hex[:6]}")
    portal.secure_deploy_publish(other["id"])
    other_app = portal.subscribed_app(other["id"])
    foreign_key = portal.key(other_app, "PRODUCTION")
    eventually_sync(
        lambda: portal.chat(path, foreign_key).status_code, lambda status: status != 401
    )
    _error(portal.chat(path, foreign_key), 403)


def test_provider_down_and_provider_slow(portal: Portal, mistral: dict[str, Any]) -> None:
    slow = portal.chat(
        mistral["path"],
        mistral["PRODUCTION"],
        **{"x-mock-latency-ms": str(int(UPSTREAM_TIMEOUT_SECONDS * 1000 + 1500))},
    )
    _error(slow, 504)

    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    api = portal.create_api(f"down{uuid.uuid4().hex[:6]}", production=dead, sandbox=dead)
    portal.secure_deploy_publish(api["id"])
    app_id = portal.subscribed_app(api["id"])
    key = portal.key(app_id, "PRODUCTION")
    path = f"/{api['context']}/0.0.2/v1/chat/completions"
    eventually_sync(
        lambda: portal.chat(path, key).status_code, lambda status: status not in (401, 403, 404)
    )
    _error(portal.chat(path, key), 502)


def test_management_errors(portal: Portal, stack: Stack) -> None:
    assert httpx.get(f"{stack.url('publisher')}/api/publisher/v1/apis").status_code == 401
    assert portal.pub.get("/apis/does-not-exist").status_code == 404
    api = portal.create_api(f"dup{uuid.uuid4().hex[:6]}")
    clash = portal.pub.post(
        "/apis",
        json={
            "name": "again",
            "context": api["context"],
            "version": "0.0.2",
            "aiVendor": {"name": "MistralAI", "version": "v1"},
            "endpoints": {"production": f"{portal.mock}/production"},
        },
    )
    assert clash.status_code == 409
    assert set(clash.json()) == {"code", "message", "description", "fields"}
    assert set(clash.json()["fields"]) == {"context", "version"}
    listed = [a for a in portal.pub.get("/apis").json()["list"] if a["context"] == api["context"]]
    assert len(listed) == 1  # nothing half-written
    invalid = portal.pub.post("/apis", json={"name": "", "context": "x y", "version": "1"})
    assert invalid.status_code == 422
    assert invalid.json()["code"] == 422


def test_lifecycle_events_are_on_the_stream(stack: Stack, mistral: dict[str, Any]) -> None:
    api_id = mistral["api"]["id"]
    events = asyncio.run(stream_events(stack.nats_url))
    types = [e.type for e in events if e.subject == api_id]
    for expected in ("aigw.api.created", "aigw.api.deployed", "aigw.api.published"):
        assert expected in types
    assert types.index("aigw.api.created") < types.index("aigw.api.deployed")
    assert all(e.actor == "admin" for e in events if e.subject == api_id)
    # the provider key travels encrypted, never in plaintext
    raw = json.dumps([e.model_dump(mode="json") for e in events])
    assert "mock-provider-key" not in raw
    assert "mock-sandbox-key" not in raw


def test_revoked_key_is_refused_within_a_second(portal: Portal, mistral: dict[str, Any]) -> None:
    issued = portal.dev.post(
        f"/applications/{mistral['app_id']}/api-keys", json={"keyType": "PRODUCTION"}
    )
    assert issued.status_code == 201, issued.text
    key, key_id = issued.json()["apiKey"], issued.json()["id"]
    eventually_sync(lambda: portal.chat(mistral["path"], key).status_code, 200)

    revoked = portal.dev.delete(f"/applications/{mistral['app_id']}/api-keys/{key_id}")
    assert revoked.status_code == 204, revoked.text
    eventually_sync(lambda: portal.chat(mistral["path"], key).status_code, 401, timeout=1.0)
    listed = portal.dev.get(f"/applications/{mistral['app_id']}/api-keys").json()["list"]
    assert [k["revoked"] for k in listed if k["id"] == key_id] == [True]
