"""Custom AI vendor use cases. Built-in vendors are read-only; every write to a custom vendor
stages its VendorChanged event in the same single-document write (transactional outbox) and
then flushes it at once. APIs on a vendor pick a change up at their next deploy."""

from typing import Literal

from pymongo.errors import DuplicateKeyError

from aigw.common.actor import Actor
from aigw.common.errors import Conflict, InvalidInput, NotFound
from aigw.common.events import Envelope, VendorChanged
from aigw.common.ids import new_id, utcnow_ms
from aigw.common.outbox import Outbox, staged
from aigw.common.vendors import VendorDefinition
from aigw.publisher.apis.repository import ApiRepository
from aigw.publisher.events import SOURCE
from aigw.publisher.vendors.catalog import KnownVendor, VendorCatalog
from aigw.publisher.vendors.repository import (
    COLLECTION,
    VendorDoc,
    VendorRepository,
    definition_of,
    stored_definition,
)

Action = Literal["created", "updated", "deleted"]


class VendorService:
    def __init__(
        self, catalog: VendorCatalog, repo: VendorRepository, apis: ApiRepository, outbox: Outbox
    ) -> None:
        self.catalog = catalog
        self._repo = repo
        self._apis = apis
        self._outbox = outbox

    # --- reads -----------------------------------------------------------------------------

    async def list_all(self) -> list[KnownVendor]:
        return await self.catalog.all()

    async def get(self, name: str, version: str) -> KnownVendor:
        vendor = await self.catalog.find(name, version)
        if vendor is None:
            raise NotFound(await self._unknown(name, version))
        return vendor

    # --- writes ----------------------------------------------------------------------------

    async def create(self, body: VendorDefinition, actor: Actor) -> KnownVendor:
        self._refuse_built_in(body.name, body.version, "replaced by a custom vendor")
        _require_operations(body)
        now = utcnow_ms()
        doc: VendorDoc = {
            "_id": new_id(),
            "name": body.name,
            "version": body.version,
            "definition": stored_definition(body),
            "created_time": now,
            "updated_time": now,
        }
        event = _event(body, "created", actor)
        try:
            await self._repo.insert(doc, event)
        except DuplicateKeyError as exc:
            raise Conflict(
                f"An AI vendor {body.name} {body.version} already exists; "
                "change it with PUT or choose another version"
            ) from exc
        await self._outbox.try_flush(COLLECTION, doc["_id"])
        return KnownVendor(body, built_in=False)

    async def update(
        self, name: str, version: str, body: VendorDefinition, actor: Actor
    ) -> KnownVendor:
        if (body.name, body.version) != (name, version):
            raise InvalidInput(
                f"The body names the vendor {body.name} {body.version} but the path "
                f"{name} {version}; a vendor's name and version cannot change"
            )
        self._refuse_built_in(name, version, "changed")
        _require_operations(body)
        fields = {"definition": stored_definition(body), "updated_time": utcnow_ms()}
        event = _event(body, "updated", actor)
        doc = await self._repo.change(name, version, {"$set": fields, **staged(event)})
        if doc is None:
            raise NotFound(await self._unknown(name, version))
        await self._outbox.try_flush(COLLECTION, doc["_id"])
        return KnownVendor(body, built_in=False)

    async def delete(self, name: str, version: str, actor: Actor) -> None:
        self._refuse_built_in(name, version, "deleted")
        doc = await self._repo.get(name, version)
        if doc is None:
            raise NotFound(await self._unknown(name, version))
        users = await self._apis.using_vendor(name, version)
        if users:
            names = ", ".join(f"'{api.name}' ({api.id})" for api in users)
            raise Conflict(
                f"AI vendor {name} {version} is used by {len(users)} API(s): {names}; "
                "move them to another vendor or delete them first"
            )
        event = _event(definition_of(doc), "deleted", actor)
        if not await self._repo.retire(doc["_id"], {"updated_time": utcnow_ms()}, staged(event)):
            raise NotFound(await self._unknown(name, version))
        await self._outbox.try_flush(COLLECTION, doc["_id"])

    # --- helpers ---------------------------------------------------------------------------

    def _refuse_built_in(self, name: str, version: str, what: str) -> None:
        if self.catalog.built_in(name, version) is not None:
            raise Conflict(
                f"AI vendor {name} {version} is built in and read-only: it cannot be {what}"
            )

    async def _unknown(self, name: str, version: str) -> str:
        return f"No AI vendor {name} {version}; known vendors: {await self.catalog.describe()}"


def _require_operations(vendor: VendorDefinition) -> None:
    """The gateway forwards only the operations of a vendor's API definition: a vendor without
    any would be an API no call can reach, so it is refused rather than created."""
    if not vendor.operations():
        raise InvalidInput(
            "apiDefinition must list at least one operation (a path with a method, e.g. "
            '{"paths": {"/v1/generate": {"post": {}}}}): the gateway forwards only the '
            "operations of the vendor's API definition"
        )


def _event(vendor: VendorDefinition, action: Action, actor: Actor) -> Envelope:
    payload = VendorChanged(
        vendor=vendor.spec(), action=action, api_definition=vendor.api_definition
    )
    return actor.event(payload, SOURCE)
