"""Faults injected before a wire format answers (latency, then a failure status) and the
exception a deliberately broken stream ends with."""

import asyncio

from aigw.devtools.mock_provider import control
from aigw.devtools.mock_provider.asgi import ErrorShape, Send, error_response


class StreamBroken(Exception):
    """Raised after a streamed answer started, on purpose (`breakAfterChunks`): the server then
    closes the connection without the terminating chunk, so the client sees a truncated body."""


async def inject(
    controls: control.Controls, headers: dict[str, str], errors: ErrorShape, send: Send
) -> bool:
    """Wait the latency, then answer the failure if one is asked for (in the format's error
    shape); True when the failure was the answer."""
    latency = control.latency_ms(controls, headers)
    if latency > 0:
        await asyncio.sleep(latency / 1000)
    status = control.fail_status(controls, headers)
    if status and status >= 400:
        await error_response(send, errors, status, f"Mock failure with status {status}")
        return True
    return False
