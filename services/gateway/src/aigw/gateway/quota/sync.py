"""Quota sharing between gateway processes over core NATS (`QUOTA_SYNC_SUBJECT`).

Every `interval` each process publishes its own absolute counts for the windows that changed
(reservations included), an empty message when only peers were active (it confirms their
counts, see quota.book), and all of them every second (a heartbeat, and how a process that
starts mid-window learns the others' counts). Receivers replace what that process said before,
so a lost or repeated message does no lasting harm. A peer not heard from for three seconds no
longer counts as live, nor one that said goodbye on shutdown (its counts stay: that use
happened).

While NATS is away (or before it was ever reached: a gateway started from its snapshot) each
process counts alone: three seconds after the last message its peers no longer count as live,
so it admits against its own charges plus the peers' last reported counts, as a single gateway
would; n processes may then together admit up to n times what is left of a limit. Once NATS is
back the heartbeats resume: within a second every process has the others' counts again
(a newcomer, or one back, gets everyone's full counts at the next tick) and sharing resumes.

Only gateways may publish on the subject (NATS permissions), and each message is signed with
the gateway's event key and verified like an event: an unsigned or forged message is dropped,
and so is one whose counts are not plausible (negative, not integers, or beyond any real use),
whole, since a peer's counts replace what it said before.
"""

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg

from aigw.common.event_trust import EventSigner, EventVerifier, RejectedEvent
from aigw.common.messaging import QUOTA_SYNC_SUBJECT
from aigw.gateway.quota.book import Key, QuotaBook
from aigw.gateway.routing.plans import UNIT_SECONDS

log = logging.getLogger(__name__)

FULL_EVERY = 1.0
PEER_TTL = 3.0
# far above any real window's use (a trillion tokens), far below what breaks arithmetic
MAX_COUNT = 10**12
MAX_WINDOWS_PER_MESSAGE = 100_000
DAY = 86_400
CLOCK_SKEW = 60.0


class QuotaSync:
    def __init__(
        self,
        book: QuotaBook,
        connection: Callable[[], NatsClient | None],
        interval: float,
        signer: EventSigner,
        verifier: EventVerifier,
    ) -> None:
        self.book = book
        self._signer = signer
        self._verifier = verifier
        self.origin = uuid.uuid4().hex
        self.interval = interval
        self._connection = connection
        self._seen: dict[str, float] = {}
        self._full_due = True  # publish everything at the first tick, and when a peer appears
        self._heard: set[str] = set()  # peers that published since our last publication
        self._tick = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="gateway-quota-sync")

    async def stop(self) -> None:
        """Stop, and tell the peers this process is gone (they stop waiting for it at once)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        nc = self._connection()
        if nc is not None and nc.is_connected:
            with contextlib.suppress(Exception):
                await self._send(nc, json.dumps({"o": self.origin, "bye": 1}).encode())
                await nc.flush(timeout=1)

    async def next_tick(self) -> None:
        """Wait for the next publication (at most a few intervals)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._tick.wait(), self.interval * 4)

    async def _run(self) -> None:
        while True:
            nc = await self._connected()
            try:
                await self._exchange(nc)
            except Exception as exc:  # noqa: BLE001 - NATS gone meanwhile: the next connection
                log.debug("quota sync interrupted: %r", exc)
                await asyncio.sleep(self.interval)

    async def _exchange(self, nc: NatsClient) -> None:
        """Publish and hear counts on `nc` while it is the connection (the follower makes a
        new one when its first attempts failed after connecting)."""
        sub = await nc.subscribe(QUOTA_SYNC_SUBJECT, cb=self._on_message)
        try:
            last_full = 0.0
            while self._connection() is nc:
                await asyncio.sleep(self.interval)
                now = time.time()
                full = self._full_due or now - last_full >= FULL_EVERY
                if full:
                    last_full, self._full_due = now, False
                    self._housekeeping(now)
                await self._publish(nc, full)
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def _connected(self) -> NatsClient:
        while (nc := self._connection()) is None or not nc.is_connected:
            await asyncio.sleep(self.interval)
        return nc

    def _housekeeping(self, now: float) -> None:
        self.book.forget_ended(now)
        for origin in [o for o, seen in self._seen.items() if now - seen > PEER_TTL]:
            self._forget(origin)

    def _forget(self, origin: str) -> None:
        """A peer left (or went silent): no longer wait for it; its counts stay."""
        self._seen.pop(origin, None)
        self._heard.discard(origin)
        self.book.peers = len(self._seen)

    async def _publish(self, nc: NatsClient, full: bool) -> None:
        """Publish changed counts; also an empty message when peers are active, so they can
        confirm their own counts (see quota.book)."""
        confirmed = self._heard >= self._seen.keys()
        active = bool(self._heard)
        self._heard = set()
        changes = self.book.take_changes(everything=full, confirmed=confirmed)
        tick, self._tick = self._tick, asyncio.Event()
        tick.set()
        if not changes and not full and not active:
            return
        counters = [[*key, *counts] for key, counts in changes]
        payload = json.dumps({"o": self.origin, "c": counters}, separators=(",", ":"))
        try:
            await self._send(nc, payload.encode())
        except Exception as exc:  # noqa: BLE001 - NATS down: the next full publication resends
            log.debug("quota sync publish failed: %r", exc)

    async def _send(self, nc: NatsClient, body: bytes) -> None:
        headers = self._signer.headers(QUOTA_SYNC_SUBJECT, body)
        await nc.publish(QUOTA_SYNC_SUBJECT, body, headers=headers)

    async def _on_message(self, msg: Msg) -> None:
        try:
            self._verifier.authenticate(QUOTA_SYNC_SUBJECT, msg.data, msg.headers)
            data: Any = json.loads(msg.data)
            origin = data["o"]
            if not isinstance(origin, str) or origin == self.origin:
                return
            if data.get("bye"):
                self._forget(origin)
                return
            windows = _plausible(data["c"], time.time())
            if origin not in self._seen:  # a newcomer: tell it our counts at the next tick
                self.book.peers = len(self._seen) + 1
                self._full_due = True
            self._seen[origin] = time.time()
            self._heard.add(origin)
            for key, counts in windows:
                self.book.peer_update(origin, key, counts)
        except RejectedEvent as exc:
            log.warning("ignoring an untrusted quota sync message: %s", exc)
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("ignoring a malformed quota sync message: %r", exc)


def _plausible(windows: Any, now: float) -> list[tuple[Key, tuple[int, ...]]]:
    """A peer's windows, each `[app, api, unit, start, requests, prompt, completion, total]`;
    ValueError for the whole message if any is malformed or implausible."""
    if not isinstance(windows, list) or len(windows) > MAX_WINDOWS_PER_MESSAGE:
        raise ValueError("counts are not a list of windows")
    checked = []
    for window in windows:
        if not isinstance(window, list) or len(window) != 8:
            raise ValueError("a window is not [app, api, unit, start, 4 counts]")
        app, api, unit, start, *counts = window
        if not (isinstance(app, str) and isinstance(api, str) and unit in UNIT_SECONDS):
            raise ValueError("a window names no application, API or unit")
        # a window that has not begun, or ended more than a day ago, is no peer's current use
        if type(start) is not int or not now - 2 * DAY <= start <= now + CLOCK_SKEW:
            raise ValueError("a window's start is not a current window")
        if not all(type(n) is int and 0 <= n <= MAX_COUNT for n in counts):
            raise ValueError(f"a count that is not an integer in [0, {MAX_COUNT}]")
        checked.append(((app, api, unit, start), tuple(counts)))
    return checked
