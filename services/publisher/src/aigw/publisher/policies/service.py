"""Subscription policy (business plan) use cases. Every write stages its PolicyUpdated event in
the same single-document write (transactional outbox) and then flushes it at once."""

import contextlib

from pymongo.errors import DuplicateKeyError

from aigw.common.actor import Actor
from aigw.common.errors import Conflict, InvalidInput, NotFound
from aigw.common.events import PolicyUpdated
from aigw.common.ids import new_id, utcnow_ms
from aigw.common.outbox import Outbox, staged
from aigw.publisher.apis.repository import ApiRepository
from aigw.publisher.events import SOURCE
from aigw.publisher.policies.defaults import DEFAULT_POLICIES
from aigw.publisher.policies.repository import (
    COLLECTION,
    LimitDoc,
    PolicyDefinition,
    PolicyDoc,
    PolicyRepository,
    StoredPolicy,
)
from aigw.publisher.policies.schemas import UNLIMITED, LimitBody, PolicyChange, PolicyIn

SYSTEM = Actor(subject="system")  # who seeds the default plans


class PolicyService:
    def __init__(self, repo: PolicyRepository, apis: ApiRepository, outbox: Outbox) -> None:
        self._repo = repo
        self._apis = apis
        self._outbox = outbox

    async def get(self, name: str) -> StoredPolicy:
        doc = await self._repo.get(name)
        if doc is None:
            raise NotFound(f"No subscription policy named '{name}'")
        return doc

    async def list_all(self) -> list[StoredPolicy]:
        return await self._repo.list_all()

    async def check_exist(self, names: list[str]) -> None:
        """422 naming the first plan that does not exist (an API may offer only real plans)."""
        known = await self._repo.existing(names)
        unknown = [name for name in names if name not in known]
        if unknown:
            raise InvalidInput(f"Unknown subscription policy '{unknown[0]}'")

    async def create(self, body: PolicyIn, actor: Actor) -> StoredPolicy:
        now = utcnow_ms()
        policy: PolicyDoc = {
            "_id": new_id(),
            "name": body.name,
            **_definition(body),
            "created_time": now,
            "updated_time": now,
        }
        try:
            doc = await self._repo.insert(policy, actor.event(_updated(body.name, body), SOURCE))
        except DuplicateKeyError as exc:
            raise Conflict(f"A subscription policy named '{body.name}' already exists") from exc
        await self._outbox.try_flush(COLLECTION, doc["_id"])
        return doc

    async def update(self, name: str, body: PolicyChange, actor: Actor) -> StoredPolicy:
        _refuse_builtin(name, "changed")
        event = actor.event(_updated(name, body), SOURCE)
        fields = {**_definition(body), "updated_time": utcnow_ms()}
        doc = await self._repo.change(name, {"$set": fields, **staged(event)})
        if doc is None:
            raise NotFound(f"No subscription policy named '{name}'")
        await self._outbox.try_flush(COLLECTION, doc["_id"])
        return doc

    async def delete(self, name: str, actor: Actor) -> None:
        _refuse_builtin(name, "deleted")
        doc = await self.get(name)
        offering = await self._apis.count_offering(name)
        if offering:
            raise Conflict(f"Subscription policy '{name}' is offered by {offering} API(s)")
        event = actor.event(PolicyUpdated(name=name, deleted=True), SOURCE)
        if not await self._repo.retire(doc["_id"], {"updated_time": utcnow_ms()}, staged(event)):
            raise NotFound(f"No subscription policy named '{name}'")
        await self._outbox.try_flush(COLLECTION, doc["_id"])

    async def seed_defaults(self) -> None:
        """Create each default plan once per database; replicas starting together are safe."""
        for policy in DEFAULT_POLICIES:
            if await self._repo.was_seeded(policy.name):
                continue
            # Conflict: seeded by a concurrent start, or created by an admin before
            with contextlib.suppress(Conflict):
                await self.create(policy, SYSTEM)
            await self._repo.mark_seeded(policy.name)


def _refuse_builtin(name: str, what: str) -> None:
    if name == UNLIMITED:
        raise Conflict(f"The built-in '{UNLIMITED}' policy cannot be {what}")


def _definition(body: PolicyChange) -> PolicyDefinition:
    return {
        "description": body.description,
        "limits": [_limit(limit) for limit in body.limits],
        "default_completion_tokens": body.default_completion_tokens,
    }


def _limit(limit: LimitBody) -> LimitDoc:
    return {
        "unit": limit.unit,
        "requests": limit.requests,
        "total_tokens": limit.total_tokens,
        "prompt_tokens": limit.prompt_tokens,
        "completion_tokens": limit.completion_tokens,
    }


def _updated(name: str, body: PolicyChange) -> PolicyUpdated:
    return PolicyUpdated(
        name=name,
        description=body.description,
        limits=[limit.to_event() for limit in body.limits],
        default_completion_tokens=body.default_completion_tokens,
    )
