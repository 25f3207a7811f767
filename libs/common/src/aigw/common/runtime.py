"""What a service process owns while it runs: its MongoDB database, its NATS connection
(FastStream broker), the event bus and the outbox relay. Created in the app's lifespan."""

import asyncio
import contextlib
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self

from faststream.nats import NatsBroker, NatsRouter
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from aigw.common.messaging import EventBus, ensure_stream
from aigw.common.mongo import create_client, ping
from aigw.common.outbox import Outbox
from aigw.common.settings import ServiceSettings


class ServiceRuntime:
    def __init__(
        self,
        settings: ServiceSettings,
        *,
        database: str,
        outbox_collections: Sequence[str] = (),
        router: NatsRouter | None = None,
    ) -> None:
        self.settings = settings
        self._database = database
        self._outbox_collections = outbox_collections
        self._router = router
        self._relay: asyncio.Task[None] | None = None
        self.mongo: AsyncMongoClient[dict[str, Any]]
        self.db: AsyncDatabase[dict[str, Any]]
        self.broker: NatsBroker
        self.outbox: Outbox

    async def __aenter__(self) -> Self:
        self.mongo = create_client(self.settings.mongodb_url)
        self.db = self.mongo[self._database]
        self.broker = NatsBroker(
            self.settings.nats_url, max_reconnect_attempts=-1, reconnect_time_wait=1
        )
        if self._router is not None:
            self.broker.include_router(self._router)
        await self.broker.connect()
        await ensure_stream(self.broker.connection.jetstream())
        self.broker.context.set_global("db", self.db)
        if self._router is not None:
            await self.broker.start()
        self.outbox = Outbox(self.db, EventBus(self.broker).publish, self._outbox_collections)
        await self.outbox.ensure_indexes()
        self._relay = asyncio.create_task(self.outbox.run(), name="outbox-relay")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._relay is not None:
            self._relay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._relay
        await self.broker.stop()
        await self.mongo.close()

    async def ready(self) -> bool:
        return self.broker.connection.is_connected and await ping(self.db)
