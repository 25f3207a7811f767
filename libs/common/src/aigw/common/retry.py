"""Retrying a start-up step that needs NATS until it succeeds: a service keeps serving what it
has while the bus is away, and picks the stream up once it is back."""

import asyncio
import logging
from collections.abc import Awaitable, Callable

import nats.errors

# what a NATS or network outage raises; anything else is a bug and is not retried
TRANSIENT = (OSError, TimeoutError, nats.errors.Error)


async def until_done(
    attempt: Callable[[], Awaitable[None]],
    what: str,
    log: logging.Logger,
    after_failure: Callable[[], Awaitable[None]] | None = None,
    first_delay: float = 0.2,
    max_delay: float = 5.0,
) -> None:
    """Runs `attempt` until it returns, backing off exponentially between tries; `what` names
    it in the warning, `after_failure` cleans up before the next try."""
    delay = first_delay
    while True:
        try:
            await attempt()
            return
        except TRANSIENT as exc:
            log.warning("%s not reachable (%s); retrying in %.1fs", what, exc, delay)
            if after_failure is not None:
                await after_failure()
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)
