"""Helpers for the metering and quota tests: plans, usage records, SSE parsing."""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from nats.js.api import DeliverPolicy

from aigw.common.events import (
    Envelope,
    PolicyUpdated,
    QuotaLimit,
    SubscriptionUpdated,
    UsageRecord,
    UsageRecorded,
)
from aigw.common.messaging import USAGE_STREAM_NAME
from tests.gateway.integration.conftest import Deployed, Publisher, RunningGateway
from tests.support.bus import connected

CHAT = {"model": "mistral-small", "messages": [{"role": "user", "content": "Count my tokens"}]}
PATH = "/v1/chat/completions"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def sse_data(raw: bytes) -> list[str]:
    return [e[6:] for e in raw.decode().split("\n\n") if e.startswith("data: ")]


async def set_plan(
    events: Publisher,
    gateway: RunningGateway,
    d: Deployed,
    *limits: QuotaLimit,
    default_completion_tokens: int = 256,
) -> str:
    """Create a plan with `limits` and move the deployed subscription to it."""
    name = f"plan-{d.unique}-{len(events.published)}"
    await events.publish(
        PolicyUpdated(
            name=name, limits=list(limits), default_completion_tokens=default_completion_tokens
        ),
        SubscriptionUpdated(
            subscription_id=f"sub-{d.unique}", application_id=d.app_id, api_id=d.api_id, policy=name
        ),
    )
    table = gateway.app.state.table
    await gateway.wait_until(lambda: table.subscription_policies.get((d.app_id, d.api_id)) == name)
    return name


class UsageTap:
    """Collects the usage records the gateways publish, for one API."""

    def __init__(self, api_id: str) -> None:
        self.api_id = api_id
        self.records: list[UsageRecord] = []
        self.batches: list[UsageRecorded] = []

    async def on_message(self, msg: Any) -> None:
        batch = UsageRecorded.from_envelope(Envelope.model_validate_json(msg.data))
        self.batches.append(batch)
        self.records += [r for r in batch.records if r.api_id == self.api_id]

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[UsageRecord]:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.records) < count:
            assert asyncio.get_running_loop().time() < deadline, self.records
            await asyncio.sleep(0.02)
        return self.records


@asynccontextmanager
async def usage_tap(events: Publisher, api_id: str) -> AsyncIterator[UsageTap]:
    """The usage batches stored from now on (read from the usage stream, as the provisioner:
    no service identity may listen on another's subjects)."""
    tap = UsageTap(api_id)
    async with connected() as nc:
        sub = await nc.jetstream().subscribe(
            UsageRecorded.TYPE,
            stream=USAGE_STREAM_NAME,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.NEW,
            cb=tap.on_message,
        )
        try:
            yield tap
        finally:
            await sub.unsubscribe()


def usage_of(body: dict[str, Any]) -> tuple[int, int, int]:
    usage = body["usage"]
    return usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]


def stream_usage(raw: bytes) -> tuple[int, int, int] | None:
    for data in sse_data(raw):
        if data != "[DONE]" and json.loads(data).get("usage"):
            return usage_of(json.loads(data))
    return None
