"""Putting publisher's API events straight into JetStream, and waiting for the catalogue."""

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx

from aigw.common.events import (
    ApiCreated,
    ApiDeleted,
    ApiPublished,
    ApiUpdated,
    Envelope,
    EventPayload,
    VendorRef,
    new_event,
)
from tests.support import bus
from tests.support.waiting import eventually

VENDOR = VendorRef(name="MistralAI", version="v1")

Check = Callable[[], Awaitable[bool]]


def api_event(payload: EventPayload, *, at: datetime | None = None) -> Envelope:
    event = new_event(payload, source="publisher", actor="admin")
    return event if at is None else event.model_copy(update={"time": at})


def published(api_id: str, name: str = "mistral", description: str = "") -> ApiPublished:
    return ApiPublished(
        api_id=api_id,
        name=name,
        context=name,
        version="0.0.2",
        route_prefix=f"{name}/0.0.2",
        vendor=VENDOR,
        description=description,
    )


def created(api_id: str) -> ApiCreated:
    return ApiCreated(
        api_id=api_id,
        name="draft",
        context="draft",
        version="1.0.0",
        vendor=VENDOR,
        lifecycle_status="CREATED",
    )


def updated(api_id: str, status: str = "PUBLISHED", description: str = "") -> ApiUpdated:
    return ApiUpdated(
        api_id=api_id,
        name="mistral",
        context="mistral",
        version="0.0.2",
        vendor=VENDOR,
        description=description,
        lifecycle_status=status,
    )


def deleted(api_id: str) -> ApiDeleted:
    return ApiDeleted(api_id=api_id)


async def publish(nats_url: str, *events: Envelope, msg_id: str | None = None) -> None:
    """As publisher's outbox does: the event id is the message id, unless a test replays."""
    await bus.publish(*events, msg_id=msg_id, url=nats_url)


async def wait_until(check: Check, timeout: float = 5.0) -> None:
    """Until `await check()` holds (`eventually`, as devportal's tests call it)."""
    await eventually(check, timeout=timeout, interval=0.05)


async def wait_for_api(client: httpx.AsyncClient, api_id: str, status: int = 200) -> None:
    await eventually(
        lambda: client.get(f"/apis/{api_id}"),
        lambda response: response.status_code == status,
        timeout=5.0,
        interval=0.05,
        what=f"GET /apis/{api_id} answering {status}",
    )


async def publish_api(client: httpx.AsyncClient, nats_url: str, name: str = "mistral") -> str:
    """A published API in the catalogue, ready to subscribe to."""
    api_id = str(uuid.uuid4())
    await publish(nats_url, api_event(published(api_id, name)))
    await wait_for_api(client, api_id)
    return api_id


def minutes_ago(minutes: int) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)
