"""NATS_URL: one server or a cluster's, comma-separated, as the list nats-py takes."""

import pytest

from aigw.common.crypto import generate_master_key
from aigw.common.nats_servers import nats_servers, uses_tls
from aigw.common.settings import nats_tls_context
from aigw.gateway.settings import Settings as GatewaySettings
from tests.support.offline import offline_bus_settings


def test_one_url_is_a_list_of_one() -> None:
    assert nats_servers("nats://127.0.0.1:4222") == ["nats://127.0.0.1:4222"]


def test_a_cluster_is_every_server_in_order_spaces_ignored() -> None:
    url = "nats://n1:4222, nats://n2:4222 ,tls://n3:4222"
    assert nats_servers(url) == ["nats://n1:4222", "nats://n2:4222", "tls://n3:4222"]


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("", "empty"),
        ("nats://n1:4222,,nats://n2:4222", "empty entry"),
        ("nats://n1:4222,", "empty entry"),
        ("http://n1:4222", "must look like nats://host:port"),
        ("n1:4222", "must look like nats://host:port"),
        ("nats://n1:port", "not a valid URL"),
    ],
)
def test_a_malformed_entry_is_named(url: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        nats_servers(url)


def test_tls_is_on_when_any_server_is_a_tls_one() -> None:
    assert not uses_tls("nats://n1:4222,nats://n2:4222")
    assert uses_tls("nats://n1:4222,tls://n2:4222")
    assert nats_tls_context("nats://a:1,tls://b:2", None, None, None) is not None


def _gateway(nats_url: str) -> GatewaySettings:
    values = {**offline_bus_settings("gateway"), "secret_key": generate_master_key()}
    return GatewaySettings(**values, nats_url=nats_url)


def test_the_settings_take_a_list_and_refuse_a_bad_one() -> None:
    url = "nats://127.0.0.1:4222,nats://127.0.0.1:4223"
    assert _gateway(url).nats_servers == url.split(",")
    with pytest.raises(ValueError, match="NATS_URL entry"):
        _gateway("nats://a:1,ftp://b")
