"""Every setting is read from exactly one environment variable, and the README's
Configuration table (the operators' contract) names every one of them."""

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic_settings import BaseSettings

from aigw.common.crypto import generate_master_key
from aigw.common.settings import ServiceSettings, environment_name, setting
from aigw.devportal.settings import Settings as DevportalSettings
from aigw.devtools.rotate_secret_key import RotateSettings
from aigw.gateway.settings import Settings as GatewaySettings
from aigw.gateway.snapshotter import SnapshotterSettings
from aigw.keymanager.settings import Settings as KeymanagerSettings
from aigw.publisher.settings import Settings as PublisherSettings
from tests.support.offline import offline_bus_settings

README = Path(__file__).resolve().parents[3] / "README.md"

SERVICES: dict[str, type[ServiceSettings]] = {
    "publisher": PublisherSettings,
    "devportal": DevportalSettings,
    "keymanager": KeymanagerSettings,
    "gateway": GatewaySettings,
}
# `make rotate-secret-key` reads the services' variables (it runs as the publisher); the
# snapshotter is on the bus but no service (no master key, no management API)
EVERY_READER: dict[str, type[BaseSettings]] = {
    **SERVICES,
    "rotate": RotateSettings,
    "snapshotter": SnapshotterSettings,
}

# Rows of the table that no service's settings read: `python -m aigw.common.provision` and
# `make run` read them themselves.
READ_ELSEWHERE = {
    "AIGW_USAGE_STREAM_MAX_AGE_DAYS",
    "AIGW_STREAM_REPLICAS",
    "AIGW_DATA_DIR",
    "EMBEDDINGS_PORT",
    "MOCK_PROVIDER_PORT",
    "NATS_PORT",
    "MONGODB_PORT",
}
# Read since before this test, never given a row: the README gets them, then this set empties.
AWAITING_README_ROWS: set[str] = set()


def _required(cls: type[ServiceSettings], identity: str) -> dict[str, Any]:
    values: dict[str, Any] = {**offline_bus_settings(identity), "secret_key": generate_master_key()}
    if "admin_password" in cls.model_fields:
        values["admin_password"] = "x"
    return values


def _env_names(cls: type[BaseSettings]) -> dict[str, str]:
    names = {field: environment_name(info) for field, info in cls.model_fields.items()}
    assert None not in names.values(), f"{cls.__module__}: a field without setting(): {names}"
    return {field: name for field, name in names.items() if name is not None}


def documented_names() -> set[str]:
    """The variables in the first column of the README's Configuration table."""
    section = README.read_text().split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    assert len(rows) > 30, "the Configuration table was not found"
    names: set[str] = set()
    for cell in rows:
        for name in re.findall(r"`([A-Z<][A-Z0-9_<>]*)`", cell):
            if name.startswith("<SERVICE>_"):  # one per service with a database
                names |= {name.replace("<SERVICE>", s.upper()) for s in SERVICES if s != "gateway"}
            else:
                names.add(name)
    return names


def read_names() -> set[str]:
    return {name for cls in EVERY_READER.values() for name in _env_names(cls).values()}


@pytest.mark.parametrize("service", EVERY_READER)
def test_every_field_has_exactly_one_upper_case_environment_name(service: str) -> None:
    names = _env_names(EVERY_READER[service])
    assert all(name.isupper() for name in names.values())
    assert len(set(names.values())) == len(names), "two fields read the same variable"


@pytest.mark.parametrize("service", SERVICES)
def test_a_fields_own_name_is_never_read_from_the_environment(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cls = SERVICES[service]
    documented = _env_names(cls)
    own_names = [f.upper() for f in cls.model_fields if f.upper() != documented[f]]
    assert {"PORT", "HOST", "SECRET_KEY"} <= set(own_names)
    for name in own_names:
        monkeypatch.setenv(name, "not-a-value")  # read, it would fail validation or show
    values = cls(**_required(cls, service)).model_dump()
    assert "not-a-value" not in values.values()
    assert values["port"] == cls.model_fields["port"].default


@pytest.mark.parametrize("service", SERVICES)
def test_the_documented_name_is_read_and_the_field_name_is_a_keyword(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cls = SERVICES[service]
    port_variable = f"{service.upper()}_PORT"
    monkeypatch.setenv(port_variable, "9001")
    assert cls(**_required(cls, service)).model_dump()["port"] == 9001
    assert cls(**_required(cls, service), port=9002).model_dump()["port"] == 9002


def test_setting_refuses_a_name_that_is_not_an_environment_variable() -> None:
    with pytest.raises(ValueError, match="upper case"):
        setting(1, "gateway_port")


def test_the_readme_names_every_variable_the_services_read() -> None:
    assert read_names() - documented_names() == AWAITING_README_ROWS


def test_every_readme_row_is_still_read() -> None:
    assert documented_names() - read_names() == READ_ELSEWHERE


def test_services_inherit_only_the_settings_they_use() -> None:
    portal = {"publisher_public_url", "devportal_public_url", "keymanager_public_url"}
    for service in ("keymanager", "gateway"):
        fields = set(SERVICES[service].model_fields)
        assert not fields & (portal | {"usage_retention_days", "jwks_refresh_seconds"})
    assert "mongodb_url" not in GatewaySettings.model_fields  # the gateway has no database
    assert "dev_mode" not in DevportalSettings.model_fields
    assert "trusted_proxies" not in PublisherSettings.model_fields
    assert all("web_dir" in cls.model_fields for cls in SERVICES.values())  # /docs assets
    # the snapshotter never holds the master key (it keeps provider keys sealed)
    assert not {"secret_key", "previous_secret_keys"} & set(SnapshotterSettings.model_fields)
