"""The gateway's Prometheus labels are bounded: `api` is the deployed API's `name:version`
(`-` for a call that matched none), never a per-call or per-key value."""

import re

import pytest

from tests.support.gateway import CHAT, PATH, bearer

pytestmark = pytest.mark.integration


async def test_calls_are_labelled_by_name_and_version_and_unmatched_ones_by_a_dash(
    gateway, deployed_api
):
    d = deployed_api
    async with gateway.client() as client:
        for n in range(3):
            headers = {**bearer(d.production_key), "x-request-id": f"per-call-{n}"}
            await client.post(f"/{d.prefix}{PATH}", json=CHAT, headers=headers)
        await client.post(f"/{d.prefix}{PATH}", json=CHAT, headers=bearer("sk-unknown-key-42"))
        await client.post("/no/such/api/v1/chat/completions", json=CHAT)
        metrics = (await client.get("/metrics")).text
    assert f'aigw_gateway_requests_total{{api="{d.label}",model="mistral-small",status="200"}} 3.0' in metrics  # fmt: skip
    assert f'aigw_gateway_requests_total{{api="{d.label}",model="-",status="401"}} 1.0' in metrics
    assert 'aigw_gateway_requests_total{api="-",model="-",status="404"} 1.0' in metrics
    gateway_lines = [line for line in metrics.splitlines() if line.startswith("aigw_gateway_")]
    assert set(re.findall(r'api="([^"]*)"', "\n".join(gateway_lines))) == {d.label, "-"}
    for per_call in ("per-call-", "sk-unknown", d.production_key, d.api_id, d.app_id):
        assert per_call not in metrics
