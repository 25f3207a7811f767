"""Gateway usage batches (aigw.usage.recorded) put straight into JetStream, as a gateway does."""

import uuid
from datetime import UTC, datetime
from typing import Any

from aigw.common.events import Envelope, UsageRecord, UsageRecorded, new_event
from tests.support.bus import publish


def record(api_id: str, application_id: str, **fields: Any) -> UsageRecord:
    values: dict[str, Any] = {
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


def batch(*records: UsageRecord) -> Envelope:
    payload = UsageRecorded(batch_id=uuid.uuid4().hex, gateway="gw-test", records=list(records))
    return new_event(payload, source="gateway", actor="gateway")


async def publish_batch(nats_url: str, event: Envelope, *, redelivery: bool = False) -> None:
    """Publish a batch; `redelivery` gives it a fresh message id, so JetStream stores it twice
    (as when a gateway re-sends after a lost ack past the de-duplication window)."""
    await publish(event, msg_id=uuid.uuid4().hex if redelivery else None)
