"""How fast a management service stores the gateways' usage batches: records per second one
usage consumer sustains, and the store's CPU per record, on the embedded store as `make run`
uses it (mongoeco on a SQLite file; `--memory` for the in-memory engine the tests use, or
`--mongodb-url` for a real MongoDB).

A private nats-server (JetStream, the nkey credentials of aigw.devtools.nats_auth) and store;
`--records` usage records (default 20,000) published first, as the gateway publishes them
(signed `aigw.usage.recorded` batches of `--batch` records, 200 as the gateway's default), then
publisher's usage consumer (aigw.common.usage.consumer, in a ServiceRuntime as the service runs
it) drains the backlog: the drain rate is the rate it sustains. The store's CPU is read from
its process (/proc), the consumer's from this one.

    .venv/bin/python -m aigw.devtools.bench_usage_ingest [--records 20000] [--batch 200]
        [--memory | --mongodb-url URL]

A measurement, not a test.
"""

import argparse
import asyncio
import base64
import logging
import os
import random
import secrets
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import nats

from aigw.common.event_trust import EventSigner
from aigw.common.events import UsageRecord, UsageRecorded, new_event
from aigw.common.identity import PROVISIONER, Identity
from aigw.common.messaging import USAGE_STREAM_NAME, signed_message
from aigw.common.runtime import ServiceRuntime
from aigw.common.settings import UsageStoreSettings
from aigw.common.usage import store
from aigw.common.usage.consumer import consumer_name, usage_router
from aigw.devtools import nats_auth
from aigw.devtools.processes import ManagedProcess, free_port, mongo_store, nats_server

DATABASE = "bench_usage_ingest"
SERVICE = "publisher"
STATUSES = [200] * 97 + [429, 499, 502]
MODELS = ["mistral-small-2409", "mistral-large"]


class ConsumerSettings(UsageStoreSettings):
    IDENTITY: ClassVar[str] = SERVICE


def usage_records(count: int, start: datetime, seconds: float) -> list[UsageRecord]:
    """`count` calls spread over `seconds` from `start`, as many users make them: 20
    applications (each with one key type) over 5 APIs, 2 models, 97 in 100 answered."""
    rnd = random.Random(14)
    made = []
    for i in range(count):
        app = rnd.randrange(20)
        made.append(
            UsageRecord(
                record_id=uuid.uuid4().hex,
                request_id=uuid.uuid4().hex,
                time=start + timedelta(seconds=seconds * i / count),
                api_id=f"api-{app % 5}",
                application_id=f"app-{app}",
                subscriber=f"user-{app}",
                key_type="SANDBOX" if app % 4 == 0 else "PRODUCTION",
                requested_model="mistral-small-latest",
                served_model=MODELS[rnd.randrange(len(MODELS))],
                status=STATUSES[rnd.randrange(len(STATUSES))],
                stream=i % 3 == 0,
                prompt_tokens=20 + i % 7,
                completion_tokens=40 + i % 11,
                total_tokens=60 + i % 7 + i % 11,
                gateway_latency_ms=0.412,
                provider_latency_ms=120.5,
                time_to_first_token_ms=80.25 if i % 3 == 0 else None,
                target="https://api.mistral.ai",
            )
        )
    return made


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (and its waited-for children), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))
    return ticks / os.sysconf("SC_CLK_TCK")


async def publish_backlog(
    nats_url: str, credentials: Path, records: list[UsageRecord], size: int
) -> float:
    """Publish the records in gateway batches; returns the batches' publish rate (records/s)."""
    identity = Identity.load("gateway", nats_auth.seed_path(credentials, "gateway"))
    signer = EventSigner(identity)
    nc = await nats.connect(nats_url, **identity.connect_options())
    js = nc.jetstream()
    began = time.perf_counter()
    try:
        for i in range(0, len(records), size):
            batch_id = uuid.uuid4().hex
            payload = UsageRecorded(
                batch_id=batch_id, gateway="bench-gw", records=records[i : i + size]
            )
            event = new_event(payload, source="gateway", actor="bench-gw")
            event = event.model_copy(update={"id": batch_id})
            body, headers = signed_message(event, signer)
            await js.publish(event.type, body, headers=headers, stream=USAGE_STREAM_NAME)
    finally:
        await nc.close()
    return len(records) / (time.perf_counter() - began)


async def pending(nats_url: str, credentials: Path) -> int:
    """The consumer's backlog: messages not delivered yet plus those not acknowledged."""
    identity = Identity.load(PROVISIONER, nats_auth.seed_path(credentials, PROVISIONER))
    nc = await nats.connect(nats_url, **identity.connect_options())
    try:
        info = await nc.jetstream().consumer_info(
            USAGE_STREAM_NAME, consumer_name(SERVICE, DATABASE)
        )
        return int(info.num_pending or 0) + int(info.num_ack_pending or 0)
    except nats.js.errors.NotFoundError:
        return -1  # not created yet
    finally:
        await nc.close()


async def measure(
    nats_url: str,
    credentials: Path,
    mongodb_url: str,
    store_pid: int | None,
    args: argparse.Namespace,
) -> None:
    await nats_auth.provision_streams(nats_url, credentials)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    # as the gateways make them: the last `--spread` seconds of calls
    made = usage_records(args.records, now - timedelta(seconds=args.spread), args.spread)
    rate = await publish_backlog(nats_url, credentials, made, args.batch)
    keys = [
        len({(r.time.minute, r.api_id, r.application_id, r.served_model, r.status) for r in chunk})
        for chunk in (made[i : i + args.batch] for i in range(0, len(made), args.batch))
    ]
    print(
        f"published {len(made):,} records in batches of {args.batch}: {rate:,.0f} records/s "
        f"({sum(keys) / len(keys):.0f} rollup keys per batch)"
    )
    settings = ConsumerSettings(
        nats_url=nats_url,
        mongodb_url=mongodb_url,
        nats_seed_file=nats_auth.seed_path(credentials, SERVICE),
        trust_file=credentials / nats_auth.TRUST_FILE,
        secret_key=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    )
    runtime = ServiceRuntime(settings, database=DATABASE)
    async with runtime:
        await store.ensure_indexes(runtime.db)
    store_cpu = cpu_seconds(store_pid) if store_pid is not None else 0.0
    own_cpu = time.process_time()
    began = time.perf_counter()
    runtime = ServiceRuntime(settings, database=DATABASE, router=usage_router(SERVICE, DATABASE))
    async with runtime:
        while (left := await pending(nats_url, credentials)) != 0:
            await asyncio.sleep(0.25)
        elapsed = time.perf_counter() - began
        store_used = (cpu_seconds(store_pid) - store_cpu) if store_pid is not None else 0.0
        consumer_used = time.process_time() - own_cpu
        stored = await store.count_calls(runtime.db)
        assert left == 0
    count = len(made)
    print(f"stored {stored:,} records in {elapsed:.1f} s: {count / elapsed:,.0f} records/s")
    if store_pid is not None:
        print(
            f"store CPU {store_used:.1f} s: {store_used / count * 1e6:,.0f} µs per record "
            f"({store_used / elapsed:.0%} of a core)"
        )
    print(f"consumer CPU {consumer_used:.1f} s: {consumer_used / count * 1e6:,.0f} µs per record")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=200, help="records per usage batch")
    parser.add_argument("--spread", type=float, default=600.0, help="seconds the calls span")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--memory", action="store_true", help="the in-memory embedded store")
    where.add_argument("--mongodb-url", help="a MongoDB to use (its CPU is not measured)")
    args = parser.parse_args()
    logging.getLogger("faststream").setLevel(logging.WARNING)  # a line per batch otherwise
    with tempfile.TemporaryDirectory(prefix="aigw-bench-usage-") as tmp:
        work = Path(tmp)
        credentials = work / "credentials"
        nats_auth.ensure_credentials(credentials)
        nats_port = free_port()
        servers: list[ManagedProcess] = [
            nats_server(
                nats_port,
                work / "jetstream",
                credentials / nats_auth.SERVER_CONFIG,
                work / "nats.log",
            )
        ]
        db: ManagedProcess | None = None
        if args.mongodb_url is None:
            db = mongo_store(
                free_port(), None if args.memory else work / "store.sqlite", work / "store.log"
            )
            servers.append(db)
        try:
            for server in servers:
                server.start()
            for server in servers:
                server.wait_ready()
            url = args.mongodb_url or f"mongodb://127.0.0.1:{db.port}/?directConnection=true"  # type: ignore[union-attr]
            pid = db.proc.pid if db is not None and db.proc is not None else None
            asyncio.run(measure(f"nats://127.0.0.1:{nats_port}", credentials, url, pid, args))
        finally:
            for server in reversed(servers):
                server.stop()


if __name__ == "__main__":
    main()
