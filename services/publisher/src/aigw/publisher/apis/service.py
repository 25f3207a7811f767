"""AI API use cases. Each change is one conditional single-document write that stages its
events (transactional outbox), followed by an immediate best-effort flush to JetStream."""

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pymongo.errors import DuplicateKeyError

from aigw.common.actor import Actor
from aigw.common.crypto import SecretBox, endpoint_origin, mask_secret, provider_key_context
from aigw.common.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    describe_validation_errors,
    validation_fields,
)
from aigw.common.events import (
    ApiCreated,
    ApiDeleted,
    ApiDeployed,
    ApiUndeployed,
    ApiUpdated,
    EventPayload,
)
from aigw.common.ids import new_id, utcnow_ms
from aigw.common.mongo import Update
from aigw.common.outbox import DELETED, Outbox, staged
from aigw.common.vendors import VendorSpec
from aigw.publisher.apis import provider_keys
from aigw.publisher.apis.events import deployed, described, status_event
from aigw.publisher.apis.lifecycle import CREATED, TRANSITIONS
from aigw.publisher.apis.repository import (
    COLLECTION,
    ApiDefinition,
    ApiDoc,
    ApiRepository,
    KeyEntry,
    StoredApi,
)
from aigw.publisher.apis.routing import route_prefix
from aigw.publisher.apis.schemas import (
    ENDPOINT_TYPES,
    ApiIn,
    BackendSecurityIn,
    dev_only_endpoint,
    endpoint_names,
    endpoint_url,
    patched,
)
from aigw.publisher.vendors.catalog import VendorCatalog

log = logging.getLogger(__name__)

SOURCE = "publisher"
# Who a master-key rotation (`make rotate-secret-key`) acts as: an admin, so every API.
ROTATION = Actor(subject="system:rotate-secret-key", admin=True)
# Conditional writes retry on a concurrent change; more than a few retries means contention
# the client should see rather than a request that spins.
_MAX_ATTEMPTS = 5
DEV_ONLY_ENDPOINTS = (
    "plain-http and loopback endpoints are accepted only in dev mode (AIGW_DEV_MODE=true)"
)

Payloads = list[EventPayload]  # an alias: `list` is also a method of ApiService
Change = Callable[[StoredApi], Awaitable[tuple[Update, Payloads]]]
# Raises InvalidInput naming a plan that does not exist (the policies service provides it).
CheckPolicies = Callable[[list[str]], Awaitable[None]]


async def _any_policy(_: list[str]) -> None:
    return None


def may_manage(actor: Actor, api: StoredApi) -> bool:
    """Who may see and change an API: an admin, its owner and its co-owners. APIs created
    before owners existed have none: they are the admins' alone."""
    return actor.admin or actor.subject in (api.get("owner"), *api.get("co_owners", ()))


def may_share(actor: Actor, api: StoredApi) -> bool:
    """Who may change an API's co-owners: its owner or an admin."""
    return actor.admin or actor.subject == api.get("owner")


@dataclass
class ReencryptCounts:
    apis_seen: int = 0
    keys_reencrypted: int = 0  # of which migrated to origin-bound associated data:
    keys_bound_to_origin: int = 0
    apis_redeployed: int = 0


class _NothingToReseal(Exception):
    """The document moved to the current key between the scan and the write."""


@contextlib.contextmanager
def _route_guard(prefix: str) -> Iterator[None]:
    """The unique route-key index, not a prior read, decides whether a route is free."""
    try:
        yield
    except DuplicateKeyError as exc:
        raise _route_taken(prefix) from exc


def _route_taken(prefix: str) -> Conflict:
    taken = "another API has the same context and version"
    return Conflict(
        f"Another API is already served at /{prefix} (same context and version)",
        fields={"context": taken, "version": taken},
    )


class ApiService:
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

    # --- reads -----------------------------------------------------------------------------

    async def get(self, api_id: str, actor: Actor) -> StoredApi:
        """The API, if the actor may manage it: someone else's answers 404, as a missing one."""
        doc = await self._repo.get(api_id)
        if doc is None or not may_manage(actor, doc):
            raise NotFound(f"No API with id '{api_id}'")
        return doc

    async def list(self, actor: Actor) -> list[StoredApi]:
        return await self._repo.list(None if actor.admin else actor.subject)

    # --- definition ------------------------------------------------------------------------

    async def create(self, body: ApiIn, actor: Actor) -> StoredApi:
        await self._vendor(body.ai_vendor.name, body.ai_vendor.version)
        self._check_endpoints(body)
        await self._check_policies(body.policies)
        now = utcnow_ms()
        api: ApiDoc = {
            "_id": new_id(),
            **_definition(body),
            "lifecycle_status": CREATED,
            "revision": 0,
            "deployed_revision": None,
            "deployed_time": None,
            "backend_security": {},
            "owner": actor.subject,
            "co_owners": body.co_owners or [],
            "created_time": now,
            "updated_time": now,
        }
        with _route_guard(api["route_prefix"]):
            doc = await self._repo.insert(api, actor.event(described(ApiCreated, api), SOURCE))
        await self._outbox.try_flush(COLLECTION, doc["_id"])
        return doc

    async def update(self, api_id: str, body: ApiIn, actor: Actor) -> StoredApi:
        """PUT: `body` replaces the definition. An endpoint it leaves out that holds a provider
        key is refused (409) rather than dropped with its key unnoticed."""
        return await self._redefine(api_id, lambda _: body, actor, drops_keys=False)

    async def patch(self, api_id: str, patch: dict[str, Any], actor: Actor) -> StoredApi:
        """PATCH: `patch` (a JSON merge patch) merged into the API as it is, then checked and
        written exactly as a PUT of the result. An endpoint the patch removes (null) takes its
        provider key with it: the removal is explicit, so it is what the caller meant."""

        def body_for(doc: StoredApi) -> ApiIn:
            try:
                return patched(doc, patch)
            except ValidationError as exc:
                errors = exc.errors()
                raise InvalidInput(
                    describe_validation_errors(errors), fields=validation_fields(errors)
                ) from exc

        return await self._redefine(api_id, body_for, actor, drops_keys=True)

    async def _redefine(
        self, api_id: str, body_for: Callable[[StoredApi], ApiIn], actor: Actor, *, drops_keys: bool
    ) -> StoredApi:
        """Write the definition `body_for` makes of the API as read; on a retry (the API moved
        on) it is made again from the newer document, so a patch never undoes a change it
        did not name."""
        prefix = ""

        async def change(doc: StoredApi) -> tuple[Update, Payloads]:
            nonlocal prefix
            body = body_for(doc)
            await self._vendor(body.ai_vendor.name, body.ai_vendor.version)
            self._check_endpoints(body)
            await self._check_policies(body.policies)
            definition = _definition(body)
            prefix = definition["route_prefix"]
            # The event keeps the current lifecycle status, so a published API's update
            # carries everything the catalogue shows.
            after: StoredApi = {**doc, **definition}
            sets: Update = {**definition, "updated_time": utcnow_ms()}
            if body.co_owners is not None and body.co_owners != doc.get("co_owners", []):
                if not may_share(actor, doc):
                    raise Forbidden(
                        f"Only the owner of API '{api_id}' or an admin may change its coOwners"
                    )
                sets["co_owners"] = body.co_owners
            # A provider key goes with its endpoint's origin (same write as the move).
            unsets, cleared = provider_keys.keys_left_behind(doc, after)
            if not drops_keys:
                provider_keys.refuse_dropping_keys(doc, unsets)
            sets |= {f"backend_security.{name}": {"required": True} for name in cleared}
            update: Update = {"$set": sets}
            if unsets:
                update["$unset"] = {f"backend_security.{name}": "" for name in unsets}
            return update, [described(ApiUpdated, after)]

        try:
            return await self._change(api_id, change, actor)
        except DuplicateKeyError as exc:
            raise _route_taken(prefix) from exc

    async def delete(self, api_id: str, actor: Actor) -> None:
        async def change(doc: StoredApi) -> tuple[Update, Payloads]:
            # Freeing the route key lets the same context and version be created again
            # while the relay is still publishing the delete event.
            marks = {DELETED: True, "route_key": f"deleted:{api_id}", "updated_time": utcnow_ms()}
            return {"$set": marks}, [ApiDeleted(api_id=api_id)]

        await self._change(api_id, change, actor)

    # --- backend security ------------------------------------------------------------------

    async def set_backend_security(
        self, api_id: str, body: BackendSecurityIn, actor: Actor
    ) -> StoredApi:
        async def change(doc: StoredApi) -> tuple[Update, Payloads]:
            known = endpoint_names(doc)
            unknown = [name for name in body.root if name not in known]
            if unknown:
                raise InvalidInput(
                    f"API '{api_id}' has no endpoint named '{unknown[0]}'; "
                    f"its endpoints: {', '.join(known)}"
                )
            # Sealed for the endpoint's URL in the document read: the write is conditional
            # on it, so a concurrent move of the endpoint makes this attempt start over.
            # null is stored, not dropped: deploy tells a deliberately keyless endpoint from
            # one whose key was never set. It is bound to the endpoint's origin, as a key is.
            update: Update = {
                "$set": {
                    f"backend_security.{name}": self.seal(doc, name, key.api_key)
                    if key is not None
                    else provider_keys.keyless_entry(doc, name)
                    for name, key in body.root.items()
                }
                | {"updated_time": utcnow_ms()}
            }
            # The update event records who changed the keys; it carries no key material.
            return update, [described(ApiUpdated, doc)]

        return await self._change(api_id, change, actor)

    def seal(self, doc: StoredApi, name: str, api_key: str) -> KeyEntry:
        """The stored form of endpoint `name`'s provider key: sealed for its URL's origin."""
        url = endpoint_url(doc, name)
        context = provider_key_context(doc["_id"], name, url)
        return {
            "ciphertext": self._box.encrypt(api_key, context),
            "masked": mask_secret(api_key),
            "origin": endpoint_origin(url),
        }

    # --- deployment ------------------------------------------------------------------------

    async def deploy(self, api_id: str, actor: Actor) -> StoredApi:
        async def change(doc: StoredApi) -> tuple[Update, Payloads]:
            vendor = await self._vendor(doc["vendor"]["name"], doc["vendor"]["version"])
            provider_keys.check_keys(doc, vendor)
            revision = doc["revision"] + 1
            update = {
                "$inc": {"revision": 1},
                "$set": {"deployed_revision": revision, "deployed_time": utcnow_ms()},
            }
            return update, [deployed(doc, revision, vendor)]

        return await self._change(api_id, change, actor)

    async def _snapshot(self, doc: StoredApi, revision: int) -> ApiDeployed:
        """The revision as the gateway gets it, with the vendor's definition as it is now:
        a vendor changed later reaches the API at its next deploy."""
        vendor = await self._vendor(doc["vendor"]["name"], doc["vendor"]["version"])
        return deployed(doc, revision, vendor)

    async def undeploy(self, api_id: str, actor: Actor) -> tuple[StoredApi, int]:
        """Take the deployed revision down; returns the document and that revision."""

        async def change(doc: StoredApi) -> tuple[Update, Payloads]:
            revision = doc.get("deployed_revision")
            if revision is None:
                raise Conflict(f"API '{api_id}' is not deployed")
            update = {"$set": {"deployed_revision": None, "deployed_time": None}}
            return update, [ApiUndeployed(api_id=api_id, revision=revision)]

        doc, [event] = await self._apply(api_id, change, actor)
        assert isinstance(event, ApiUndeployed)
        return doc, event.revision

    # --- lifecycle -------------------------------------------------------------------------

    async def change_lifecycle(self, api_id: str, action: str, actor: Actor) -> StoredApi:
        transition = TRANSITIONS.get(action)
        if transition is None:
            valid = ", ".join(TRANSITIONS)
            raise InvalidInput(f"Unknown lifecycle action '{action}'; valid actions: {valid}")

        async def change(doc: StoredApi) -> tuple[Update, Payloads]:
            if doc["lifecycle_status"] not in transition.sources:
                raise Conflict(f"Cannot {action} an API in state {doc['lifecycle_status']}")
            if transition.needs_deployment and doc.get("deployed_revision") is None:
                raise Conflict(
                    f"Cannot {action} API '{api_id}': it is not deployed, so calls to it would "
                    f"be answered 'No API is deployed'. Deploy it first: POST /apis/{api_id}/deploy"
                )
            after: StoredApi = {**doc, "lifecycle_status": transition.target}
            update = {"$set": {"lifecycle_status": transition.target, "updated_time": utcnow_ms()}}
            return update, [status_event(after)]

        return await self._change(api_id, change, actor)

    # --- master-key rotation ---------------------------------------------------------------

    async def reencrypt_provider_keys(self) -> ReencryptCounts:
        """Reseal every provider key under the current master key (`make rotate-secret-key`),
        production's, sandbox's and each additional endpoint's; keys sealed before origins
        were bound (associated data of API id and endpoint name only) are resealed for the
        origin of their endpoint's URL too, even under the current master key. Each API is
        one conditional write: the new ciphertexts and, for a deployed API, a new revision
        whose ApiDeployed event (carrying them) is staged with them, so gateways stop needing
        the old key. A concurrent change or a half-done run never leaves a mixed state; a
        rerun finds nothing left to do."""
        counts = ReencryptCounts()
        for doc in await self.list(ROTATION):
            counts.apis_seen += 1
            if provider_keys.stale(doc, self._box):
                await self._reseal(doc["_id"], counts)
        return counts

    async def _reseal(self, api_id: str, counts: ReencryptCounts) -> None:
        written: list[int] = []  # keys resealed (and of those, legacy) by the attempt written

        async def change(doc: StoredApi) -> tuple[Update, Payloads]:
            resealed = self._resealed(doc)
            legacy = [name for name in resealed if "origin" not in doc["backend_security"][name]]
            written[:] = [len(resealed), len(legacy)]
            return await self._reseal_update(doc, resealed)

        try:
            _, events = await self._apply(api_id, change, ROTATION)
        except (_NothingToReseal, NotFound):  # moved on, or deleted, since the scan
            return
        counts.keys_reencrypted += written[0]
        counts.keys_bound_to_origin += written[1]
        counts.apis_redeployed += len(events)

    async def _reseal_update(
        self, doc: StoredApi, resealed: dict[str, KeyEntry]
    ) -> tuple[Update, Payloads]:
        if not resealed:
            raise _NothingToReseal
        after: StoredApi = {**doc, "backend_security": {**doc["backend_security"], **resealed}}
        sets: Update = {f"backend_security.{name}": e for name, e in resealed.items()}
        if doc.get("deployed_revision") is None:
            return {"$set": sets}, []
        # Redeploy, so gateways get the new ciphertexts (deploy's own change, same write).
        revision = doc["revision"] + 1
        try:
            snapshot = await self._snapshot(after, revision)
        except InvalidInput as exc:  # its vendor is gone: reseal, leave the deployment as is
            log.warning("API %s resealed but not redeployed: %s", doc["_id"], exc.description)
            return {"$set": sets}, []
        sets |= {"deployed_revision": revision, "deployed_time": utcnow_ms()}
        return {"$inc": {"revision": 1}, "$set": sets}, [snapshot]

    def _resealed(self, doc: StoredApi) -> dict[str, KeyEntry]:
        """name -> the provider key, opened with the context it was sealed with, sealed under
        the current master key for the origin of the endpoint's URL."""
        return {
            name: self.seal(doc, name, provider_keys.opened(doc, name, self._box))
            for name in provider_keys.stale(doc, self._box)
        }

    # --- plumbing --------------------------------------------------------------------------

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
            written = await self._repo.apply(api_id, doc["_v"], {**update, **staged(*events)})
            if written is not None:
                await self._outbox.try_flush(COLLECTION, api_id)
                return written, payloads
        raise Conflict(f"API '{api_id}' is being changed concurrently; retry the request")

    def _check_endpoints(self, body: ApiIn) -> None:
        if self._dev_mode:
            return
        urls = {f"the {kind} endpoint": getattr(body.endpoints, kind) for kind in ENDPOINT_TYPES}
        urls |= {f"the additional endpoint '{n}'": u for n, u in body.additional_endpoints.items()}
        for which, url in urls.items():
            reason = dev_only_endpoint(url) if url is not None else None
            if reason is not None:
                raise InvalidInput(f"{DEV_ONLY_ENDPOINTS}; {which} {reason}")

    async def _vendor(self, name: str, version: str) -> VendorSpec:
        """The vendor's spec: a built-in one or a custom one, as it is defined now."""
        spec = await self._vendors.spec(name, version)
        if spec is None:
            raise InvalidInput(
                f"Unknown AI vendor '{name}' version '{version}'; "
                f"known vendors: {await self._vendors.describe()}"
            )
        return spec


def _definition(body: ApiIn) -> ApiDefinition:
    """The user-editable part of an API document, plus what derives from it."""
    prefix = route_prefix(body.context, body.version)
    return {
        "name": body.name,
        "context": body.context,
        "version": body.version,
        "description": body.description,
        "vendor": {"name": body.ai_vendor.name, "version": body.ai_vendor.version},
        "endpoints": {"production": body.endpoints.production, "sandbox": body.endpoints.sandbox},
        "policies": body.policies,
        "backend_throttle": {
            "production": body.backend_throttle.production,
            "sandbox": body.backend_throttle.sandbox,
        },
        "additional_endpoints": dict(body.additional_endpoints),
        "routing": body.routing.model_dump(mode="json"),
        "route_prefix": prefix,
        "route_key": prefix,
    }
