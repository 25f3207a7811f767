"""`python -m aigw.common.provision`: create or update the event streams, as the provisioner.

The services may not create or reconfigure streams (their NATS identities lack the rights), so
a deployment runs this once before them and after every upgrade: `make run` and the test
fixtures do the same. Reads NATS_URL, NATS_SEED_FILE (the provisioner's seed), the NATS_TLS_*
files, AIGW_USAGE_STREAM_MAX_AGE_DAYS and AIGW_STREAM_REPLICAS (default 1: how many copies
of each stream a NATS cluster keeps; 3 on a 3-node cluster, so losing a node loses nothing and
stops nothing). NATS_URL may list a cluster's servers, comma-separated.
"""

import asyncio
import logging
import os
import ssl
import sys
from datetime import timedelta
from pathlib import Path

import nats

from aigw.common.identity import PROVISIONER, Identity
from aigw.common.messaging import DEFAULT_USAGE_MAX_AGE, MAX_REPLICAS, provision
from aigw.common.nats_servers import nats_servers
from aigw.common.settings import nats_tls_context


async def provision_streams(
    nats_url: str,
    identity: Identity,
    usage_max_age: timedelta = DEFAULT_USAGE_MAX_AGE,
    tls: ssl.SSLContext | None = None,
    replicas: int = 1,
) -> None:
    nc = await nats.connect(
        servers=nats_servers(nats_url), connect_timeout=5, tls=tls, **identity.connect_options()
    )
    try:
        await provision(nc.jetstream(), usage_max_age, replicas)
    finally:
        await nc.close()


def main() -> None:
    seed_file = os.environ.get("NATS_SEED_FILE")
    if not seed_file:
        sys.exit("provision: NATS_SEED_FILE (the provisioner's nkey seed) is required")
    nats_url = os.environ.get("NATS_URL", "nats://127.0.0.1:4222")
    days = float(os.environ.get("AIGW_USAGE_STREAM_MAX_AGE_DAYS", DEFAULT_USAGE_MAX_AGE.days))
    replicas = _replicas(os.environ.get("AIGW_STREAM_REPLICAS", "1"))
    logging.basicConfig(level=logging.INFO, format="provision: %(message)s")
    identity = Identity.load(PROVISIONER, Path(seed_file))
    files = (os.environ.get(f"NATS_TLS_{name}_FILE") for name in ("CA", "CERT", "KEY"))
    tls = nats_tls_context(nats_url, *(Path(f) if f else None for f in files))
    asyncio.run(provision_streams(nats_url, identity, timedelta(days=days), tls, replicas))
    print(  # noqa: T201
        f"provision: streams ready on {nats_url} (usage kept {days:g} days, "
        f"{replicas} replica{'s' if replicas > 1 else ''} asked)"
    )


def _replicas(value: str) -> int:
    if not value.strip().isdigit() or not 1 <= int(value) <= MAX_REPLICAS:
        sys.exit(f"provision: AIGW_STREAM_REPLICAS must be 1 to {MAX_REPLICAS}, not {value!r}")
    return int(value)


if __name__ == "__main__":
    main()
