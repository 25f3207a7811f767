from collections.abc import AsyncIterator

import httpx
import pytest

from aigw.common.service_auth import ServiceAuth
from aigw.keymanager.settings import Settings
from tests.support.infra import Infra
from tests.support.keymanager import admin_token, km_settings, running


@pytest.fixture
def settings(infra: Infra, secret_key: str, unique: str) -> Settings:
    return km_settings(infra, secret_key, f"km_{unique}")


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with running(settings) as client:
        yield client


@pytest.fixture
async def auth(client: httpx.AsyncClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {await admin_token(client)}"}


@pytest.fixture
def as_devportal(secret_key: str) -> ServiceAuth:
    """Signs requests as devportal does: keymanager issues keys only on its signed request."""
    return ServiceAuth(secret_key, "devportal")
