import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from pymongo.asynchronous.collection import AsyncCollection

from aigw.common.mongo import create_client
from aigw.devportal.app import API_PREFIX, create_app
from aigw.devportal.catalog.repository import COLLECTION
from aigw.devportal.projection import event_micros
from aigw.devportal.settings import Settings
from tests.support.bus import connected
from tests.support.devportal import (
    api_event,
    created,
    deleted,
    minutes_ago,
    publish,
    published,
    updated,
    wait_for_api,
    wait_until,
)
from tests.support.infra import Infra
from tests.support.tokens import TestSigner
from tests.support.waiting import LIFESPAN_BOUNDS, eventually

pytestmark = pytest.mark.integration


def new_id() -> str:
    return str(uuid.uuid4())


async def listed_ids(client: httpx.AsyncClient) -> list[str]:
    body = (await client.get("/apis")).json()
    assert body["count"] == len(body["list"])
    return [api["id"] for api in body["list"]]


async def test_published_api_is_listed_with_its_public_shape(
    devportal: httpx.AsyncClient, infra: Infra
) -> None:
    api_id = new_id()
    await publish(infra.nats_url, api_event(published(api_id, "mistralaiapi", "Mistral chat")))
    await wait_for_api(devportal, api_id)

    api = (await devportal.get(f"/apis/{api_id}")).json()
    assert api == {
        "id": api_id,
        "name": "mistralaiapi",
        "context": "mistralaiapi",
        "version": "0.0.2",
        "routePrefix": "mistralaiapi/0.0.2",
        "aiVendor": {"name": "MistralAI", "version": "v1"},
        "description": "Mistral chat",
        "lifecycleStatus": "PUBLISHED",
        "policies": ["Unlimited"],
    }
    assert api_id in await listed_ids(devportal)


async def test_created_but_unpublished_api_is_not_listed(
    devportal: httpx.AsyncClient, infra: Infra
) -> None:
    draft, marker = new_id(), new_id()
    # one consumer applies events in stream order: once the marker shows, the draft was seen
    await publish(infra.nats_url, api_event(created(draft)), api_event(published(marker)))
    await wait_for_api(devportal, marker)

    assert draft not in await listed_ids(devportal)
    assert (await devportal.get(f"/apis/{draft}")).status_code == 404


async def test_deleted_api_leaves_the_catalogue(devportal: httpx.AsyncClient, infra: Infra) -> None:
    api_id = new_id()
    await publish(infra.nats_url, api_event(published(api_id)))
    await wait_for_api(devportal, api_id)

    await publish(infra.nats_url, api_event(deleted(api_id)))
    await wait_for_api(devportal, api_id, status=404)
    assert api_id not in await listed_ids(devportal)


async def test_update_changes_details_and_leaving_published_unlists(
    devportal: httpx.AsyncClient, infra: Infra
) -> None:
    api_id = new_id()
    await publish(infra.nats_url, api_event(published(api_id)))
    await publish(infra.nats_url, api_event(updated(api_id, description="now with streaming")))
    await wait_for_api(devportal, api_id)
    await _wait_for_description(devportal, api_id, "now with streaming")
    assert (await devportal.get(f"/apis/{api_id}")).json()["routePrefix"] == "mistral/0.0.2"

    await publish(infra.nats_url, api_event(updated(api_id, status="DEPRECATED")))
    await wait_for_api(devportal, api_id, status=404)


async def test_replaying_an_event_leaves_the_entry_untouched(
    devportal: httpx.AsyncClient, infra: Infra, settings: Settings
) -> None:
    api_id = new_id()
    event = api_event(published(api_id, description="as published"))
    await publish(infra.nats_url, event)
    await wait_for_api(devportal, api_id)
    async with _catalog(settings) as catalog:
        stored = await catalog.find_one({"_id": api_id})
        assert stored is not None
        assert stored["event_us"] == event_micros(event.time)
        assert stored["description"] == "as published"
        # a sentinel the event does not carry: a replay that were applied would overwrite it
        await catalog.update_one({"_id": api_id}, {"$set": {"description": "sentinel"}})
        before = await catalog.find_one({"_id": api_id})

        # the same envelope again under another message id, so JetStream does not drop it
        await publish(infra.nats_url, event, msg_id=new_id())
        marker = new_id()
        await publish(infra.nats_url, api_event(published(marker)))
        await wait_for_api(devportal, marker)  # one consumer, in order: the replay was handled

        assert await catalog.find_one({"_id": api_id}) == before
    assert (await listed_ids(devportal)).count(api_id) == 1


async def test_an_older_event_does_not_undo_a_newer_one(
    devportal: httpx.AsyncClient, infra: Infra
) -> None:
    api_id, marker = new_id(), new_id()
    newer = api_event(published(api_id, description="newer"), at=minutes_ago(1))
    older_update = api_event(updated(api_id, description="older"), at=minutes_ago(5))
    older_delete = api_event(deleted(api_id), at=minutes_ago(4))
    await publish(infra.nats_url, newer, older_update, older_delete)
    await publish(infra.nats_url, api_event(published(marker)))
    await wait_for_api(devportal, marker)

    api = (await devportal.get(f"/apis/{api_id}")).json()
    assert api["description"] == "newer"


async def test_deleted_api_is_not_revived_by_a_late_publish(
    devportal: httpx.AsyncClient, infra: Infra
) -> None:
    api_id, marker = new_id(), new_id()
    late_publish = api_event(published(api_id), at=minutes_ago(3))
    await publish(infra.nats_url, api_event(deleted(api_id)), late_publish)
    await publish(infra.nats_url, api_event(published(marker)))
    await wait_for_api(devportal, marker)

    assert (await devportal.get(f"/apis/{api_id}")).status_code == 404


async def test_malformed_event_is_skipped(devportal: httpx.AsyncClient, infra: Infra) -> None:
    async with connected("publisher", infra.nats_url) as nc:
        body = b'{"not": "an envelope"}'
        signed = infra.signer("publisher").headers("aigw.api.published", body)
        await nc.jetstream().publish("aigw.api.published", body, headers=signed)
    marker = new_id()
    await publish(infra.nats_url, api_event(published(marker)))
    await wait_for_api(devportal, marker)


async def test_catalogue_needs_a_token_and_unknown_api_is_404(
    devportal: httpx.AsyncClient,
) -> None:
    response = await devportal.get("/apis", headers={"Authorization": ""})
    assert response.status_code == 401
    assert response.json()["code"] == 401

    # a devportal just started may still be folding the stream: "not known yet" (503) until
    # its catalogue has caught up, then a plain 404
    response = await eventually(
        lambda: devportal.get(f"/apis/{new_id()}"), lambda r: r.status_code != 503
    )
    assert response.status_code == 404
    assert set(response.json()) == {"code", "message", "description"}


async def _wait_for_description(client: httpx.AsyncClient, api_id: str, text: str) -> None:
    async def check() -> bool:
        api = (await client.get(f"/apis/{api_id}")).json()
        return bool(api.get("description") == text)

    await wait_until(check)


async def test_a_restart_resumes_the_same_consumer(
    settings: Settings, signer: TestSigner, infra: Infra
) -> None:
    first, second = new_id(), new_id()
    async with _portal(settings, signer) as client:
        await publish(infra.nats_url, api_event(published(first)))
        await wait_for_api(client, first)
    # published while devportal is down: the durable consumer keeps it for the next start
    await publish(infra.nats_url, api_event(published(second)))
    async with _portal(settings, signer) as client:
        await wait_for_api(client, second)
        assert first in await listed_ids(client)


@contextlib.asynccontextmanager
async def _catalog(settings: Settings) -> AsyncIterator[AsyncCollection[dict[str, Any]]]:
    """devportal's catalogue collection, read and written directly."""
    client = create_client(settings.mongodb_url)
    try:
        yield client[settings.mongodb_db][COLLECTION]
    finally:
        await client.close()


@contextlib.asynccontextmanager
async def _portal(settings: Settings, signer: TestSigner) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, jwks_fetcher=signer.fetch_jwks)
    async with (
        LifespanManager(app, **LIFESPAN_BOUNDS) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app),
            base_url=f"http://devportal{API_PREFIX}",
            headers=signer.auth("carol", ("subscriber",)),
        ) as client,
    ):
        yield client


async def test_an_unsigned_publish_never_reaches_the_catalogue(
    devportal: httpx.AsyncClient, infra: Infra
) -> None:
    """A forged aigw.api.published on publisher's own NATS connection, without publisher's
    signature, is dropped and counted; the next signed event still arrives."""
    forged, marker = new_id(), new_id()
    event = api_event(published(forged, "forged"))
    async with connected("publisher", infra.nats_url) as nc:
        await nc.jetstream().publish(event.type, event.model_dump_json().encode())
    await publish(infra.nats_url, api_event(published(marker)))
    await wait_for_api(devportal, marker)

    assert (await devportal.get(f"/apis/{forged}")).status_code == 404
    metrics = (await devportal.get("http://devportal/metrics")).text
    assert 'aigw_events_rejected_total{reason="unsigned"}' in metrics
