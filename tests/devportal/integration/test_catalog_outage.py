"""While NATS is down devportal cannot know of an API published meanwhile (its event waits in
publisher's outbox), so an API its catalogue does not hold is "not known yet, try again"
(503 with Retry-After), never a wrong "is not published" (404); one it holds is served as
always. Once NATS is back and the event folded, the API is there (issue 14)."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from aigw.devportal.app import API_PREFIX, create_app
from aigw.devportal.settings import Settings
from tests.support.devportal import published, wait_for_api
from tests.support.fake_keymanager import FakeKeymanager
from tests.support.infra import Infra
from tests.support.nats_nodes import NatsNode, publish_on
from tests.support.tokens import TestSigner
from tests.support.waiting import LIFESPAN_BOUNDS, eventually

pytestmark = pytest.mark.integration


@pytest.fixture
async def devportal(
    node: NatsNode, infra: Infra, secret_key: str, unique: str, signer: TestSigner
) -> AsyncIterator[tuple[httpx.AsyncClient, object]]:
    settings = Settings(
        **{**infra.bus_settings("devportal"), "nats_url": node.url},
        mongodb_url=infra.mongodb_url,
        secret_key=secret_key,
        mongodb_db=f"dpout_{unique}",
    )
    app = create_app(
        settings,
        jwks_fetcher=signer.fetch_jwks,
        keymanager_transport=httpx.MockTransport(FakeKeymanager().handle),
    )
    async with (
        LifespanManager(app, **LIFESPAN_BOUNDS) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app),
            base_url=f"http://devportal{API_PREFIX}",
            headers=signer.auth("alice", ("subscriber",)),
        ) as client,
    ):
        yield client, app


async def test_an_api_devportal_cannot_know_of_yet_is_503_not_404(
    node: NatsNode, infra: Infra, devportal: tuple[httpx.AsyncClient, object]
) -> None:
    client, app = devportal
    known, later = str(uuid.uuid4()), str(uuid.uuid4())
    await publish_on(node.url, infra, published(known, f"known{known[:6]}"))
    await wait_for_api(client, known)
    application = await client.post("/applications", json={"name": "outage"})
    assert application.status_code == 201, application.text
    app_id = application.json()["id"]

    node.stop()
    broker = app.state.runtime.broker  # type: ignore[attr-defined]
    await eventually(lambda: not broker.connection.is_connected)

    assert (await client.get(f"/apis/{known}")).status_code == 200  # what it holds, it serves
    unknown = await client.get(f"/apis/{later}")
    assert unknown.status_code == 503, unknown.text
    assert unknown.headers["Retry-After"].isdigit()
    assert "not known yet" in unknown.json()["description"]
    subscribe = {"applicationId": app_id, "apiId": later, "policy": "Unlimited"}
    refused = await client.post("/subscriptions", json=subscribe)
    assert refused.status_code == 503, refused.text
    assert refused.headers["Retry-After"].isdigit()

    node.start()
    await publish_on(node.url, infra, published(later, f"later{later[:6]}"))  # as the outbox would
    await wait_for_api(client, later)
    subscribed = await client.post("/subscriptions", json=subscribe)
    assert subscribed.status_code == 201, subscribed.text
    assert (await client.get(f"/apis/{uuid.uuid4()}")).status_code == 404  # and 404 again


async def test_an_unknown_api_is_404_while_the_stream_is_busy(
    node: NatsNode, infra: Infra, devportal: tuple[httpx.AsyncClient, object]
) -> None:
    """Events published after the question do not make devportal unsure: with other APIs'
    events arriving all the while, an API the stream never held is a 404, not a 503."""
    client, _ = devportal
    first = str(uuid.uuid4())
    await publish_on(node.url, infra, published(first, f"busy{first[:6]}"))
    await wait_for_api(client, first)

    async def busy() -> None:
        for _ in range(40):
            other = str(uuid.uuid4())
            await publish_on(node.url, infra, published(other, f"busy{other[:6]}"))

    traffic = asyncio.create_task(busy())
    try:
        answers = [(await client.get(f"/apis/{uuid.uuid4()}")).status_code for _ in range(5)]
    finally:
        await traffic
    assert answers == [404] * 5
