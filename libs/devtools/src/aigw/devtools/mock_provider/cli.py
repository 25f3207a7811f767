"""`python -m aigw.devtools.mock_provider`: serve the mock with uvicorn."""

import argparse
import os

from aigw.devtools.mock_provider.app import create_app
from aigw.devtools.mock_provider.config import DEFAULT_API_KEYS, MockConfig


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Mock AI provider (OpenAI, Anthropic, Acme)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument(
        "--api-keys",
        default=os.environ.get("MOCK_PROVIDER_API_KEYS") or DEFAULT_API_KEYS,
        help="comma-separated accepted provider keys",
    )
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--chunk-delay-ms", type=float, default=0.0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    args = _arguments(argv)
    config = MockConfig.from_keys(
        args.api_keys, latency_ms=args.latency_ms, chunk_delay_ms=args.chunk_delay_ms
    )
    uvicorn.run(
        create_app(config),
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=2,
    )
