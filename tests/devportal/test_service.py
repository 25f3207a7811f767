import httpx
import pytest

from aigw.devportal.projection import consumer_name
from aigw.devportal.settings import Settings
from tests.support.offline import offline_bus_env

pytestmark = pytest.mark.integration


async def test_health_metrics_and_openapi(devportal: httpx.AsyncClient) -> None:
    root = httpx.URL("http://devportal")
    assert (await devportal.get(root.join("/health/live"))).status_code == 200
    assert (await devportal.get(root.join("/health/ready"))).json() == {"status": "UP"}
    assert "aigw_http_requests" in (await devportal.get(root.join("/metrics"))).text
    paths = (await devportal.get(root.join("/openapi.json"))).json()["paths"]
    assert "/api/devportal/v1/apis/{api_id}/test-key" in paths


def test_settings_read_the_documented_environment(
    monkeypatch: pytest.MonkeyPatch, secret_key: str
) -> None:
    monkeypatch.setenv("AIGW_SECRET_KEY", secret_key)
    for name, value in offline_bus_env("devportal").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DEVPORTAL_PORT", "9102")
    monkeypatch.setenv("DEVPORTAL_MONGODB_DB", "portal")
    settings = Settings()
    assert (settings.port, settings.mongodb_db, settings.test_key_ttl_seconds) == (
        9102,
        "portal",
        3600,
    )


def test_consumer_name_is_a_valid_durable_name() -> None:
    assert consumer_name("catalog", "aigw.dev portal") == "devportal-catalog-aigw_dev_portal"
