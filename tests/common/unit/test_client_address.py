"""The client address per-source limits count: the TCP peer, X-Forwarded-For only through
proxies listed in AIGW_TRUSTED_PROXIES, IPv6 per /64."""

import pytest
from starlette.requests import Request

from aigw.common.addresses import parse_networks
from aigw.common.client_address import client_source

PROXIES = parse_networks("10.0.0.0/8, 192.0.2.1")


def _request(peer: str, forwarded: tuple[str, ...] = ()) -> Request:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return Request({"type": "http", "client": (peer, 5000), "headers": headers})


def test_the_peer_is_the_client_and_forwarded_for_is_ignored_from_anyone_else() -> None:
    assert client_source(_request("203.0.113.7", ("198.51.100.1",)), PROXIES) == "203.0.113.7"
    assert client_source(_request("10.1.2.3", ("198.51.100.1",))) == "10.1.2.3"  # none trusted


def test_through_trusted_proxies_the_first_untrusted_hop_from_the_right() -> None:
    chain = ("6.6.6.6, 198.51.100.1", "10.9.9.9")  # the client forged the left-most entry
    assert client_source(_request("10.0.0.5", chain), PROXIES) == "198.51.100.1"
    assert client_source(_request("192.0.2.1", ("203.0.113.8",)), PROXIES) == "203.0.113.8"


def test_a_garbled_chain_stops_at_the_last_good_hop() -> None:
    assert client_source(_request("10.0.0.5", ("not-an-ip, 10.2.2.2",)), PROXIES) == "10.2.2.2"


def test_ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() -> None:
    assert client_source(_request("2001:db8:1:2:aaaa::1")) == "2001:db8:1:2::/64"
    assert client_source(_request("2001:db8:1:2:bbbb::9")) == "2001:db8:1:2::/64"
    assert client_source(_request("::ffff:203.0.113.7")) == "203.0.113.7"


def test_a_bad_trusted_proxy_is_named() -> None:
    with pytest.raises(ValueError, match="nope"):
        parse_networks("10.0.0.0/8,nope")
