"""Multi-model routing against mock endpoints that fail, slow down or throttle on demand:
weighted round robin, failover (status, timeout, connection error, streams before their first
byte), suspension and recovery, and no retry once a stream has started."""

import collections
import json
import time

import httpx
import pytest

from aigw.common.model_routing import RoutingPolicy
from aigw.devtools.processes import free_port
from tests.support.gateway import CHAT, PATH, bearer, sse_data
from tests.support.routed import routed_api, target
from tests.support.usage import usage_tap
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


async def test_weighted_round_robin_spreads_calls_by_weight_and_rewrites_the_model(
    events, gateway, mock_provider, mock
):
    policy = RoutingPolicy(targets=[target("a", "model-a", 3), target("b", "model-b", 1)])
    routed = await routed_api(events, gateway, mock_provider, mock, policy)
    served: collections.Counter[tuple[str, str]] = collections.Counter()
    async with gateway.client() as client:
        for _ in range(40):
            response = await routed.call(client)
            assert response.status_code == 200
            served[response.headers["x-aigw-target"], response.headers["x-aigw-model"]] += 1
            assert response.json()["model"] == response.headers["x-aigw-model"]
    assert served[("a", "model-a")] == pytest.approx(30, abs=2)
    assert served[("b", "model-b")] == pytest.approx(10, abs=2)
    assert sum(served.values()) == 40
    forwarded = await routed.forwarded_models()
    assert set(forwarded) == {("a", "model-a"), ("b", "model-b")}


async def test_a_target_without_a_model_keeps_the_callers_model(
    events, gateway, mock_provider, mock
):
    routed = await routed_api(
        events, gateway, mock_provider, mock, RoutingPolicy(targets=[target("a")])
    )
    async with gateway.client() as client:
        response = await routed.call(client, model="callers-choice")
    assert response.status_code == 200
    assert response.headers["x-aigw-model"] == "callers-choice"
    assert await routed.forwarded_models() == [("a", "callers-choice")]


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_failover_to_the_fallback_on_a_failing_status(
    events, gateway, mock_provider, mock, status
):
    policy = RoutingPolicy(targets=[target("a", "m-a")], fallbacks=[target("b", "m-b")])
    routed = await routed_api(events, gateway, mock_provider, mock, policy)
    await routed.misbehave(a={"failStatus": status})
    async with gateway.client() as client:
        response = await routed.call(client)
    assert response.status_code == 200
    assert response.headers["x-aigw-target"] == "b"
    assert response.json()["model"] == "m-b"
    assert await routed.seen() == {"a": 1, "b": 1}


async def test_a_client_error_is_not_failed_over(events, gateway, mock_provider, mock):
    policy = RoutingPolicy(targets=[target("a")], fallbacks=[target("b")])
    routed = await routed_api(events, gateway, mock_provider, mock, policy)
    await routed.misbehave(a={"failStatus": 400})
    async with gateway.client() as client:
        response = await routed.call(client)
    assert response.status_code == 400
    assert await routed.seen() == {"a": 1}


async def test_failover_on_timeout(events, gateway, mock_provider, mock):
    policy = RoutingPolicy(targets=[target("a")], fallbacks=[target("b")], timeout_seconds=0.3)
    routed = await routed_api(events, gateway, mock_provider, mock, policy)
    await routed.misbehave(a={"latencyMs": 3000})
    async with usage_tap(events, routed.deployed.api_id) as tap, gateway.client() as client:
        started = time.monotonic()
        response = await routed.call(client)
        elapsed = time.monotonic() - started
        [record] = await tap.wait_for(1)
    assert response.status_code == 200
    assert response.headers["x-aigw-target"] == "b"
    assert elapsed < 2.5  # the slow target was abandoned, not waited for
    # the abandoned target read the prompt too: its estimate is added, and flagged
    answered = response.json()["usage"]
    assert record.prompt_tokens > answered["prompt_tokens"]
    assert record.completion_tokens == answered["completion_tokens"]
    assert record.estimated


async def test_a_model_that_cannot_be_rewritten_is_refused(events, gateway, mock_provider, mock):
    routed = await routed_api(
        events, gateway, mock_provider, mock, RoutingPolicy(targets=[target("a", "cheap")])
    )
    async with gateway.client() as client:
        response = await routed.post(
            client, json.dumps({**CHAT, "model": "expensive"}).encode(), "text/plain"
        )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "model_not_rewritable"
    assert await routed.seen() == {}


async def test_a_model_set_only_on_a_fallback_is_checked_before_the_first_target(
    events, gateway, mock_provider, mock
):
    """Fallback requests are built only when tried: the refusal still comes up front."""
    policy = RoutingPolicy(targets=[target("a")], fallbacks=[target("b", "backup-model")])
    routed = await routed_api(events, gateway, mock_provider, mock, policy)
    async with gateway.client() as client:
        response = await routed.post(client, b'["not", "an", "object"]', "application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "model_not_rewritable"
    assert await routed.seen() == {}


async def test_an_empty_object_body_gets_the_target_model(events, gateway, mock_provider, mock):
    routed = await routed_api(
        events, gateway, mock_provider, mock, RoutingPolicy(targets=[target("a", "cheap")])
    )
    async with gateway.client() as client:
        response = await routed.post(client, b"{}", "application/json")
    assert response.headers["x-aigw-model"] == "cheap"
    assert await routed.forwarded_models() == [("a", "cheap")]


async def test_failover_on_connection_error(events, gateway, mock_provider, mock):
    closed = f"http://127.0.0.1:{free_port()}/nothing-listens"
    policy = RoutingPolicy(targets=[target("a")], fallbacks=[target("b")])
    routed = await routed_api(events, gateway, mock_provider, mock, policy, urls={"a": closed})
    async with gateway.client() as client:
        response = await routed.call(client)
    assert response.status_code == 200
    assert response.headers["x-aigw-target"] == "b"


async def test_when_every_target_fails_the_last_answer_is_relayed(
    events, gateway, mock_provider, mock
):
    policy = RoutingPolicy(targets=[target("a")], fallbacks=[target("b")])
    routed = await routed_api(events, gateway, mock_provider, mock, policy)
    await routed.misbehave(a={"failStatus": 503}, b={"failStatus": 429})
    async with gateway.client() as client:
        response = await routed.call(client)
    assert response.status_code == 429
    assert response.json()["error"]["type"] == "rate_limit_error"  # the provider's own body
    assert await routed.seen() == {"a": 1, "b": 1}


async def test_every_target_unreachable_is_a_502(events, gateway, mock_provider, mock):
    closed = f"http://127.0.0.1:{free_port()}/x"
    policy = RoutingPolicy(targets=[target("a")], fallbacks=[target("b")])
    routed = await routed_api(
        events, gateway, mock_provider, mock, policy, urls={"a": closed, "b": closed + "y"}
    )
    async with gateway.client() as client:
        response = await routed.call(client)
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "upstream_error"


async def test_a_failed_target_is_suspended_then_tried_again(events, gateway, mock_provider, mock):
    policy = RoutingPolicy(targets=[target("a")], fallbacks=[target("b")], suspend_seconds=0.5)
    routed = await routed_api(events, gateway, mock_provider, mock, policy)
    await routed.misbehave(a={"failStatus": 500})
    async with gateway.client() as client:
        first = await routed.call(client)
        await routed.misbehave()  # a is healthy again, but suspended
        during = [await routed.call(client) for _ in range(3)]
        assert await routed.seen() == {"a": 1, "b": 4}
        # the suspension (0.5 s) ends: a is picked again, while b serves until then
        after = await eventually(
            lambda: routed.call(client),
            lambda answer: answer.headers["x-aigw-target"] == "a",
            timeout=1.0,
            interval=0.05,
        )
    assert first.headers["x-aigw-target"] == "b"
    assert [r.headers["x-aigw-target"] for r in during] == ["b", "b", "b"]
    assert after.headers["x-aigw-target"] == "a"
    failures = gateway.app.invoker.metrics.target_failures.labels(
        routed.deployed.label, "a", "status"
    )._value.get()
    assert failures == 1


async def test_round_robin_skips_a_suspended_target(events, gateway, mock_provider, mock):
    policy = RoutingPolicy(targets=[target("a"), target("b")], suspend_seconds=30)
    routed = await routed_api(events, gateway, mock_provider, mock, policy)
    await routed.misbehave(a={"failStatus": 503})
    async with gateway.client() as client:
        answers = [await routed.call(client) for _ in range(6)]
    # a fails once (its 503 is relayed: no fallbacks), then only b is picked
    statuses = [r.status_code for r in answers]
    assert statuses.count(503) == 1
    assert [r.headers.get("x-aigw-target") for r in answers if r.status_code == 200] == ["b"] * 5


async def test_a_stream_fails_over_before_its_first_byte(events, gateway, mock_provider, mock):
    policy = RoutingPolicy(targets=[target("a")], fallbacks=[target("b")], timeout_seconds=0.3)
    routed = await routed_api(events, gateway, mock_provider, mock, policy)
    await routed.misbehave(a={"chunkDelayMs": 3000})  # headers at once, first event late
    async with gateway.client() as client:
        response = await routed.call(client, stream=True)
    assert response.status_code == 200
    assert response.headers["x-aigw-target"] == "b"
    data = sse_data(response.content)
    assert data[-1] == "[DONE]"
    assert f"[{routed.segments['b']}]" in "".join(
        json.loads(d)["choices"][0]["delta"].get("content") or "" for d in data[:-1]
    )


async def test_no_retry_once_a_stream_has_started(events, gateway, mock_provider, mock):
    policy = RoutingPolicy(targets=[target("a")], fallbacks=[target("b")])
    routed = await routed_api(events, gateway, mock_provider, mock, policy)
    await routed.misbehave(a={"breakAfterChunks": 2})
    received: list[bytes] = []
    headers: dict[str, str] = {}

    async def read_stream(client: httpx.AsyncClient) -> None:
        async with client.stream(
            "POST",
            f"/{routed.deployed.prefix}{PATH}",
            json={**CHAT, "stream": True},
            headers=bearer(routed.deployed.production_key),
        ) as response:
            headers.update(response.headers)
            async for chunk in response.aiter_bytes():
                received.append(chunk)

    async with gateway.client() as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await read_stream(client)
    assert headers["x-aigw-target"] == "a"
    raw = b"".join(received)
    assert b"[DONE]" not in raw
    assert raw.count(b"data: ") >= 1
    assert await routed.seen() == {"a": 1}


async def test_usage_records_the_served_model_and_target(events, gateway, mock_provider, mock):
    policy = RoutingPolicy(targets=[target("a", "m-a")], fallbacks=[target("b", "m-b")])
    routed = await routed_api(events, gateway, mock_provider, mock, policy)
    await routed.misbehave(a={"failStatus": 502})
    async with usage_tap(events, routed.deployed.api_id) as tap, gateway.client() as client:
        response = await routed.call(client, model="asked-for")
        [record] = await tap.wait_for(1)
    assert response.status_code == 200
    assert record.requested_model == "asked-for"
    assert record.served_model == "m-b"
    assert record.target == "b"
    assert record.total_tokens == response.json()["usage"]["total_tokens"]


async def test_a_key_type_without_a_policy_calls_its_endpoint(events, gateway, mock_provider, mock):
    policy = RoutingPolicy(targets=[target("a", "m-a")])
    routed = await routed_api(events, gateway, mock_provider, mock, policy)
    async with gateway.client() as client:
        response = await client.post(
            f"/{routed.deployed.prefix}{PATH}",
            json=CHAT,
            headers=bearer(routed.deployed.sandbox_key),
        )
    assert response.status_code == 200
    assert "x-aigw-target" not in response.headers
    assert response.json()["model"] == CHAT["model"]
