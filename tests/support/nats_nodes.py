"""NATS servers a test owns, to stop, kill and restart: one node (on a fixed port and store,
so a restart is the same server coming back) or a 3-node JetStream cluster on loopback (the
same nats-server binary, cluster routes on free ports). Both run with the session's
authorization (tests/support/infra.py): every service connects with its own nkey."""

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import nats
import nats.errors
from nats.js.api import StreamInfo

from aigw.common.crypto import sha256_hex
from aigw.common.events import Envelope, EventPayload
from aigw.common.messaging import signed_message
from aigw.devtools import nats_auth
from aigw.devtools.processes import ManagedProcess, free_port, venv_bin
from aigw.gateway.settings import Settings
from tests.support.bus import emitted
from tests.support.gateway import RunningGateway, run_gateway
from tests.support.infra import Infra
from tests.support.publisher import Publisher, running_publisher
from tests.support.tokens import TestSigner
from tests.support.waiting import eventually

CLUSTER = "aigw-test"


@dataclass
class NatsNode:
    name: str
    port: int
    store: Path
    config: Path
    cluster_port: int | None = None
    routes: Sequence[str] = ()
    process: ManagedProcess | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def argv(self) -> list[str]:
        argv = [venv_bin("nats-server"), "-c", str(self.config), "-js", "-a", "127.0.0.1"]
        argv += ["-p", str(self.port), "-sd", str(self.store), "-n", self.name]
        if self.cluster_port is not None:
            argv += [
                "--cluster_name",
                CLUSTER,
                "--cluster",
                f"nats://127.0.0.1:{self.cluster_port}",
            ]
            argv += ["--routes", ",".join(self.routes)]
        return argv

    def start(self) -> None:
        log = self.store.parent / f"{self.name}.log"
        self.process = ManagedProcess(self.name, self.argv(), port=self.port, log_path=log)
        self.process.start()
        self.process.wait_ready(20)

    def stop(self) -> None:
        """A clean shutdown (SIGTERM)."""
        if self.process is not None:
            self.process.stop()

    def kill(self) -> None:
        """`kill -9`: the node is gone without a word to its peers or clients."""
        if self.process is not None:
            self.process.kill()


@dataclass
class NatsCluster:
    nodes: list[NatsNode]

    @property
    def url(self) -> str:
        """Every node's URL, comma-separated: what NATS_URL holds for a cluster."""
        return ",".join(node.url for node in self.nodes)

    def node(self, name: str) -> NatsNode:
        return next(node for node in self.nodes if node.name == name)


def _config(workdir: Path, infra: Infra) -> Path:
    return infra.credentials / nats_auth.SERVER_CONFIG


@contextlib.contextmanager
def nats_node(infra: Infra, workdir: Path) -> Iterator[NatsNode]:
    """One server with JetStream and the session's authorization, streams not provisioned."""
    node = NatsNode("n1", free_port(), workdir / "n1-store", _config(workdir, infra))
    node.start()
    try:
        yield node
    finally:
        node.stop()


@contextlib.contextmanager
def own_nats(infra: Infra, workdir: Path) -> Iterator[Infra]:
    """`infra` on a provisioned NATS node of its own. For the tests of a service whose fresh
    database folds the stream from its first event (a durable consumer named after the
    database, the audit projection): on the session's NATS each would first fold every event
    all earlier tests published, and wait on that backlog rather than on its own events."""
    with nats_node(infra, workdir) as node:
        asyncio.run(nats_auth.provision_streams(node.url, infra.credentials))
        yield on_node(infra, node.url)


@contextlib.contextmanager
def nats_cluster(infra: Infra, workdir: Path, size: int = 3) -> Iterator[NatsCluster]:
    """`size` servers clustered on loopback; yields once every node is up (JetStream's meta
    leader may still be being elected: `jetstream_ready` waits for it)."""
    config = _config(workdir, infra)
    names = [f"n{i + 1}" for i in range(size)]
    cluster_ports = [free_port() for _ in names]
    routes = [f"nats://127.0.0.1:{port}" for port in cluster_ports]
    nodes = [
        NatsNode(name, free_port(), workdir / f"{name}-store", config, cport, routes)
        for name, cport in zip(names, cluster_ports, strict=True)
    ]
    cluster = NatsCluster(nodes)
    try:
        for node in nodes:
            node.process = ManagedProcess(
                node.name, node.argv(), port=node.port, log_path=workdir / f"{node.name}.log"
            )
            node.process.start()
        for node in nodes:
            assert node.process is not None
            node.process.wait_ready(20)
        yield cluster
    finally:
        for node in nodes:
            node.stop()


async def stream_info(url: str, infra: Infra, stream: str) -> StreamInfo:
    """The stream as the provisioner sees it (through any node of `url`)."""
    nc = await nats.connect(servers=url.split(","), **infra.nats_options())
    try:
        return await nc.jetstream().stream_info(stream)
    finally:
        await nc.close()


async def jetstream_ready(url: str, infra: Infra) -> bool:
    """JetStream answers its API (on a cluster: a meta leader has been elected)."""
    options: dict[str, Any] = infra.nats_options()
    try:
        nc = await nats.connect(servers=url.split(","), connect_timeout=1, **options)
    except Exception:  # noqa: BLE001 - not up yet
        return False
    try:
        await nc.jetstream().account_info()
    except Exception:  # noqa: BLE001 - not ready yet
        return False
    finally:
        await nc.close()
    return True


def on_node(infra: Infra, url: str) -> Infra:
    """The session's credentials and store with NATS at `url` (a node or cluster of a test's
    own), for the helpers that take an `Infra` (`running_publisher`, `bus_settings`)."""
    return dataclasses.replace(infra, nats_url=url)


@contextlib.asynccontextmanager
async def gateway_and_publisher(
    url: str,
    infra: Infra,
    secret_key: str,
    signer: TestSigner,
    gateway_settings: Settings,
    unique: str,
    key: str,
) -> AsyncIterator[tuple[RunningGateway, Publisher, httpx.AsyncClient]]:
    """A gateway (`gateway_settings` on the NATS at `url`) that knows `key`, a publisher
    (dev mode) on the same NATS and the gateway's client: the set-up of the tests that take
    their own NATS away while both serve."""
    settings = gateway_settings.model_copy(update={"nats_url": url})
    async with (
        run_gateway(settings) as gateway,
        running_publisher(on_node(infra, url), secret_key, signer, unique, dev_mode=True) as pub,
        gateway.client() as client,
    ):
        await gateway.wait_until(lambda: sha256_hex(key) in gateway.app.state.table.keys)
        yield gateway, pub, client


async def publish_on(url: str, infra: Infra, *payloads: EventPayload) -> list[Envelope]:
    """Each payload as its emitting service would publish it (identity, signature) to the
    NATS at `url`; retried (once per message id) while JetStream is not answering yet."""
    sent = [emitted(payload) for payload in payloads]
    for event in sent:
        await _publish_signed(url, infra, event)
    return sent


async def _publish_signed(url: str, infra: Infra, event: Envelope) -> None:
    body, headers = signed_message(event, infra.signer(event.source))
    nc = await nats.connect(servers=url.split(","), **infra.nats_options(event.source))
    try:
        js = nc.jetstream()
        await eventually(
            lambda: js.publish(event.type, body, headers=headers, timeout=1),
            ignoring=(nats.errors.Error,),
        )
    finally:
        await nc.close()
