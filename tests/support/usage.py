"""Usage records: made here as a gateway makes them (`record`, `batch`, `publish_batch`; the
calls its recorder takes, `call_record`), or
tapped from the usage stream as the gateways publish them (`usage_tap`)."""

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy

from aigw.common.events import (
    Envelope,
    UsageRecord,
    UsageRecorded,
    new_event,
)
from aigw.common.messaging import USAGE_STREAM_NAME
from aigw.gateway.metering.recorder import CallRecord
from tests.support.bus import connected, publish
from tests.support.waiting import eventually


def record(api_id: str, application_id: str, **fields: Any) -> UsageRecord:
    """One call's usage record, as a gateway writes it (`fields` override the defaults)."""
    values: dict[str, Any] = {
        "record_id": uuid.uuid4().hex,
        "request_id": uuid.uuid4().hex,
        "time": datetime.now(UTC),
        "api_id": api_id,
        "application_id": application_id,
        "subscriber": "alice",
        "key_type": "PRODUCTION",
        "requested_model": "mistral-small-latest",
        "served_model": "mistral-small-2409",
        "status": 200,
        "gateway_latency_ms": 0.4,
        "provider_latency_ms": 120.0,
    }
    values.update(fields)
    values.setdefault("prompt_tokens", 0)
    values.setdefault("completion_tokens", 0)
    values["total_tokens"] = values["prompt_tokens"] + values["completion_tokens"]
    return UsageRecord(**values)


def call_record(request_id: str, **fields: Any) -> CallRecord:
    """One call as the gateway's usage recorder takes it, before it is sealed into a record
    (`fields` override the defaults): what the recorder and spool tests feed it."""
    values: dict[str, Any] = {
        "at": time.time(),
        "request_id": request_id,
        "api_id": "api",
        "application_id": "app",
        "subscriber": "dev",
        "key_type": "PRODUCTION",
        "requested_model": "m",
        "served_model": "m",
        "prompt_tokens": 3,
        "completion_tokens": 4,
        "total_tokens": 7,
        "status": 200,
        "stream": False,
        "gateway_ms": 0.2,
        "provider_ms": 5.0,
        "ttft_ms": None,
        **fields,
    }
    return CallRecord(**values)


CACHE_AND_GUARDRAIL_COUNTERS = (
    "cacheHits",
    "cacheMisses",
    "cacheBypasses",
    "tokensSaved",
    "guardrailInterventions",
)
OUTCOME_COUNTERS = ("served", "refused", "abandoned", "errors", "estimated")


def counters(**counts: Any) -> dict[str, Any]:
    """A usage report's counters as the API answers them: `counts` (camelCase) and zero for
    the cache, guardrail and outcome counters it leaves out; a group's (with a `key`) has a
    `name`, null unless given."""
    named = {"name": None} if "key" in counts else {}
    zeros = dict.fromkeys(CACHE_AND_GUARDRAIL_COUNTERS + OUTCOME_COUNTERS, 0)
    return {**zeros, **named, **counts}


def batch(*records: UsageRecord) -> Envelope:
    """A gateway's usage batch (aigw.usage.recorded)."""
    payload = UsageRecorded(batch_id=uuid.uuid4().hex, gateway="gw-test", records=list(records))
    return new_event(payload, source="gateway", actor="gateway")


async def publish_batch(nats_url: str, event: Envelope, *, redelivery: bool = False) -> None:
    """Publish a batch (as the gateway identity, on the NATS at `nats_url`); `redelivery`
    gives it a fresh message id, so JetStream stores it twice (as when a gateway re-sends
    after a lost ack past the de-duplication window)."""
    await publish(event, msg_id=uuid.uuid4().hex if redelivery else None, url=nats_url)


class UsageTap:
    """Collects the usage records the gateways publish, for one API."""

    def __init__(self, api_id: str) -> None:
        self.api_id = api_id
        self.records: list[UsageRecord] = []
        self.batches: list[UsageRecorded] = []

    async def on_message(self, msg: Msg) -> None:
        batch = UsageRecorded.from_envelope(Envelope.model_validate_json(msg.data))
        self.batches.append(batch)
        self.records += [r for r in batch.records if r.api_id == self.api_id]

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[UsageRecord]:
        """The records once there are at least `count` of them."""
        await eventually(
            lambda: self.records,
            lambda records: len(records) >= count,
            timeout=timeout,
            what=f"{count} usage records of {self.api_id}",
        )
        return self.records


@asynccontextmanager
async def usage_tap(events: object, api_id: str) -> AsyncIterator[UsageTap]:
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
