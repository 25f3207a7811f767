"""Which addresses the provider connections may go to (the pool checks each new one).

Endpoint URLs come from publishers, and a host name is whatever its DNS says when the gateway
connects, so the only place to keep provider calls off the gateway's own network (loopback,
the cloud metadata service, private networks) is where the connection is opened: every
address the name resolves to is checked, and the connection goes to a checked address.
"""

import ipaddress
from dataclasses import dataclass

from aigw.common.addresses import IPAddress, IPNetwork, embedded_ipv4, non_public_kind


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Public addresses, plus those in `allowed` (e.g. an organisation's own model server);
    `anywhere` (dev mode: providers on this machine) checks nothing and resolves nothing."""

    anywhere: bool = False
    allowed: tuple[IPNetwork, ...] = ()

    def refusal(self, address: str) -> str | None:
        """Why `address` (as getaddrinfo gives it) may not be connected to, e.g. "loopback";
        None if it may."""
        ip = ipaddress.ip_address(address)
        kind = non_public_kind(ip)
        if kind is None or self._allow_listed(ip):
            return None
        return kind

    def _allow_listed(self, ip: IPAddress) -> bool:
        candidates: list[IPAddress] = [ip]
        if isinstance(ip, ipaddress.IPv6Address) and (v4 := embedded_ipv4(ip)) is not None:
            candidates.append(v4)  # ::ffff:10.0.0.7 is in 10.0.0.0/8
        return any(c in network for c in candidates for network in self.allowed)


PUBLIC_ONLY = AddressPolicy()
ANY_ADDRESS = AddressPolicy(anywhere=True)
