"""`make run` prints where everything is, never a password inside a MONGODB_URL."""

from pathlib import Path

import pytest

from aigw.devtools.run import _banner, without_password
from aigw.devtools.stack import Ports, Stack, StackConfig


@pytest.mark.parametrize(
    ("url", "printed"),
    [
        (
            "mongodb://aigw:s3cr%40t@mongo:27017/?replicaSet=rs0",
            "mongodb://aigw:***@mongo:27017/?replicaSet=rs0",
        ),
        (
            "mongodb://127.0.0.1:27017/?directConnection=true",
            "mongodb://127.0.0.1:27017/?directConnection=true",
        ),
        (
            "mongodb+srv://user:pw@cluster.example.net/db",
            "mongodb+srv://user:***@cluster.example.net/db",
        ),
    ],
)
def test_the_password_is_masked(url: str, printed: str) -> None:
    assert without_password(url) == printed


def test_the_banner_names_the_three_portals(tmp_path: Path) -> None:
    stack = Stack(StackConfig(data_dir=tmp_path, secret_key="k", admin_password="admin"))
    banner = _banner(stack, [])
    assert "Publisher Portal  http://127.0.0.1:8001/publisher" in banner
    assert "Admin Portal      http://127.0.0.1:8001/admin" in banner
    assert "Developer Portal  http://127.0.0.1:8002/devportal" in banner
    assert "snapshotter    http://127.0.0.1:8004/metrics  (the gateways' shared" in banner


def test_other_ports_are_printed_for_the_walkthrough(tmp_path: Path) -> None:
    ports = Ports(publisher=9001, gateway=9280, nats=5222)
    config = StackConfig(data_dir=tmp_path, secret_key="k", admin_password="admin", ports=ports)
    banner = _banner(Stack(config), [])
    assert "walkthrough in another shell: export PUBLISHER_PORT=9001 GATEWAY_PORT=9280\n" in (
        banner + "\n"
    )
    default = StackConfig(data_dir=tmp_path, secret_key="k", admin_password="admin")
    assert "walkthrough" not in _banner(Stack(default), [])
