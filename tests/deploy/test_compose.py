"""deploy/compose.yaml, as `docker compose config` resolves it: a 3-node NATS cluster, a
3-member MongoDB replica set, the services, two gateways and the snapshotter, each with its
health check and only its own secrets (no master key for the snapshotter), every secret a
mounted file."""

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from aigw.devtools import deploy_secrets, nats_auth
from tests.support.deploy import (
    COMPOSE_FILE,
    DEPLOY,
    PORTS,
    SECRET_NAME,
    aigw_services,
    compose_config,
)

NATS_NODES = ("nats-1", "nats-2", "nats-3")
MONGO_MEMBERS = ("mongo-1", "mongo-2", "mongo-3")
DATABASE_SERVICES = ("publisher", "devportal", "keymanager")


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return compose_config()


@pytest.fixture(scope="module")
def with_mock() -> dict[str, Any]:
    return compose_config("mock")


def _process(service: dict[str, Any]) -> str:
    return str(service["command"][0])  # the entrypoint's first argument


def _secret_targets(service: dict[str, Any]) -> dict[str, str]:
    """target name in /run/secrets -> the top-level secret it is."""
    secrets = service.get("secrets", [])
    return {Path(s.get("target", s["source"])).name: s["source"] for s in secrets}


def test_the_file_validates_with_and_without_the_mock_provider(config, with_mock) -> None:
    assert "mock-provider" not in config["services"]
    assert "mock-provider" in with_mock["services"]
    assert set(with_mock["services"]) - set(config["services"]) == {"mock-provider"}


def test_it_runs_every_service_two_gateways_and_one_snapshotter(config) -> None:
    processes = sorted(_process(s) for s in aigw_services(config).values())
    expected = ["provision", *DATABASE_SERVICES, "gateway", "gateway", "snapshotter"]
    assert processes == sorted(expected)


def test_a_three_node_nats_cluster_and_a_three_member_replica_set(config) -> None:
    services = config["services"]
    for node in NATS_NODES:
        assert services[node]["environment"]["NATS_SERVER_NAME"] == node
        assert "/etc/nats/cluster.conf" in services[node]["command"]
    for member in MONGO_MEMBERS:
        command = services[member]["command"]
        assert command[command.index("--replSet") + 1] == "rs0"
        assert "--keyFile" in command
    assert set(services["mongo-init"]["depends_on"]) == set(MONGO_MEMBERS)
    # each node and member keeps its own data
    volumes = {s: [v["source"] for v in services[s]["volumes"]] for s in NATS_NODES}
    assert len({tuple(v) for v in volumes.values()}) == 3


def test_no_infrastructure_port_is_published(config) -> None:
    for name in (*NATS_NODES, *MONGO_MEMBERS):
        assert "ports" not in config["services"][name], name


def test_every_long_running_container_has_a_health_check(config) -> None:
    for name, service in config["services"].items():
        if service.get("restart") == "no":  # the one-shot jobs: nats-setup, mongo-init
            continue
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"


def test_each_service_checks_its_own_readiness_path(config) -> None:
    for name, service in aigw_services(config).items():
        process = _process(service)
        if process == "provision":
            continue
        test = service["healthcheck"]["test"]
        assert test[:3] == ["CMD", "aigw-entrypoint", "health"], name
        assert test[3] == str(PORTS[process]), name  # the port the service listens on
        assert len(test) == 4, f"{name}: the default path, /health/ready"


def test_the_services_use_the_three_servers_and_three_stream_replicas(config) -> None:
    urls = "nats://nats-1:4222,nats://nats-2:4222,nats://nats-3:4222"
    for name, service in aigw_services(config).items():
        assert service["environment"]["NATS_URL"] == urls, name
        assert service["environment"]["AIGW_STREAM_REPLICAS"] == "3", name


def test_each_service_gets_only_its_own_secrets(config) -> None:
    for name, service in aigw_services(config).items():
        process = _process(service)
        identity = "provisioner" if process == "provision" else process
        secrets = _secret_targets(service)
        assert secrets["nats_seed"] == f"{identity}_seed", name
        expected = {"nats_seed"}
        if process != "provision":
            expected.add("nats_trust")
        if process not in ("provision", "snapshotter"):  # it folds sealed keys, never opens one
            expected.add("aigw_secret_key")
        if process in DATABASE_SERVICES:
            expected.add("mongodb_url")
        if process == "keymanager":
            expected.add("admin_password")
        assert set(secrets) == expected, name


def test_the_snapshotter_holds_no_master_key_and_publishes_no_port(config) -> None:
    snapshotter = config["services"]["snapshotter"]
    assert "aigw_secret_key" not in _secret_targets(snapshotter)
    assert not {"AIGW_SECRET_KEY", "AIGW_SECRET_KEY_FILE"} & set(snapshotter["environment"])
    assert "MONGODB_URL_FILE" not in snapshotter["environment"]
    assert "ports" not in snapshotter  # its /metrics is for the backend network's scraper


def test_no_secret_is_a_value_in_the_environment(config, with_mock) -> None:
    for name, service in with_mock["services"].items():
        for variable, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(variable):
                assert variable.endswith("_FILE"), f"{name}: {variable} holds a secret"
                assert str(value).startswith("/run/secrets/"), f"{name}: {variable}"
            assert not re.search(r"://[^/@\s]+:[^/@\s]+@", str(value)), f"{name}: {variable}"
        assert "MONGODB_URL" not in (service.get("environment") or {}), name


def test_the_aigw_containers_run_unprivileged_on_a_read_only_root(with_mock) -> None:
    for name, service in aigw_services(with_mock).items():
        assert service["user"] == "10001:10001", name  # AIGW_UID / AIGW_GID unset
        assert service["read_only"] is True, name
        assert service["cap_drop"] == ["ALL"], name
        assert "no-new-privileges:true" in service["security_opt"], name


def test_the_secret_files_are_those_make_deploy_credentials_writes(config, tmp_path) -> None:
    deploy_secrets.ensure_deploy_secrets(tmp_path)
    for name, secret in config["secrets"].items():
        written = tmp_path / Path(secret["file"]).name
        assert written.is_file(), f"{name}: make deploy-credentials writes no {written.name}"
        assert written.stat().st_mode & 0o077 == 0 or written.name in {
            nats_auth.TRUST_FILE,
            nats_auth.SERVER_CONFIG,
        }, f"{written.name} is readable by others"


def test_the_init_job_mounts_the_secrets_its_script_reads(config) -> None:
    script = (DEPLOY / "mongo" / "init-replica-set.js").read_text()
    read = set(re.findall(r'secret\("([a-z_]+)"\)', script))
    assert read == set(_secret_targets(config["services"]["mongo-init"]))


def test_the_nats_node_config_is_valid(tmp_path) -> None:
    nats_auth.ensure_credentials(tmp_path)  # nats-auth.conf, included by the node config
    (tmp_path / "cluster.conf").write_text((DEPLOY / "nats" / "cluster.conf").read_text())
    server = Path(sys.executable).with_name("nats-server")
    result = subprocess.run(
        [str(server), "-t", "-c", str(tmp_path / "cluster.conf")],
        env={"NATS_SERVER_NAME": "nats-1"},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_broken_compose_file_is_refused(tmp_path) -> None:
    broken = tmp_path / "compose.yaml"
    text = COMPOSE_FILE.read_text().replace("healthcheck:", "healthchek:", 1)
    broken.write_text(text)
    with pytest.raises(AssertionError, match="healthchek"):
        compose_config(file=broken)
