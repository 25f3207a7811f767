"""NATS JetStream wiring: the streams that hold the events, and the signed message an event
is published as (the services publish through aigw.common.event_bus). No FastStream here:
the gateway imports this module and never needs the broker.

Two event streams, so that the gateway's replay never reads the bulk of the traffic:

- `AIGW_EVENTS`: every management event (`aigw.api.>`, `aigw.key.>`...), kept for good: it is
  what the gateway folds into its routing table and the audit trail;
- `AIGW_USAGE`: the gateways' usage batches (`aigw.usage.recorded`), read by publisher and
  devportal through durable consumers and kept `usage_max_age` (default 7 days).

And one key-value bucket, `AIGW_CACHE` (its stream `KV_AIGW_CACHE`): the gateways' shared
response cache (aigw.gateway.cache), one entry per key (the latest), nothing older than the
longest TTL an API may set, bounded in bytes (the oldest entries go first). And one object
store, `AIGW_SNAPSHOTS` (its stream `OBJ_AIGW_SNAPSHOTS`): the routing table's snapshot the
snapshotter writes and starting gateways read (aigw.gateway.routing.shared_snapshot).

Services never create or reconfigure streams (their NATS identities may not): `provision`,
run with the provisioner identity by `make run`, the tests and a deployment's set-up job, does.
"""

import logging
from datetime import timedelta

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from aigw.common.event_trust import EventSigner
from aigw.common.events import Envelope
from aigw.common.identity import (
    CACHE_BUCKET,
    CACHE_SUBJECTS,
    PUBLISHES,
    QUOTA_SYNC_SUBJECT,
    SNAPSHOT_BUCKET,
    SNAPSHOT_SUBJECTS,
    USAGE_SUBJECT,
)
from aigw.common.response_cache import MAX_TTL_SECONDS

log = logging.getLogger(__name__)

STREAM_NAME = "AIGW_EVENTS"
USAGE_STREAM_NAME = "AIGW_USAGE"
CACHE_STREAM_NAME = f"KV_{CACHE_BUCKET}"  # how JetStream names a key-value bucket's stream
SNAPSHOT_STREAM_NAME = f"OBJ_{SNAPSHOT_BUCKET}"  # and an object store's
# every event subject a service may publish, but usage (its own stream), quota sync (core
# NATS, outside any stream: ephemeral and high rate), the cache's keys and the snapshots'
# chunks (their buckets)
STREAM_SUBJECTS = [
    subject
    for subjects in PUBLISHES.values()
    for subject in subjects
    if subject not in (USAGE_SUBJECT, QUOTA_SYNC_SUBJECT, CACHE_SUBJECTS, SNAPSHOT_SUBJECTS)
]
USAGE_STREAM_SUBJECTS = ["aigw.usage.>"]
STREAMS = (STREAM_NAME, USAGE_STREAM_NAME)
DEFAULT_CACHE_MAX_BYTES = 1 << 30
# a few snapshots of a large table (80 MB at 130,000 events) while one replaces the other
SNAPSHOT_MAX_BYTES = 4 << 30
CACHE_MAX_ENTRY_BYTES = 4 * 1_048_576
DUPLICATE_WINDOW_SECONDS = 120.0
DEFAULT_USAGE_MAX_AGE = timedelta(days=7)

__all__ = [
    "CACHE_STREAM_NAME",
    "QUOTA_SYNC_SUBJECT",
    "SNAPSHOT_STREAM_NAME",
    "STREAMS",
    "STREAM_NAME",
    "STREAM_SUBJECTS",
    "USAGE_STREAM_NAME",
    "provision",
    "signed_message",
    "stream_for",
]


def stream_for(subject: str) -> str:
    return USAGE_STREAM_NAME if subject == USAGE_SUBJECT else STREAM_NAME


def stream_configs(usage_max_age: timedelta = DEFAULT_USAGE_MAX_AGE) -> list[StreamConfig]:
    return [*event_stream_configs(usage_max_age), cache_bucket_config(), snapshot_bucket_config()]


def cache_bucket_config(max_bytes: int = DEFAULT_CACHE_MAX_BYTES) -> StreamConfig:
    """The cache bucket's stream, as nats-py's `create_key_value` makes one (history 1), but
    discarding the oldest entries when full (a cache, not a record) and without rollups
    or deletes (entries expire; nothing else removes one)."""
    return StreamConfig(
        name=CACHE_STREAM_NAME,
        subjects=[CACHE_SUBJECTS],
        storage=StorageType.FILE,
        max_msgs_per_subject=1,
        max_age=float(MAX_TTL_SECONDS),
        max_bytes=max_bytes,
        max_msg_size=CACHE_MAX_ENTRY_BYTES,
        discard=DiscardPolicy.OLD,
        deny_delete=True,
        allow_direct=True,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
    )


def snapshot_bucket_config() -> StreamConfig:
    """The snapshots' object store, as nats-py's `create_object_store` makes one: chunks and
    one meta message per object (a new put rolls the old meta up; the writer purges the old
    chunks), bounded in bytes (a put that does not fit is refused, nothing is dropped)."""
    return StreamConfig(
        name=SNAPSHOT_STREAM_NAME,
        subjects=[f"$O.{SNAPSHOT_BUCKET}.C.>", f"$O.{SNAPSHOT_BUCKET}.M.>"],
        storage=StorageType.FILE,
        max_bytes=SNAPSHOT_MAX_BYTES,
        discard=DiscardPolicy.NEW,
        allow_rollup_hdrs=True,
        allow_direct=True,
    )


def event_stream_configs(usage_max_age: timedelta) -> list[StreamConfig]:
    return [
        StreamConfig(
            name=STREAM_NAME,
            subjects=STREAM_SUBJECTS,
            storage=StorageType.FILE,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
        ),
        StreamConfig(
            name=USAGE_STREAM_NAME,
            subjects=USAGE_STREAM_SUBJECTS,
            storage=StorageType.FILE,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
            max_age=usage_max_age.total_seconds(),
        ),
    ]


# Stream metadata set when a stream from before signed events is first provisioned: the last
# sequence it held then. Those events were published unsigned by the services of the time, and
# the gateway folds them without a signature; every later one must be signed. Only the
# provisioner may change a stream's configuration, so no service can move this mark.
UNSIGNED_THROUGH = "aigw_unsigned_through"
LEGACY_SUBJECTS = ["aigw.>"]


MAX_REPLICAS = 5  # JetStream's limit


async def provision(
    js: JetStreamContext, usage_max_age: timedelta = DEFAULT_USAGE_MAX_AGE, replicas: int = 1
) -> None:
    """Create the streams, or bring existing ones to this configuration (idempotent).

    A new stream gets `replicas` copies (a cluster's nodes). An existing one is moved up to
    `replicas` when it has fewer; one that has more keeps them (an operator scaled it up, or
    `AIGW_STREAM_REPLICAS` was left at its default): its replicas are never lowered here,
    and that is logged rather than done silently."""
    if not 1 <= replicas <= MAX_REPLICAS:
        raise ValueError(f"stream replicas must be 1 to {MAX_REPLICAS}, not {replicas}")
    for config in stream_configs(usage_max_age):
        config.num_replicas = replicas
        try:
            info = await js.stream_info(str(config.name))
        except NotFoundError:
            await js.add_stream(config)
            continue
        config.num_replicas = _kept_replicas(str(config.name), info.config.num_replicas, replicas)
        metadata = dict(info.config.metadata or {})
        if config.name == STREAM_NAME and info.config.subjects == LEGACY_SUBJECTS:
            metadata.setdefault(UNSIGNED_THROUGH, str(info.state.last_seq))
        if UNSIGNED_THROUGH in metadata:
            config.metadata = {
                **(config.metadata or {}),
                UNSIGNED_THROUGH: metadata[UNSIGNED_THROUGH],
            }
        await js.update_stream(config)


def _kept_replicas(stream: str, current: int | None, asked: int) -> int:
    """The replicas an existing stream is updated to: `asked`, or more if it has more."""
    have = current or 1
    if have > asked:
        log.warning(
            "stream %s keeps its %d replicas (asked for %d): provisioning never lowers a "
            "stream's replicas; lower them by hand if that is what you want",
            stream,
            have,
            asked,
        )
        return have
    if have < asked:
        log.info("stream %s: replicas %d -> %d", stream, have, asked)
    return asked


def unsigned_through(metadata: dict[str, str] | None) -> int:
    """The last sequence of events from before signing (0: every event must be signed)."""
    value = (metadata or {}).get(UNSIGNED_THROUGH, "0")
    return int(value) if value.isdigit() else 0


def signed_message(event: Envelope, signer: EventSigner) -> tuple[bytes, dict[str, str]]:
    """The event's body and headers: its id as the message id (de-duplication), its signature."""
    body = event.model_dump_json().encode()
    return body, {
        "Nats-Msg-Id": event.id,
        "content-type": "application/cloudevents+json",
        **signer.headers(event.type, body),
    }
