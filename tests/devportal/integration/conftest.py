from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from aigw.devportal.app import API_PREFIX, create_app
from aigw.devportal.settings import Settings
from tests.support.fake_keymanager import FakeKeymanager
from tests.support.infra import Infra
from tests.support.nats_nodes import own_nats
from tests.support.tokens import TestSigner
from tests.support.waiting import LIFESPAN_BOUNDS


@pytest.fixture(scope="module")
def infra(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Infra]:
    """The session's store and credentials, a NATS of the module's own (own_nats: each test's
    fresh devportal database replays the stream from its first event)."""
    with own_nats(infra, tmp_path_factory.mktemp("nats")) as own:
        yield own


@pytest.fixture
def keymanager() -> FakeKeymanager:
    return FakeKeymanager()


@pytest.fixture
def settings(infra: Infra, secret_key: str, unique: str) -> Settings:
    return Settings(
        **infra.bus_settings("devportal"),
        mongodb_url=infra.mongodb_url,
        secret_key=secret_key,
        mongodb_db=f"dp_{unique}",
        usage_calls_retention_days=0,  # the tests' calls are dated in the past
    )


@pytest.fixture
async def devportal(
    settings: Settings, signer: TestSigner, keymanager: FakeKeymanager
) -> AsyncIterator[httpx.AsyncClient]:
    """devportal on real NATS and store, keymanager stood in; requests as alice by default."""
    app = create_app(
        settings,
        jwks_fetcher=signer.fetch_jwks,
        keymanager_transport=httpx.MockTransport(keymanager.handle),
    )
    async with (
        LifespanManager(app, **LIFESPAN_BOUNDS) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app),
            base_url=f"http://devportal{API_PREFIX}",
            headers=signer.auth("alice", ("subscriber",)),
        ) as client,
    ):
        yield client


@pytest.fixture
def bob(signer: TestSigner) -> dict[str, str]:
    return signer.auth("bob", ("subscriber",))
