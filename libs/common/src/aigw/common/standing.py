"""Account standing outside keymanager: whether a management token still stands.

keymanager raises an account's token version on every change (roles, disabled, password) and
tombstones it on delete; each write emits `aigw.user.created/updated/deleted`. publisher and
devportal fold those events into `AccountStandings` (username -> token version, disabled,
roles, deleted) and refuse, in `TokenVerifier`'s `check_claims`, a token minted for an older
version or of a disabled or deleted account, with keymanager's own wording.

Why in memory, rebuilt from the stream at every start, rather than persisted: the check runs
on every request and must cost no database or network round trip; user events are few (a
handful per account), so a replay takes milliseconds; and every replica needs the whole view
for itself (a durable consumer shared by replicas would give each only part of the events).
`StandingFollower` replays `aigw.user.>` from the start of the events stream with an
ordered reader (aigw.common.ordered) on the service's own NATS connection, then follows live,
resuming at once after a NATS reconnect. Until it has
caught up the service is not ready and a token is answered 503 (its standing is not known):
a freshly started replica never lets through a token that was revoked before it started.

A token of an account the projection has never heard of stands: only keymanager mints
tokens, and an account created a moment ago may not have reached the projection yet. A token
minted for a newer version than the projection knows stands for the same reason.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import nats.errors
from fastapi import FastAPI
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from pydantic import ValidationError

from aigw.common.auth import (
    STALE_TOKEN,
    TOKEN_VERSION_CLAIM,
    CheckClaims,
    FetchJwks,
    JwksCache,
    TokenVerifier,
)
from aigw.common.errors import Unauthorized, Unavailable
from aigw.common.event_trust import EventVerifier, accept
from aigw.common.events import UserCreated, UserDeleted, UserUpdated, parse_payload
from aigw.common.messaging import STREAM_NAME
from aigw.common.ordered import OrderedReader, Reconnects
from aigw.common.requests import runtime_ready
from aigw.common.retry import until_done
from aigw.common.runtime import ServiceRuntime
from aigw.common.settings import KeymanagerClientSettings

log = logging.getLogger(__name__)

USER_SUBJECTS = "aigw.user.>"
NOT_KNOWN_YET = "Account standing is not known yet (the service is starting): try again shortly"


@dataclass(frozen=True, slots=True)
class Standing:
    version: int
    roles: tuple[str, ...]
    disabled: bool = False
    deleted: bool = False


class AccountStandings:
    """The projection. `fold` is called in stream order; `check` is the `check_claims` hook."""

    def __init__(self) -> None:
        self._accounts: dict[str, Standing] = {}
        self._caught_up = asyncio.Event()

    @property
    def caught_up(self) -> bool:
        return self._caught_up.is_set()

    def mark_caught_up(self) -> None:
        if not self._caught_up.is_set():
            log.info("account standing caught up (%d accounts)", len(self._accounts))
        self._caught_up.set()

    async def wait_caught_up(self, timeout: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._caught_up.wait(), timeout)
        return self.caught_up

    def get(self, username: str) -> Standing | None:
        return self._accounts.get(username)

    def fold(self, payload: UserCreated | UserUpdated | UserDeleted) -> None:
        name = payload.username
        known = self._accounts.get(name)
        if isinstance(payload, UserCreated):
            # an account of this name begins (keymanager never gives a name out twice)
            self._accounts[name] = Standing(version=0, roles=tuple(payload.roles))
        elif isinstance(payload, UserUpdated):
            if known is not None and (known.deleted or payload.token_version < known.version):
                return  # older than what is known: a delete is final
            self._accounts[name] = Standing(
                version=payload.token_version,
                roles=tuple(payload.roles),
                disabled=payload.disabled,
            )
        else:
            version = known.version + 1 if known is not None else 0
            self._accounts[name] = Standing(version=version, roles=(), disabled=True, deleted=True)

    def check(self, claims: dict[str, Any]) -> None:
        """Raises Unauthorized for a token that no longer stands, Unavailable before the
        projection has caught up."""
        if not self.caught_up:
            raise Unavailable(NOT_KNOWN_YET)
        standing = self._accounts.get(str(claims["sub"]))
        if standing is None:
            return
        version = claims.get(TOKEN_VERSION_CLAIM, 0)
        if standing.deleted or standing.disabled or not isinstance(version, int):
            raise Unauthorized(STALE_TOKEN)
        if version < standing.version:
            raise Unauthorized(STALE_TOKEN)

    def check_claims(self) -> CheckClaims:
        async def check(claims: dict[str, Any]) -> None:
            self.check(claims)

        return check


class HttpJwks:
    """keymanager's JWKS over HTTP, through one client for the service's life (closed by its
    lifespan with `aclose`). A client per fetch built a TLS context each time (the CA bundle,
    about 0.7 MiB of native memory) that only the cycle collector frees: a long-running
    publisher grew by that much at every refresh. Created on the first fetch, inside the
    running event loop."""

    def __init__(self, keymanager_url: str) -> None:
        self._url = f"{keymanager_url}/api/keymanager/v1/jwks"
        self._client: httpx.AsyncClient | None = None

    async def __call__(self) -> dict[str, Any]:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=5.0)
        response = await self._client.get(self._url)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def standing_verifier(
    settings: KeymanagerClientSettings, standings: AccountStandings, fetch: FetchJwks
) -> TokenVerifier:
    """How publisher and devportal verify a management token: signed with a key of
    keymanager's JWKS (as `fetch` gets it: `HttpJwks` from keymanager), of an account that
    still stands."""
    return TokenVerifier(
        JwksCache(fetch, refresh_seconds=settings.jwks_refresh_seconds),
        check_claims=standings.check_claims(),
    )


class StandingFollower:
    """Replays and follows `aigw.user.>` into `standings` over an existing NATS connection
    (the service's broker connection: no second login). Retries until the stream exists.
    Every event is verified (aigw.common.event_trust) before it is folded; an untrusted or
    unparseable one is dropped and counted, never folded."""

    def __init__(
        self,
        connection: NatsClient,
        verifier: EventVerifier,
        standings: AccountStandings,
        reconnects: Reconnects | None = None,
    ) -> None:
        self._nc = connection
        self._verifier = verifier
        self._standings = standings
        self._reconnects = reconnects
        self._reader: OrderedReader | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="account-standing-follower")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._reader is not None:
            await self._reader.stop()

    async def _run(self) -> None:
        await until_done(self._subscribe, "user events", log)

    async def _subscribe(self) -> None:
        js = self._nc.jetstream()
        info = await js.stream_info(STREAM_NAME, subjects_filter=USER_SUBJECTS)
        reader = OrderedReader(
            self._nc, STREAM_NAME, USER_SUBJECTS, self._on_message, name="account standing"
        )
        await reader.start()
        self._reader = reader
        if self._reconnects is not None:
            self._unsubscribe = self._reconnects.subscribe(reader.reconnected)
        if not info.state.subjects:  # no user event yet: nothing to replay
            self._standings.mark_caught_up()

    async def _on_message(self, msg: Msg) -> None:
        try:
            self._apply(msg)
        except Exception:  # one bad event must not stop the projection
            log.exception("skipping a user event on %s: cannot apply it", msg.subject)
        with contextlib.suppress(nats.errors.Error, AttributeError, ValueError):
            if msg.metadata.num_pending == 0:
                self._standings.mark_caught_up()

    def _apply(self, msg: Msg) -> None:
        envelope = accept(self._verifier, msg.subject, msg.data, msg.headers)
        if envelope is None:
            return
        try:
            payload = parse_payload(envelope)
        except ValidationError as exc:
            log.error("skipping a malformed user event: %s", exc.errors(include_input=False))
            return
        if isinstance(payload, UserCreated | UserUpdated | UserDeleted):
            self._standings.fold(payload)


@contextlib.asynccontextmanager
async def followed(
    runtime: ServiceRuntime, standings: AccountStandings, catch_up_seconds: float = 3.0
) -> AsyncIterator[StandingFollower]:
    """Follows the user events while the app runs; waits (a bounded time) for the replay, so
    a service that starts on a healthy bus answers its first request with the full view."""
    follower = StandingFollower(
        runtime.broker.connection, runtime.verifier, standings, runtime.reconnects
    )
    follower.start()
    try:
        if not await standings.wait_caught_up(catch_up_seconds):
            log.warning("account standing not caught up yet: not ready, tokens answered 503")
        yield follower
    finally:
        await follower.stop()


async def standing_ready(app: FastAPI) -> bool:
    """`runtime_ready`, and the account standing has caught up with the stream."""
    standings: AccountStandings | None = getattr(app.state, "standings", None)
    return standings is not None and standings.caught_up and await runtime_ready(app)
