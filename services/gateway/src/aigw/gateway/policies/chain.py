"""Passing an answer's events through the response runs (in the order `on_response` chose)."""

from collections.abc import Sequence

from aigw.gateway.policies.base import PolicyRun
from aigw.gateway.policies.sse import SseEvent


def through(runs: Sequence[PolicyRun], events: Sequence[SseEvent]) -> Sequence[SseEvent]:
    """`events` as they leave the last run: each run gets what the one before it let out
    (`on_event` returning None lets the event out unchanged)."""
    for run in runs:
        out: list[SseEvent] | None = None  # built only once a run changes something
        for index, event in enumerate(events):
            changed = run.on_event(event)
            if changed is not None:
                if out is None:
                    out = list(events[:index])
                out.extend(changed)
            elif out is not None:
                out.append(event)
        if out is not None:
            events = out
    return events


async def end_observed(runs: Sequence[PolicyRun]) -> None:
    """Tell runs that only observe that the stream is complete (they hold nothing); runs that
    keep the default `on_end` are skipped (an await costs more than the check)."""
    for run in runs:
        if type(run).on_end is not PolicyRun.on_end:
            await run.on_end()


def observe(runs: Sequence[PolicyRun], events: Sequence[SseEvent]) -> None:
    """Show `events` to runs that only observe (the stream goes out as it came)."""
    for event in events:
        for run in runs:
            run.on_event(event)


async def end(runs: Sequence[PolicyRun]) -> list[SseEvent]:
    """At the stream's end: what each run still held, passed through the runs after it."""
    out: list[SseEvent] = []
    for index, run in enumerate(runs):
        held = await run.on_end()
        if held:
            out.extend(through(runs[index + 1 :], held))
    return out


async def body_through(runs: Sequence[PolicyRun], body: bytes) -> bytes:
    for run in runs:
        body = await run.on_body(body)
    return body
