"""Look for secrets, in plaintext or base64, in everything the platform keeps or says:
every document of every MongoDB database, every message on the event streams, the shared
routing table snapshot, every log file."""

import base64
import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
from bson import encode, json_util
from nats.js.errors import NotFoundError
from pymongo import AsyncMongoClient

from aigw.common.messaging import SNAPSHOT_STREAM_NAME, STREAMS

# The stand-in AI provider is meant to receive the provider keys: it is not scanned.
PROVIDER_STAND_IN_LOG = "mock-provider.log"


class StackSecrets(dict[str, str]):
    """name -> secret value, filled in as the walkthrough creates them."""


@dataclass(frozen=True)
class Finding:
    secret_name: str
    where: str


def encodings(secret: str) -> set[bytes]:
    """The secret's bytes, and the base64 text that carries them at any of the three byte
    alignments inside a longer value (e.g. `client_id:secret` in a Basic header)."""
    raw = secret.encode()
    forms = {raw}
    for offset in range(3):
        for encode_b64 in (base64.b64encode, base64.urlsafe_b64encode):
            text = encode_b64(b"\0" * offset + raw)
            # only the characters that depend on the secret's bytes alone
            start = 4 if offset else 0
            end = 4 * ((offset + len(raw)) // 3)
            if end - start >= 8:
                forms.add(text[start:end])
    return forms


def find(secrets: dict[str, str], blobs: Iterable[tuple[str, bytes]]) -> list[Finding]:
    patterns = {name: encodings(value) for name, value in secrets.items()}
    return [
        Finding(name, where)
        for where, blob in blobs
        for name, forms in patterns.items()
        if any(form in blob for form in forms)
    ]


async def mongo_blobs(mongodb_url: str) -> list[tuple[str, bytes]]:
    """Every document of every database, as its raw BSON and its extended-JSON text."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url)
    blobs = []
    try:
        for db_name in await client.list_database_names():
            db = client[db_name]
            for coll in await db.list_collection_names():
                async for doc in db[coll].find({}):
                    where = f"mongodb {db_name}.{coll} _id={doc.get('_id')}"
                    blobs.append((where, encode(doc) + json_util.dumps(doc).encode()))
    finally:
        await client.close()
    return blobs


async def stream_blobs(nats_url: str, options: dict[str, Any]) -> list[tuple[str, bytes]]:
    """Every message on the event streams of the NATS at `nats_url` (connected with
    `options`, the provisioner's): subject, headers and data."""
    blobs = []
    nc = await nats.connect(nats_url, **options)
    try:
        js = nc.jetstream()
        for stream in STREAMS:
            state = (await js.stream_info(stream)).state
            if state.messages == 0:
                continue
            for seq in range(state.first_seq, state.last_seq + 1):
                msg = await js.get_msg(stream, seq)
                headers = repr(msg.headers or {}).encode()
                where = f"stream {stream} seq {seq} {msg.subject}"
                blobs.append((where, headers + (msg.data or b"")))
        # the snapshot's chunks joined (a secret may straddle two), replaced ones purged
        state = (await js.stream_info(SNAPSHOT_STREAM_NAME)).state
        joined = b""
        for seq in range(state.first_seq, state.last_seq + 1):
            with contextlib.suppress(NotFoundError):
                joined += (await js.get_msg(SNAPSHOT_STREAM_NAME, seq)).data or b""
        if joined:
            blobs.append((f"object store {SNAPSHOT_STREAM_NAME}", joined))
    finally:
        await nc.close()
    return blobs


def log_blobs(logs_dir: Path) -> Iterator[tuple[str, bytes]]:
    for path in sorted(logs_dir.rglob("*")):
        if path.is_file() and path.name != PROVIDER_STAND_IN_LOG:
            yield f"log {path.name}", path.read_bytes()


async def scan(
    secrets: dict[str, str],
    mongodb_url: str,
    nats_url: str,
    nats_options: dict[str, Any],
    logs_dir: Path,
) -> list[Finding]:
    blobs = [
        *await mongo_blobs(mongodb_url),
        *await stream_blobs(nats_url, nats_options),
        *log_blobs(logs_dir),
    ]
    return find(secrets, blobs)
