"""An API's definition: creating it, replacing (PUT) or patching (PATCH) it, deleting it. The
route (context and version) is unique; a provider key goes with its endpoint's origin."""

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from pydantic import ValidationError
from pymongo.errors import DuplicateKeyError

from aigw.common.actor import Actor
from aigw.common.errors import Conflict, InvalidInput, describe_validation_errors, validation_fields
from aigw.common.events import ApiCreated, ApiDeleted, ApiUpdated
from aigw.common.ids import new_id, utcnow_ms
from aigw.common.mongo import Update
from aigw.common.outbox import DELETED
from aigw.publisher.apis import provider_keys
from aigw.publisher.apis.changes import ApiChanges, Payloads
from aigw.publisher.apis.events import described
from aigw.publisher.apis.lifecycle import CREATED
from aigw.publisher.apis.ownership import co_owners_set
from aigw.publisher.apis.repository import COLLECTION, ApiDefinition, ApiDoc, StoredApi
from aigw.publisher.apis.routing import route_prefix
from aigw.publisher.apis.schemas import (
    ENDPOINT_TYPES,
    GUARDRAIL_LIST,
    ApiIn,
    ApiUpdate,
    dev_only_endpoint,
    patch_target,
)
from aigw.publisher.events import SOURCE

DEV_ONLY_ENDPOINTS = (
    "plain-http and loopback endpoints are accepted only in dev mode (AIGW_DEV_MODE=true)"
)


class ApiDefinitions(ApiChanges):
    async def create(self, body: ApiIn, actor: Actor) -> StoredApi:
        await self._check(body)
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
            "deploy_marks": [],
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
            target = patch_target(doc, patch)
            try:
                return ApiUpdate.model_validate(target)
            except ValidationError as exc:
                errors = exc.errors()
                raise InvalidInput(
                    describe_validation_errors(errors, target),
                    fields=validation_fields(errors, target),
                ) from exc

        return await self._redefine(api_id, body_for, actor, drops_keys=True)

    async def delete(self, api_id: str, actor: Actor) -> None:
        async def change(doc: StoredApi) -> tuple[Update, Payloads]:
            # Freeing the route key lets the same context and version be created again
            # while the relay is still publishing the delete event.
            marks = {DELETED: True, "route_key": f"deleted:{api_id}", "updated_time": utcnow_ms()}
            return {"$set": marks}, [ApiDeleted(api_id=api_id)]

        await self._change(api_id, change, actor)

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
            await self._check(body)
            definition = _definition(body)
            prefix = definition["route_prefix"]
            # The event keeps the current lifecycle status, so a published API's update
            # carries everything the catalogue shows.
            after: StoredApi = {**doc, **definition}
            sets: Update = {**definition, "updated_time": utcnow_ms()}
            sets |= co_owners_set(actor, doc, body.co_owners)
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

    async def _check(self, body: ApiIn) -> None:
        """What a definition must name: a known vendor, endpoints this mode accepts and
        existing plans."""
        await self._vendor(body.ai_vendor.name, body.ai_vendor.version)
        self._check_endpoints(body)
        await self._check_policies(body.policies)

    def _check_endpoints(self, body: ApiIn) -> None:
        if self._dev_mode:
            return
        urls = {f"the {kind} endpoint": getattr(body.endpoints, kind) for kind in ENDPOINT_TYPES}
        urls |= {f"the additional endpoint '{n}'": u for n, u in body.additional_endpoints.items()}
        for which, url in urls.items():
            reason = dev_only_endpoint(url) if url is not None else None
            if reason is not None:
                raise InvalidInput(f"{DEV_ONLY_ENDPOINTS}; {which} {reason}")


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
        "guardrails": GUARDRAIL_LIST.dump_python(body.guardrails, mode="json", by_alias=True),
        "cache": None if body.cache is None else body.cache.model_dump(mode="json", by_alias=True),
        "route_prefix": prefix,
        "route_key": prefix,
    }


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
