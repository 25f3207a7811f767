"""Creating and listing users. The admin creates users with any roles; sign-up (through
devportal) creates subscribers only. Each new user stages `aigw.user.created` (username and
roles: never the password or its hash) in its insert, then the event is published at once."""

import asyncio
from typing import Any

from aigw.common.errors import Conflict, NotFound
from aigw.common.events import UserCreated, new_event
from aigw.common.outbox import Outbox
from aigw.keymanager.users.passwords import hash_password
from aigw.keymanager.users.repository import COLLECTION, UserRepository
from aigw.keymanager.users.schemas import CreateUserRequest, Role, UserList, UserOut

SOURCE = "keymanager"
SIGNUP_ROLES: list[Role] = ["subscriber"]


class Accounts:
    def __init__(self, users: UserRepository, outbox: Outbox, correlation_id: str | None) -> None:
        self._users = users
        self._outbox = outbox
        self._correlation_id = correlation_id

    async def create(self, request: CreateUserRequest, actor: str) -> UserOut:
        roles: list[str] = list(request.roles)
        payload = UserCreated(username=request.username, roles=roles)
        event = new_event(payload, source=SOURCE, actor=actor, correlation_id=self._correlation_id)
        password_hash = await asyncio.to_thread(hash_password, request.password)
        created = await self._users.insert_if_absent(request.username, password_hash, roles, event)
        if created is None:
            raise Conflict(f"User {request.username!r} already exists")
        await self._outbox.try_flush(COLLECTION, created["_id"])
        return user_out(created)

    async def list(self) -> UserList:
        return UserList.of([user_out(doc) for doc in await self._users.list_all()])

    async def get(self, username: str) -> UserOut:
        doc = await self._users.find(username)
        if doc is None:
            raise NotFound(f"User {username!r} does not exist")
        return user_out(doc)


def user_out(doc: dict[str, Any]) -> UserOut:
    return UserOut(
        username=doc["username"],
        roles=doc["roles"],
        disabled=doc.get("disabled", False),
        created_time=doc["created_time"],
    )
