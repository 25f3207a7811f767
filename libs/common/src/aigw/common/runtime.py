"""What a service process owns while it runs: its MongoDB database, its NATS connection
(FastStream broker, authenticated as the service), the event bus that signs what it publishes,
the verifier its event handlers check what they fold with, and the outbox relay. Created in the
app's lifespan.

`reconnects` hears every NATS reconnect: the outbox relay publishes what is pending at once
(not at its next sweep), and the ordered readers on this connection (aigw.common.ordered)
recreate their consumers. `store` pings MongoDB in the background (aigw.common.mongo), so
readiness says 503 within a second of the store going away, without waiting on it."""

import asyncio
import contextlib
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self

from faststream.nats import NatsBroker, NatsRouter
from faststream.nats.security import NatsNKey
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from aigw.common.event_bus import EventBus
from aigw.common.mongo import StoreWatch, create_client
from aigw.common.ordered import Reconnects
from aigw.common.outbox import Outbox
from aigw.common.settings import DatabaseSettings


class ServiceRuntime:
    def __init__(
        self,
        settings: DatabaseSettings,
        *,
        database: str,
        outbox_collections: Sequence[str] = (),
        router: NatsRouter | None = None,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.settings = settings
        self._database = database
        self._outbox_collections = outbox_collections
        self._router = router
        self._relay: asyncio.Task[None] | None = None
        self.mongo: AsyncMongoClient[dict[str, Any]]
        self.db: AsyncDatabase[dict[str, Any]]
        self.broker: NatsBroker
        self.bus: EventBus
        self.outbox: Outbox
        self.verifier = settings.event_verifier()
        self._registry = registry
        self._collector = self.verifier.collector()
        self.reconnects = Reconnects()

    async def __aenter__(self) -> Self:
        if self._registry is not None:
            self._registry.register(self._collector)
        self.mongo = create_client(self.settings.mongodb_url, self.settings.mongodb_timeout_ms)
        self.db = self.mongo[self._database]
        self.store = StoreWatch(self.db)
        identity = self.settings.identity()
        self.broker = NatsBroker(
            self.settings.nats_servers,  # one server or a cluster's (aigw.common.nats_servers)
            max_reconnect_attempts=-1,
            # back within a quarter second of NATS (FastStream types it int; nats-py takes s)
            reconnect_time_wait=0.25,  # type: ignore[arg-type]
            security=NatsNKey.from_seed(identity.seed, ssl_context=self.settings.nats_tls()),
            inbox_prefix=identity.inbox_prefix,
            reconnected_cb=self.reconnects.fire,
        )
        if self._router is not None:
            self.broker.include_router(self._router)
        await self.broker.connect()
        self.broker.context.set_global("db", self.db)
        self.broker.context.set_global("verifier", self.verifier)
        if self._router is not None:
            await self.broker.start()
        self.bus = EventBus(self.broker, self.settings.event_signer())
        self.outbox = Outbox(self.db, self.bus.publish, self._outbox_collections)
        await self.outbox.ensure_indexes()
        self.reconnects.subscribe(self._wake_outbox)
        self._relay = asyncio.create_task(self.outbox.run(), name="outbox-relay")
        self.store.start()
        return self

    async def _wake_outbox(self) -> None:
        self.outbox.wake()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.store.stop()
        if self._relay is not None:
            self._relay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._relay
        await self.broker.stop()
        await self.mongo.close()
        if self._registry is not None:
            self._registry.unregister(self._collector)

    async def ready(self) -> bool:
        """NATS connected and the store answering its last ping (never waits on either)."""
        return self.broker.connection.is_connected and self.store.up
