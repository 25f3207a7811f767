"""`NATS_URL` as the list of servers nats-py and FastStream connect to.

One URL (`nats://127.0.0.1:4222`) or several, comma-separated, the nodes of a cluster
(`nats://n1:4222,nats://n2:4222,nats://n3:4222`). nats-py takes a list (`servers=[...]`) and
refuses the comma-separated string ("invalid connect url option"); given the list it tries
each node at start and, after losing one, reconnects to another (it also learns the cluster's
other nodes from the one it reaches). Every place that connects passes `nats_servers(url)`.
"""

from urllib.parse import urlsplit

SCHEMES = ("nats", "tls", "ws", "wss")


def nats_servers(url: str) -> list[str]:
    """The servers of `url`, in order; a clear ValueError for an empty or malformed entry."""
    servers = [part.strip() for part in url.split(",")]
    if not any(servers):
        raise ValueError("NATS_URL is empty: give one nats:// URL or several, comma-separated")
    for server in servers:
        _check(server)
    return servers


def uses_tls(url: str) -> bool:
    """Whether any server of `url` is a `tls://` one (TLS is then on for the connection)."""
    return any(server.startswith("tls://") for server in nats_servers(url))


def _check(server: str) -> None:
    if not server:
        raise ValueError("NATS_URL has an empty entry between commas")
    try:
        parts = urlsplit(server)
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError as exc:
        raise ValueError(f"NATS_URL entry {server!r} is not a valid URL: {exc}") from None
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise ValueError(
            f"NATS_URL entry {server!r} must look like nats://host:port "
            f"(schemes: {', '.join(SCHEMES)})"
        )
