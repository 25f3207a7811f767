"""AI API use cases. Each change is one conditional single-document write that stages its
events (transactional outbox), followed by an immediate best-effort flush to JetStream."""

import contextlib
import json
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pymongo.errors import DuplicateKeyError

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
    ApiPublished,
    ApiUndeployed,
    ApiUpdated,
    BackendThrottle,
    DeployedEndpoint,
    Envelope,
    EventPayload,
    VendorRef,
    new_event,
)
from aigw.common.ids import new_id, utcnow_ms
from aigw.common.outbox import DELETED, Outbox, staged, with_outbox
from aigw.common.vendors import VendorSpec
from aigw.publisher.apis.lifecycle import CREATED, PUBLISHED, TRANSITIONS
from aigw.publisher.apis.repository import COLLECTION, VERSION, ApiRepository, Doc
from aigw.publisher.apis.routing import route_prefix
from aigw.publisher.apis.schemas import (
    ENDPOINT_TYPES,
    ApiIn,
    BackendSecurityIn,
    VendorRefBody,
    additional_endpoints,
    dev_only_endpoint,
    endpoint_names,
    endpoint_url,
    keyless,
    keys_missing,
    offered_policies,
    patched,
    routing,
    sealed_key,
)
from aigw.publisher.vendors.catalog import VendorCatalog

SOURCE = "publisher"
# Conditional writes retry on a concurrent change; more than a few retries means contention
# the client should see rather than a request that spins.
_MAX_ATTEMPTS = 5
DEV_ONLY_ENDPOINTS = (
    "plain-http and loopback endpoints are accepted only in dev mode (AIGW_DEV_MODE=true)"
)

Payloads = list[EventPayload]  # an alias: `list` is also a method of ApiService
Change = Callable[[Doc], Awaitable[tuple[dict[str, Any], Payloads]]]
# Raises InvalidInput naming a plan that does not exist (the policies service provides it).
CheckPolicies = Callable[[list[str]], Awaitable[None]]


async def _any_policy(_: list[str]) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asked: for the audit trail every event carries, and for which APIs they may see
    (an admin sees every API; anyone else, those they own or co-own)."""

    subject: str
    correlation_id: str | None = None
    admin: bool = False

    def may_manage(self, doc: Doc) -> bool:
        """APIs created before owners existed have none: they are the admins' alone."""
        return self.admin or self.subject in (doc.get("owner"), *doc.get("co_owners", ()))

    def may_share(self, doc: Doc) -> bool:
        """Who may change the co-owners: the owner or an admin."""
        return self.admin or self.subject == doc.get("owner")


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

    async def get(self, api_id: str, caller: Caller) -> Doc:
        """The API, if the caller may manage it: someone else's answers 404, as a missing one."""
        doc = await self._repo.get(api_id)
        if doc is None or not caller.may_manage(doc):
            raise NotFound(f"No API with id '{api_id}'")
        return doc

    async def list(self, caller: Caller) -> list[Doc]:
        return await self._repo.list(None if caller.admin else caller.subject)

    # --- definition ------------------------------------------------------------------------

    async def create(self, body: ApiIn, caller: Caller) -> Doc:
        await self._vendor(body.ai_vendor.name, body.ai_vendor.version)
        self._check_endpoints(body)
        await self._check_policies(body.policies)
        now = utcnow_ms()
        doc: Doc = {
            "_id": new_id(),
            **_definition(body),
            "lifecycle_status": CREATED,
            "revision": 0,
            "deployed_revision": None,
            "deployed_time": None,
            "backend_security": {},
            "owner": caller.subject,
            "co_owners": body.co_owners or [],
            "created_time": now,
            "updated_time": now,
        }
        event = self._event(_created(doc), caller)
        with _route_guard(doc["route_prefix"]):
            await self._repo.insert(with_outbox(doc, event))
        await self._outbox.try_flush(COLLECTION, doc["_id"])
        return doc

    async def update(self, api_id: str, body: ApiIn, caller: Caller) -> Doc:
        """PUT: `body` replaces the definition. An endpoint it leaves out that holds a provider
        key is refused (409) rather than dropped with its key unnoticed."""
        return await self._redefine(api_id, lambda _: body, caller, drops_keys=False)

    async def patch(self, api_id: str, patch: dict[str, Any], caller: Caller) -> Doc:
        """PATCH: `patch` (a JSON merge patch) merged into the API as it is, then checked and
        written exactly as a PUT of the result. An endpoint the patch removes (null) takes its
        provider key with it: the removal is explicit, so it is what the caller meant."""

        def body_for(doc: Doc) -> ApiIn:
            try:
                return patched(doc, patch)
            except ValidationError as exc:
                errors = exc.errors()
                raise InvalidInput(
                    describe_validation_errors(errors), fields=validation_fields(errors)
                ) from exc

        return await self._redefine(api_id, body_for, caller, drops_keys=True)

    async def _redefine(
        self, api_id: str, body_for: Callable[[Doc], ApiIn], caller: Caller, *, drops_keys: bool
    ) -> Doc:
        """Write the definition `body_for` makes of the API as read; on a retry (the API moved
        on) it is made again from the newer document, so a patch never undoes a change it
        did not name."""
        prefix = ""

        async def change(doc: Doc) -> tuple[dict[str, Any], list[EventPayload]]:
            nonlocal prefix
            body = body_for(doc)
            await self._vendor(body.ai_vendor.name, body.ai_vendor.version)
            self._check_endpoints(body)
            await self._check_policies(body.policies)
            definition = _definition(body)
            prefix = definition["route_prefix"]
            # The event keeps the current lifecycle status, so a published API's update
            # carries everything the catalogue shows.
            after = {**doc, **definition}
            sets: dict[str, Any] = {**definition, "updated_time": utcnow_ms()}
            if body.co_owners is not None and body.co_owners != doc.get("co_owners", []):
                if not caller.may_share(doc):
                    raise Forbidden(
                        f"Only the owner of API '{api_id}' or an admin may change its coOwners"
                    )
                sets["co_owners"] = body.co_owners
            # A provider key goes with its endpoint's origin (same write as the move).
            unsets, cleared = _keys_left_behind(doc, after)
            if not drops_keys:
                _refuse_dropping_keys(api_id, doc, unsets)
            sets |= {f"backend_security.{name}": {"required": True} for name in cleared}
            update: dict[str, Any] = {"$set": sets}
            if unsets:
                update["$unset"] = {f"backend_security.{name}": "" for name in unsets}
            return update, [_updated(after)]

        try:
            return await self._change(api_id, change, caller)
        except DuplicateKeyError as exc:
            raise _route_taken(prefix) from exc

    async def delete(self, api_id: str, caller: Caller) -> None:
        async def change(doc: Doc) -> tuple[dict[str, Any], list[EventPayload]]:
            # Freeing the route key lets the same context and version be created again
            # while the relay is still publishing the delete event.
            marks = {DELETED: True, "route_key": f"deleted:{api_id}", "updated_time": utcnow_ms()}
            return {"$set": marks}, [ApiDeleted(api_id=api_id)]

        await self._change(api_id, change, caller)

    # --- backend security ------------------------------------------------------------------

    async def set_backend_security(
        self, api_id: str, body: BackendSecurityIn, caller: Caller
    ) -> Doc:
        async def change(doc: Doc) -> tuple[dict[str, Any], list[EventPayload]]:
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
            update: dict[str, Any] = {
                "$set": {
                    f"backend_security.{name}": self.seal(doc, name, key.api_key)
                    if key is not None
                    else _keyless_entry(doc, name)
                    for name, key in body.root.items()
                }
                | {"updated_time": utcnow_ms()}
            }
            # The update event records who changed the keys; it carries no key material.
            return update, [_updated(doc)]

        return await self._change(api_id, change, caller)

    def seal(self, doc: Doc, name: str, api_key: str) -> dict[str, str]:
        """The stored form of endpoint `name`'s provider key: sealed for its URL's origin."""
        url = endpoint_url(doc, name)
        context = provider_key_context(doc["_id"], name, url)
        return {
            "ciphertext": self._box.encrypt(api_key, context),
            "masked": mask_secret(api_key),
            "origin": endpoint_origin(url),
        }

    # --- deployment ------------------------------------------------------------------------

    async def deploy(self, api_id: str, caller: Caller) -> Doc:
        async def change(doc: Doc) -> tuple[dict[str, Any], list[EventPayload]]:
            vendor = await self._vendor(doc["vendor"]["name"], doc["vendor"]["version"])
            _check_keys(doc, vendor)
            revision = doc["revision"] + 1
            update = {
                "$inc": {"revision": 1},
                "$set": {"deployed_revision": revision, "deployed_time": utcnow_ms()},
            }
            return update, [_deployed(doc, revision, vendor)]

        return await self._change(api_id, change, caller)

    async def _snapshot(self, doc: Doc, revision: int) -> ApiDeployed:
        """The revision as the gateway gets it, with the vendor's definition as it is now:
        a vendor changed later reaches the API at its next deploy."""
        vendor = await self._vendor(doc["vendor"]["name"], doc["vendor"]["version"])
        return _deployed(doc, revision, vendor)

    async def undeploy(self, api_id: str, caller: Caller) -> tuple[Doc, int]:
        """Take the deployed revision down; returns the document and that revision."""

        async def change(doc: Doc) -> tuple[dict[str, Any], list[EventPayload]]:
            revision = doc.get("deployed_revision")
            if revision is None:
                raise Conflict(f"API '{api_id}' is not deployed")
            update = {"$set": {"deployed_revision": None, "deployed_time": None}}
            return update, [ApiUndeployed(api_id=api_id, revision=revision)]

        doc, [event] = await self._apply(api_id, change, caller)
        assert isinstance(event, ApiUndeployed)
        return doc, event.revision

    # --- lifecycle -------------------------------------------------------------------------

    async def change_lifecycle(self, api_id: str, action: str, caller: Caller) -> Doc:
        transition = TRANSITIONS.get(action)
        if transition is None:
            valid = ", ".join(TRANSITIONS)
            raise InvalidInput(f"Unknown lifecycle action '{action}'; valid actions: {valid}")

        async def change(doc: Doc) -> tuple[dict[str, Any], list[EventPayload]]:
            if doc["lifecycle_status"] not in transition.sources:
                raise Conflict(f"Cannot {action} an API in state {doc['lifecycle_status']}")
            if transition.needs_deployment and doc.get("deployed_revision") is None:
                raise Conflict(
                    f"Cannot {action} API '{api_id}': it is not deployed, so calls to it would "
                    f"be answered 'No API is deployed'. Deploy it first: POST /apis/{api_id}/deploy"
                )
            after = {**doc, "lifecycle_status": transition.target}
            update = {"$set": {"lifecycle_status": transition.target, "updated_time": utcnow_ms()}}
            return update, [_lifecycle_event(after)]

        return await self._change(api_id, change, caller)

    # --- plumbing --------------------------------------------------------------------------

    async def _change(self, api_id: str, change: Change, caller: Caller) -> Doc:
        doc, _ = await self._apply(api_id, change, caller)
        return doc

    async def _apply(self, api_id: str, change: Change, caller: Caller) -> tuple[Doc, Payloads]:
        """Read, decide, and write conditionally on the version read; retry if it moved.
        Returns the document as written and the event payloads written with it."""
        for _ in range(_MAX_ATTEMPTS):
            doc = await self.get(api_id, caller)
            update, payloads = await change(doc)
            events = [self._event(p, caller) for p in payloads]
            written = await self._repo.apply(api_id, doc[VERSION], {**update, **staged(*events)})
            if written is not None:
                await self._outbox.try_flush(COLLECTION, api_id)
                return written, payloads
        raise Conflict(f"API '{api_id}' is being changed concurrently; retry the request")

    def _event(self, payload: EventPayload, caller: Caller) -> Envelope:
        return new_event(
            payload, source=SOURCE, actor=caller.subject, correlation_id=caller.correlation_id
        )

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


def _definition(body: ApiIn) -> Doc:
    """The user-editable part of an API document, plus what derives from it."""
    prefix = route_prefix(body.context, body.version)
    return {
        "name": body.name,
        "context": body.context,
        "version": body.version,
        "description": body.description,
        "vendor": VendorRefBody.model_dump(body.ai_vendor),
        "endpoints": body.endpoints.model_dump(),
        "policies": body.policies,
        "backend_throttle": body.backend_throttle.model_dump(),
        "additional_endpoints": dict(body.additional_endpoints),
        "routing": body.routing.model_dump(mode="json"),
        "route_prefix": prefix,
        "route_key": prefix,
    }


def _created(doc: Doc) -> ApiCreated:
    return ApiCreated(
        api_id=doc["_id"],
        name=doc["name"],
        context=doc["context"],
        version=doc["version"],
        vendor=VendorRef(**doc["vendor"]),
        lifecycle_status=doc["lifecycle_status"],
    )


def _updated(doc: Doc) -> ApiUpdated:
    """The API's whole definition and status, as the devportal catalogue shows it."""
    return ApiUpdated(
        api_id=doc["_id"],
        name=doc["name"],
        context=doc["context"],
        version=doc["version"],
        route_prefix=doc["route_prefix"],
        vendor=VendorRef(**doc["vendor"]),
        description=doc["description"],
        lifecycle_status=doc["lifecycle_status"],
        policies=offered_policies(doc),
    )


def _lifecycle_event(doc: Doc) -> EventPayload:
    if doc["lifecycle_status"] != PUBLISHED:
        return _updated(doc)
    return ApiPublished(
        api_id=doc["_id"],
        name=doc["name"],
        context=doc["context"],
        version=doc["version"],
        route_prefix=doc["route_prefix"],
        vendor=VendorRef(**doc["vendor"]),
        description=doc["description"],
        policies=offered_policies(doc),
    )


def _check_keys(doc: Doc, vendor: VendorSpec) -> None:
    """A deploy must not send calls to the provider without the key it needs: the provider
    would answer each one 401, which the caller would take for their own key being wrong."""
    cleared, never_set = keys_missing(doc, vendor_needs_key=vendor.auth.type != "unsecured")
    if not cleared and not never_set:
        return
    reasons = []
    if never_set:
        reasons.append(
            f"{_endpoints(never_set)} {'has' if len(never_set) == 1 else 'have'} no provider "
            f"key, and vendor '{vendor.name}' {vendor.version} needs one"
        )
    if cleared:
        reasons.append(
            f"the provider key of {_endpoints(cleared)} was cleared because the endpoint now "
            "points at another origin than the key was set for"
        )
    example = ", ".join(f'"{name}": {{"apiKey": "..."}}' for name in never_set + cleared)
    raise Conflict(
        f"API '{doc['_id']}' cannot be deployed: {'; '.join(reasons)}. Set the key with "
        f"PUT /apis/{doc['_id']}/backend-security {{{example}}}, or set it to null to call "
        "the endpoint without a provider key"
    )


def _endpoints(names: list[str]) -> str:
    listed = ", ".join(f"'{name}'" for name in names)
    return f"endpoint {listed}" if len(names) == 1 else f"endpoints {listed}"


def _deployed(doc: Doc, revision: int, vendor: VendorSpec) -> ApiDeployed:
    urls = additional_endpoints(doc)
    return ApiDeployed(
        api_id=doc["_id"],
        revision=revision,
        name=doc["name"],
        version=doc["version"],
        route_prefix=doc["route_prefix"],
        vendor=vendor,
        production=_deployed_endpoint(doc, "production", doc["endpoints"].get("production")),
        sandbox=_deployed_endpoint(doc, "sandbox", doc["endpoints"].get("sandbox")),
        endpoints={name: _sealed_endpoint(doc, name, url) for name, url in sorted(urls.items())},
        routing=routing(doc),
        backend_throttle=BackendThrottle(**(doc.get("backend_throttle") or {})),
    )


def _deployed_endpoint(doc: Doc, name: str, url: str | None) -> DeployedEndpoint | None:
    return None if url is None else _sealed_endpoint(doc, name, url)


def _sealed_endpoint(doc: Doc, name: str, url: str) -> DeployedEndpoint:
    """The endpoint as the gateway gets it: the provider key stays a ciphertext, which the
    gateway opens with the same associated data (API id, endpoint name, the URL's origin)."""
    sealed = sealed_key(doc, name) or {}
    return DeployedEndpoint(url=url, api_key_ciphertext=sealed.get("ciphertext"))


def _keys_left_behind(before: Doc, after: Doc) -> tuple[list[str], list[str]]:
    """The stored keys an update of `before` into `after` must drop: (removed, cleared).
    Removed: the endpoint is gone, or has no URL any more. Cleared: the endpoint moved to
    another origin, so its key (sealed for the old one) must never be sent there; a key (or
    a null, for no key) is required again before the next deploy. A path change on the same
    origin keeps the key."""
    removed, cleared = [], []
    names = endpoint_names(after)
    for name in sorted(before.get("backend_security") or {}):
        url = endpoint_url(after, name) if name in names else None
        decided = bool(sealed_key(before, name)) or keyless(before, name)
        if decided and _key_origin(before, name) == endpoint_origin(url):
            continue  # the key stays with its origin (a key set before any URL: with none)
        if url is None:
            removed.append(name)
        elif decided:
            cleared.append(name)
    return removed, cleared


def _refuse_dropping_keys(api_id: str, doc: Doc, removed: list[str]) -> None:
    """A PUT that leaves out an endpoint holding a provider key is most likely a body built
    without it (PUT replaces the whole API): say so instead of dropping the key."""
    keyed = [name for name in removed if sealed_key(doc, name)]
    if not keyed:
        return
    names = ", ".join(f"'{name}'" for name in keyed)
    nulls = json.dumps(dict.fromkeys(keyed))
    raise Conflict(
        f"This PUT would remove endpoint {names} of API '{api_id}', which has a provider key "
        f"stored. To remove it, remove its key first (PUT .../backend-security {nulls}), or "
        "remove the endpoint with PATCH (e.g. "
        f"{json.dumps(_removal_patch(keyed))}), which removes its key with it. To keep it, "
        "send it again, or change only what you mean to with PATCH"
    )


def _removal_patch(names: list[str]) -> dict[str, Any]:
    """The merge patch that removes the named endpoints."""
    patch: dict[str, Any] = {}
    for name in names:
        group = "endpoints" if name in ENDPOINT_TYPES else "additionalEndpoints"
        patch.setdefault(group, {})[name] = None
    return patch


def _keyless_entry(doc: Doc, name: str) -> dict[str, Any]:
    return {"keyless": True, "origin": endpoint_origin(endpoint_url(doc, name))}


def _key_origin(doc: Doc, name: str) -> str:
    """The origin the stored key was sealed for; keys sealed before origins were bound are
    taken to belong to the endpoint's URL as it was."""
    entry = (doc.get("backend_security") or {}).get(name) or {}
    return str(entry["origin"]) if "origin" in entry else endpoint_origin(endpoint_url(doc, name))
