import ipaddress

from aigw.common.crypto import generate_master_key
from aigw.gateway.settings import Settings
from tests.support.offline import offline_bus_env


def test_body_limit_is_the_gateways_own_setting(monkeypatch):
    monkeypatch.setenv("AIGW_SECRET_KEY", generate_master_key())
    for name, value in offline_bus_env("gateway").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AIGW_MAX_BODY_BYTES", "1000")  # the management APIs' limit
    assert Settings().max_body_bytes == 10 * 1_048_576
    monkeypatch.setenv("GATEWAY_MAX_BODY_BYTES", "2048")
    assert Settings().max_body_bytes == 2048


def test_upstream_allowed_networks_come_from_the_environment(monkeypatch):
    for name, value in offline_bus_env("gateway").items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AIGW_SECRET_KEY", generate_master_key())
    assert Settings().upstream_allowed_network_list == ()
    monkeypatch.setenv("GATEWAY_UPSTREAM_ALLOWED_NETWORKS", "10.0.0.0/8, fd00::/8,")
    assert Settings().upstream_allowed_network_list == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("fd00::/8"),
    )
