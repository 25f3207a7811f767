"""`python -m aigw.common.provision`: create or update the event streams, as the provisioner.

The services may not create or reconfigure streams (their NATS identities lack the rights), so
a deployment runs this once before them and after every upgrade: `make run` and the test
fixtures do the same. Reads NATS_URL, NATS_SEED_FILE (the provisioner's seed), the NATS_TLS_*
files and AIGW_USAGE_STREAM_MAX_AGE_DAYS.
"""

import asyncio
import os
import ssl
import sys
from datetime import timedelta
from pathlib import Path

import nats

from aigw.common.identity import PROVISIONER, Identity
from aigw.common.messaging import DEFAULT_USAGE_MAX_AGE, provision
from aigw.common.settings import nats_tls_context


async def provision_streams(
    nats_url: str,
    identity: Identity,
    usage_max_age: timedelta = DEFAULT_USAGE_MAX_AGE,
    tls: ssl.SSLContext | None = None,
) -> None:
    nc = await nats.connect(nats_url, connect_timeout=5, tls=tls, **identity.connect_options())
    try:
        await provision(nc.jetstream(), usage_max_age)
    finally:
        await nc.close()


def main() -> None:
    seed_file = os.environ.get("NATS_SEED_FILE")
    if not seed_file:
        sys.exit("provision: NATS_SEED_FILE (the provisioner's nkey seed) is required")
    nats_url = os.environ.get("NATS_URL", "nats://127.0.0.1:4222")
    days = float(os.environ.get("AIGW_USAGE_STREAM_MAX_AGE_DAYS", DEFAULT_USAGE_MAX_AGE.days))
    identity = Identity.load(PROVISIONER, Path(seed_file))
    files = (os.environ.get(f"NATS_TLS_{name}_FILE") for name in ("CA", "CERT", "KEY"))
    tls = nats_tls_context(nats_url, *(Path(f) if f else None for f in files))
    asyncio.run(provision_streams(nats_url, identity, timedelta(days=days), tls))
    print(f"provision: streams ready on {nats_url} (usage kept {days:g} days)")  # noqa: T201


if __name__ == "__main__":
    main()
