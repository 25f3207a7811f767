import pytest

from aigw.devportal.projection import consumer_name
from aigw.devportal.settings import Settings
from tests.support.offline import offline_bus_env


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
