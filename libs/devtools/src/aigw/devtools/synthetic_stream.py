"""A realistic, signed event stream of any size, for measuring the gateway's replay.

What the management services would have published for a platform of `Shape`'s size: the
business plans, every API's deployed revision (a built-in vendor, production and sandbox
endpoints with their provider keys sealed as the publisher seals them), the applications,
their subscriptions and their API keys (hashes only), each event signed by the service that
emits it. `payloads` makes them (deterministic: the same shape, the same events but for the
ciphertexts' nonces), `write` publishes them into a real, authenticated JetStream as each
emitter (its own NATS identity), pipelined.

    python -m aigw.devtools.synthetic_stream --nats-url nats://127.0.0.1:4222 \\
        --credentials .data/credentials --secret-key "$AIGW_SECRET_KEY" --apis 10000 --keys 100000
"""

import argparse
import asyncio
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import nats
from nats.aio.client import Client as NatsClient
from nats.js import JetStreamContext
from nats.js.api import PubAck

from aigw.common.crypto import SecretBox, provider_key_context, sha256_hex
from aigw.common.event_trust import EventSigner
from aigw.common.events import (
    ApiDeployed,
    ApplicationCreated,
    DeployedEndpoint,
    EventPayload,
    KeyIssued,
    PolicyUpdated,
    QuotaLimit,
    SubscriptionCreated,
    new_event,
)
from aigw.common.identity import Identity, emitter_of
from aigw.common.messaging import signed_message
from aigw.common.vendors import BUILT_IN_VENDORS
from aigw.devtools import nats_auth

PLANS = ("Unlimited", "Gold", "Silver", "Bronze")
IN_FLIGHT = 512  # publishes awaiting their acknowledgement, per connection


@dataclass(frozen=True)
class Shape:
    apis: int = 10_000
    applications: int = 10_000
    keys: int = 100_000
    subscriptions: int = 10_000
    upstream: str = "http://127.0.0.1:8090"  # the mock provider: every API's endpoints

    @property
    def events(self) -> int:
        return len(PLANS) + self.apis + self.applications + self.keys + self.subscriptions


def api_id(i: int) -> str:
    return f"api-{i:06d}"


def route_prefix(i: int) -> str:
    return f"synthetic{i}/1.0"


def application_id(i: int) -> str:
    return f"app-{i:06d}"


def api_key(i: int) -> str:
    """The plaintext of key `i` (the stream carries only its hash): what a bench calls with."""
    return f"aigw_synthetic_{i:07d}"


def key_id(i: int) -> str:
    return f"key-{i:07d}"


def key_application(shape: Shape, i: int) -> int:
    return i % shape.applications


def subscription_pair(shape: Shape, i: int) -> tuple[int, int]:
    """Subscription `i`: (application, API). Application 0 holds subscription 0 to API 0."""
    return i % shape.applications, (i * 7919) % shape.apis


def deployed(shape: Shape, box: SecretBox, i: int, revision: int = 1) -> ApiDeployed:
    vendor = BUILT_IN_VENDORS[i % len(BUILT_IN_VENDORS)].spec()
    ident = api_id(i)

    def endpoint(name: str, key: str) -> DeployedEndpoint:
        sealed = box.encrypt(key, provider_key_context(ident, name, shape.upstream))
        return DeployedEndpoint(url=shape.upstream, api_key_ciphertext=sealed)

    return ApiDeployed(
        api_id=ident,
        revision=revision,
        name=f"Synthetic {i}",
        version="v1",
        route_prefix=route_prefix(i),
        vendor=vendor,
        production=endpoint("production", "mock-provider-key"),
        sandbox=endpoint("sandbox", "mock-sandbox-key"),
    )


def payloads(shape: Shape, box: SecretBox) -> Iterator[EventPayload]:
    """Plans, deployed APIs, applications, subscriptions, then keys (the order they are made)."""
    for name in PLANS:
        limits = [] if name == "Unlimited" else [QuotaLimit(unit="minute", requests=10_000)]
        yield PolicyUpdated(name=name, limits=limits)
    for i in range(shape.apis):
        yield deployed(shape, box, i)
    for i in range(shape.applications):
        yield ApplicationCreated(
            application_id=application_id(i), name=f"App {i}", owner=f"dev{i % 500}"
        )
    for i in range(shape.subscriptions):
        app, api = subscription_pair(shape, i)
        yield SubscriptionCreated(
            subscription_id=f"sub-{i:06d}",
            application_id=application_id(app),
            api_id=api_id(api),
            policy=PLANS[i % len(PLANS)],
        )
    for i in range(shape.keys):
        yield KeyIssued(
            key_id=key_id(i),
            key_hash=sha256_hex(api_key(i)),
            application_id=application_id(key_application(shape, i)),
            key_type="PRODUCTION" if i % 4 else "SANDBOX",
        )


Message = tuple[str, bytes, dict[str, str]]  # subject, body, headers


class Signers:
    """Each emitting service's signer: from a credentials directory, or from identities held
    in memory (`Signers.of`)."""

    def __init__(self, credentials: Path | None) -> None:
        self.credentials = credentials
        self._signers: dict[str, EventSigner] = {}

    @classmethod
    def of(cls, identities: Mapping[str, Identity]) -> "Signers":
        signers = cls(None)
        signers._signers = {name: EventSigner(i) for name, i in identities.items()}
        return signers

    def emitter(self, payload: EventPayload) -> str:
        identity = emitter_of(payload.TYPE)
        assert identity is not None, payload.TYPE
        return identity

    def signer(self, identity: str) -> EventSigner:
        if identity not in self._signers:
            assert self.credentials is not None, f"no identity {identity}"
            seed = nats_auth.seed_path(self.credentials, identity)
            self._signers[identity] = EventSigner(Identity.load(identity, seed))
        return self._signers[identity]

    def message(self, payload: EventPayload, actor: str = "synthetic") -> Message:
        identity = self.emitter(payload)
        event = new_event(payload, source=identity, actor=actor)
        body, headers = signed_message(event, self.signer(identity))
        return event.type, body, headers


def messages(items: Iterable[EventPayload], signers: Signers) -> Iterator[Message]:
    return (signers.message(payload) for payload in items)


class Publisher:
    """Publishes payloads as their emitters: one connection per identity, made when first
    needed; `send` pipelines (up to `IN_FLIGHT` acknowledgements outstanding per emitter, in
    order per emitter), `publish` waits for its event to be stored."""

    def __init__(self, nats_url: str, credentials: Path) -> None:
        self.nats_url, self.credentials = nats_url, credentials
        self.signers = Signers(credentials)
        self._connections: dict[str, NatsClient] = {}
        self._contexts: dict[str, JetStreamContext] = {}
        self._pending: dict[str, list[asyncio.Future[PubAck]]] = {}

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for nc in self._connections.values():
            await nc.close()

    async def _context(self, identity: str) -> JetStreamContext:
        if identity not in self._contexts:
            options = nats_auth.connect_options(self.credentials, identity)
            self._connections[identity] = await nats.connect(self.nats_url, **options)
            self._contexts[identity] = self._connections[identity].jetstream()
            self._pending[identity] = []
        return self._contexts[identity]

    async def send(self, payload: EventPayload) -> None:
        identity = self.signers.emitter(payload)
        js = await self._context(identity)
        subject, body, headers = self.signers.message(payload)
        waiting = self._pending[identity]
        waiting.append(await js.publish_async(subject, body, headers=headers))
        if len(waiting) >= IN_FLIGHT:
            await self.flush()

    async def flush(self) -> None:
        for waiting in self._pending.values():
            await asyncio.gather(*waiting)
            waiting.clear()

    async def publish(self, payload: EventPayload) -> None:
        await self.send(payload)
        await self.flush()


async def write(nats_url: str, credentials: Path, shape: Shape, box: SecretBox) -> int:
    """Publish the whole stream of `shape`; the number of events."""
    count = 0
    async with Publisher(nats_url, credentials) as publisher:
        for payload in payloads(shape, box):
            await publisher.send(payload)
            count += 1
        await publisher.flush()
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nats-url", required=True)
    parser.add_argument("--credentials", type=Path, required=True)
    parser.add_argument("--secret-key", required=True, help="AIGW_SECRET_KEY of the gateways")
    for field, default in vars(Shape()).items():
        kind = str if isinstance(default, str) else int
        parser.add_argument(f"--{field}", type=kind, default=default)
    args = parser.parse_args()
    shape = Shape(**{field: getattr(args, field) for field in vars(Shape())})
    started = time.perf_counter()
    count = asyncio.run(write(args.nats_url, args.credentials, shape, SecretBox(args.secret_key)))
    print(f"published {count} events in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
