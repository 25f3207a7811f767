"""`load_settings`, which every service's `__main__` starts with."""

import os
import subprocess
import sys

import pytest

from aigw.common.crypto import generate_master_key
from aigw.common.startup import load_settings
from aigw.keymanager.settings import Settings
from tests.support.offline import offline_bus_env

SECRET_PASSWORD = "do-not-print-me-0123456789"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "AIGW_SECRET_KEY",
        "AIGW_ADMIN_PASSWORD",
        "KEYMANAGER_PORT",
        "NATS_SEED_FILE",
        "AIGW_TRUST_FILE",
    ):
        monkeypatch.delenv(name, raising=False)


def test_missing_settings_are_named_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        load_settings(Settings)
    message = str(exited.value.code)
    assert message.startswith("keymanager: invalid settings:")
    assert "AIGW_SECRET_KEY: missing" in message
    assert "AIGW_ADMIN_PASSWORD: missing" in message


def test_invalid_settings_are_described_without_their_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bad_key = "not-a-valid-key-but-secret-" + SECRET_PASSWORD
    monkeypatch.setenv("AIGW_SECRET_KEY", bad_key)
    monkeypatch.setenv("AIGW_ADMIN_PASSWORD", SECRET_PASSWORD)
    monkeypatch.setenv("KEYMANAGER_PORT", "eighty")
    with pytest.raises(SystemExit) as exited:
        load_settings(Settings)
    message = str(exited.value.code)
    assert "AIGW_SECRET_KEY:" in message
    assert "KEYMANAGER_PORT:" in message
    assert SECRET_PASSWORD not in message
    assert "eighty" not in message


@pytest.mark.parametrize("service", ["publisher", "devportal", "keymanager", "gateway"])
def test_every_service_exits_1_naming_what_is_missing(service: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIGW_", "NATS_", "MONGODB_"))}
    env["AIGW_ADMIN_PASSWORD"] = SECRET_PASSWORD  # set, so only the secret key is missing
    done = subprocess.run(
        [sys.executable, "-m", f"aigw.{service}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert f"{service}: invalid settings:" in done.stderr
    assert "AIGW_SECRET_KEY: missing" in done.stderr
    assert "NATS_SEED_FILE: missing" in done.stderr  # no service starts without its identity
    assert "AIGW_TRUST_FILE: missing" in done.stderr
    assert "Traceback" not in done.stderr
    assert SECRET_PASSWORD not in done.stderr


def test_valid_settings_load(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in offline_bus_env("keymanager").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AIGW_SECRET_KEY", generate_master_key())
    monkeypatch.setenv("AIGW_ADMIN_PASSWORD", SECRET_PASSWORD)
    settings = load_settings(Settings)
    assert settings.admin_password.get_secret_value() == SECRET_PASSWORD
