"""Serve the embedded MongoDB-compatible store (mongoeco) on a TCP port, until SIGTERM.

Run by `make run` (SQLite file in its data folder, aigw.devtools.data_dir) and by the test
fixtures (in memory). The services never import this: they only see a mongodb:// URL.
"""

import argparse
import asyncio
import signal

from mongoeco.engines.memory import MemoryEngine
from mongoeco.engines.sqlite import SQLiteEngine
from mongoeco.wire.proxy import AsyncMongoEcoProxyServer

from aigw.devtools import store_patches


async def serve(port: int, sqlite: str | None) -> None:
    store_patches.apply()
    engine = SQLiteEngine(sqlite) if sqlite else MemoryEngine()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with AsyncMongoEcoProxyServer(engine=engine, host="127.0.0.1", port=port) as server:
        print(f"mongoeco listening on {server.address.uri}", flush=True)
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=27017)
    parser.add_argument("--sqlite", help="SQLite file to persist to (default: in memory)")
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.sqlite))


if __name__ == "__main__":
    main()
