"""Which IP addresses are public: the one definition the publisher (literal endpoint hosts) and
the gateway (every address a provider's name resolves to) both apply outside dev mode."""

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052's well-known prefix


def parse_networks(text: str, *, strict: bool = False) -> tuple[IPNetwork, ...]:
    """Comma-separated addresses or CIDR blocks; a ValueError names a bad one. `strict`
    refuses host bits (10.0.0.1/8): a mistake to report, not a network to guess."""
    networks = []
    for item in (part.strip() for part in text.split(",")):
        if item:
            try:
                networks.append(ipaddress.ip_network(item, strict=strict))
            except ValueError as exc:
                raise ValueError(f"not an IP address or network: {item!r} ({exc})") from None
    return tuple(networks)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (IPv4-mapped, NAT64 or 6to4), if any: a
    packet to it reaches that IPv4 address, so it is judged as that address."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
    return ip.sixtofour


def non_public_kind(ip: IPAddress) -> str | None:
    """What kind of non-public address `ip` is ("loopback", "link-local", "private",
    "multicast" or "reserved"), or None for a public (globally reachable unicast) one."""
    if isinstance(ip, ipaddress.IPv6Address):
        ip = embedded_ipv4(ip) or ip
    if ip.is_loopback or ip.is_unspecified:  # 0.0.0.0 and :: reach this host
        return "loopback"
    if ip.is_link_local:  # including the cloud metadata service, 169.254.169.254
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_private and not ip.is_reserved:  # RFC 1918, unique-local fc00::/7, ...
        return "private"
    if ip.is_reserved or not ip.is_global:  # 240/4, ::/8, 100.64/10, documentation, ...
        return "reserved"
    return None
