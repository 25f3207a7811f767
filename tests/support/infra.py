"""Real infrastructure for the integration and end-to-end tiers.

MongoDB: `MONGODB_URL` if set; else testcontainers when a Docker engine answers; else the
embedded mongoeco server, started as its own process (in memory). NATS: the real nats-server
binary from the venv, with JetStream, on a free port, with the same authorization as
`make run`: every identity's nkey generated for the session (aigw.devtools.nats_auth), nothing
connects without one, and the streams provisioned as the provisioner.
"""

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aigw.common.event_trust import EventSigner, EventVerifier
from aigw.common.identity import PROVISIONER, Identity, read_trust_file
from aigw.devtools import nats_auth
from aigw.devtools.processes import free_port, mongo_store, nats_server


@dataclass(frozen=True)
class Infra:
    nats_url: str
    mongodb_url: str
    mongodb_mode: str
    credentials: Path

    def bus_settings(self, identity: str) -> dict[str, Any]:
        """Settings fields that put a service on the bus as `identity`."""
        return {
            "nats_url": self.nats_url,
            "nats_seed_file": nats_auth.seed_path(self.credentials, identity),
            "trust_file": self.credentials / nats_auth.TRUST_FILE,
        }

    def bus_env(self, identity: str) -> dict[str, str]:
        """The same, as the environment of a service process."""
        return {
            "NATS_URL": self.nats_url,
            "NATS_SEED_FILE": str(nats_auth.seed_path(self.credentials, identity)),
            "AIGW_TRUST_FILE": str(self.credentials / nats_auth.TRUST_FILE),
        }

    def nats_options(self, identity: str = PROVISIONER) -> dict[str, str]:
        """nats.connect options for `identity` (the provisioner may read every stream)."""
        return nats_auth.connect_options(self.credentials, identity)

    def identity(self, name: str) -> Identity:
        return Identity.load(name, nats_auth.seed_path(self.credentials, name))

    def signer(self, name: str) -> EventSigner:
        return EventSigner(self.identity(name))

    def verifier(self) -> EventVerifier:
        """What every service verifies events with: the session's trust file."""
        return EventVerifier(read_trust_file(self.credentials / nats_auth.TRUST_FILE))


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
def _nats(workdir: Path, credentials: Path) -> Iterator[str]:
    config = credentials / nats_auth.SERVER_CONFIG
    server = nats_server(free_port(), workdir / "jetstream", config, workdir / "nats.log")
    server.start()
    try:
        server.wait_ready()
        url = f"nats://127.0.0.1:{server.port}"
        nats_auth.provision_streams_now(url, credentials)
        yield url
    finally:
        server.stop()


_session: list[Infra] = []  # the running infrastructure, for helpers given only a NATS URL


def session_infra() -> Infra:
    if not _session:
        raise RuntimeError("no test infrastructure is running (use the `infra` fixture)")
    return _session[-1]


def connect_options(identity: str = PROVISIONER) -> dict[str, str]:
    """nats.connect options for `identity` on the session's NATS server."""
    return session_infra().nats_options(identity)


@contextlib.contextmanager
def running_infra(workdir: Path) -> Iterator[Infra]:
    credentials = workdir / "credentials"
    nats_auth.ensure_credentials(credentials)
    with _nats(workdir, credentials) as nats_url, _mongodb(workdir) as (mongodb_url, mode):
        running = Infra(
            nats_url=nats_url, mongodb_url=mongodb_url, mongodb_mode=mode, credentials=credentials
        )
        _session.append(running)
        try:
            yield running
        finally:
            _session.remove(running)
