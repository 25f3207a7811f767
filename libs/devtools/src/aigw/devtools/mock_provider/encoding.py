"""Gzip-encoded answers (`"gzip": true`), as some providers send, streams included."""

import zlib

from aigw.devtools.mock_provider.asgi import Message, Send


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an `Accept-Encoding` value accepts gzip (`gzip` or `*`, with a q above 0)."""
    for item in accept_encoding.lower().split(","):
        coding, _, params = item.partition(";")
        if coding.strip() not in ("gzip", "*"):
            continue
        q = params.strip().removeprefix("q=")
        try:
            return not params.strip() or float(q) > 0
        except ValueError:
            return False
    return False


def gzipped(send: Send) -> Send:
    """`send` with the response gzip-encoded: each body chunk compressed and flushed at once,
    so a stream stays a stream (as providers that compress their SSE do)."""
    compressor = zlib.compressobj(wbits=16 + zlib.MAX_WBITS)

    async def send_gzipped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message["headers"] if k != b"content-length"]
            headers.append((b"content-encoding", b"gzip"))
            message = {**message, "headers": headers}
        elif message["type"] == "http.response.body":
            data = compressor.compress(message.get("body", b""))
            more = message.get("more_body", False)
            data += compressor.flush(zlib.Z_SYNC_FLUSH if more else zlib.Z_FINISH)
            message = {**message, "body": data}
        await send(message)

    return send_gzipped
