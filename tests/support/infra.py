"""Real infrastructure for the integration and end-to-end tiers.

MongoDB: `MONGODB_URL` if set; else testcontainers when a Docker engine answers; else the
embedded mongoeco server, started as its own process (in memory). NATS: `NATS_URL` if set;
else the real nats-server binary from the venv, with JetStream, on a free port.
"""

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from aigw.devtools.processes import free_port, mongo_store, nats_server


@dataclass(frozen=True)
class Infra:
    nats_url: str
    mongodb_url: str
    mongodb_mode: str


def _docker_available() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        import docker  # type: ignore[import-untyped]

        docker.from_env().ping()
    except Exception:  # noqa: BLE001 - any failure means: no usable engine
        return False
    return True


@contextlib.contextmanager
def _mongodb(workdir: Path) -> Iterator[tuple[str, str]]:
    if url := os.environ.get("MONGODB_URL"):
        yield url, "external"
        return
    if _docker_available():
        from testcontainers.mongodb import MongoDbContainer

        with MongoDbContainer("mongo:8") as container:
            yield container.get_connection_url(), "testcontainers"
        return
    store = mongo_store(free_port(), None, workdir / "mongoeco.log")
    store.start()
    try:
        store.wait_ready()
        yield f"mongodb://127.0.0.1:{store.port}/?directConnection=true", "mongoeco"
    finally:
        store.stop()


@contextlib.contextmanager
def _nats(workdir: Path) -> Iterator[str]:
    if url := os.environ.get("NATS_URL"):
        yield url
        return
    server = nats_server(free_port(), workdir / "jetstream", workdir / "nats.log")
    server.start()
    try:
        server.wait_ready()
        yield f"nats://127.0.0.1:{server.port}"
    finally:
        server.stop()


@contextlib.contextmanager
def running_infra(workdir: Path) -> Iterator[Infra]:
    with _nats(workdir) as nats_url, _mongodb(workdir) as (mongodb_url, mode):
        yield Infra(nats_url=nats_url, mongodb_url=mongodb_url, mongodb_mode=mode)
