"""What every API use case is made of: the API as the actor may see it, and the one way it
changes. Each change is one conditional single-document write that stages its events
(transactional outbox), followed by an immediate best-effort flush to JetStream."""

from collections.abc import Awaitable, Callable

from aigw.common.actor import Actor
from aigw.common.crypto import SecretBox
from aigw.common.errors import Conflict, InvalidInput, NotFound
from aigw.common.events import EventPayload
from aigw.common.mongo import Update, merged
from aigw.common.outbox import Outbox, staged
from aigw.common.vendors import VendorSpec
from aigw.publisher.apis.ownership import may_manage
from aigw.publisher.apis.repository import COLLECTION, ApiRepository, StoredApi
from aigw.publisher.events import SOURCE
from aigw.publisher.vendors.catalog import VendorCatalog

# Conditional writes retry on a concurrent change; more than a few retries means contention
# the client should see rather than a request that spins.
_MAX_ATTEMPTS = 5

Payloads = list[EventPayload]  # an alias: `list` is also a method of the API service
# What a use case decides of the API as read: the update to write and the events it makes.
Change = Callable[[StoredApi], Awaitable[tuple[Update, Payloads]]]
# Raises InvalidInput naming a plan that does not exist (the policies service provides it).
CheckPolicies = Callable[[list[str]], Awaitable[None]]


async def _any_policy(_: list[str]) -> None:
    return None


class ApiChanges:
    """The reads and the write path the API use cases share (`aigw.publisher.apis.service`
    composes them into the one `ApiService`)."""

    def __init__(
        self,
        repo: ApiRepository,
        outbox: Outbox,
        box: SecretBox,
        vendors: VendorCatalog,
        *,
        dev_mode: bool = False,
        check_policies: CheckPolicies = _any_policy,
    ) -> None:
        self._repo = repo
        self._outbox = outbox
        self._box = box
        self._vendors = vendors
        # Outside dev mode a provider endpoint must be https to a public host: the gateway
        # sends provider keys there, and must not be turned against its own network.
        self._dev_mode = dev_mode
        self._check_policies = check_policies

    async def get(self, api_id: str, actor: Actor) -> StoredApi:
        """The API, if the actor may manage it: someone else's answers 404, as a missing one."""
        doc = await self._repo.get(api_id)
        if doc is None or not may_manage(actor, doc):
            raise NotFound(f"No API with id '{api_id}'")
        return doc

    async def list(self, actor: Actor) -> list[StoredApi]:
        return await self._repo.list(None if actor.admin else actor.subject)

    async def _change(self, api_id: str, change: Change, actor: Actor) -> StoredApi:
        doc, _ = await self._apply(api_id, change, actor)
        return doc

    async def _apply(self, api_id: str, change: Change, actor: Actor) -> tuple[StoredApi, Payloads]:
        """Read, decide, and write conditionally on the version read; retry if it moved.
        Returns the document as written and the event payloads written with it."""
        for _ in range(_MAX_ATTEMPTS):
            doc = await self.get(api_id, actor)
            update, payloads = await change(doc)
            events = [actor.event(p, SOURCE) for p in payloads]
            written = await self._repo.apply(api_id, doc["_v"], merged(update, staged(*events)))
            if written is not None:
                await self._outbox.try_flush(COLLECTION, api_id)
                return written, payloads
        raise Conflict(f"API '{api_id}' is being changed concurrently; retry the request")

    async def _vendor(self, name: str, version: str) -> VendorSpec:
        """The vendor's spec: a built-in one or a custom one, as it is defined now."""
        spec = await self._vendors.spec(name, version)
        if spec is None:
            raise InvalidInput(
                f"Unknown AI vendor '{name}' version '{version}'; "
                f"known vendors: {await self._vendors.describe()}"
            )
        return spec
