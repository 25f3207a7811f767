"""Gateway processes with a state directory (GATEWAY_STATE_DIR: the routing table's snapshot,
the usage spool) on a NATS node of the test's own (tests/support/nats_nodes.py), to stop,
restart and kill -9 while NATS is up or down; an API for them to serve (`api_with_key`), what
they say about themselves (`readiness`) and what reached the usage stream (`usage_records`)."""

import uuid
from pathlib import Path

import httpx

from aigw.common.events import (
    PolicyUpdated,
    UsageRecord,
    UsageRecorded,
)
from aigw.devtools.processes import ManagedProcess, free_port, port_open
from tests.support.events import stream_events
from tests.support.gateway import (
    MOCK_CONTROL_HEADERS,
    Events,
    access,
    deploy_event,
    gateway_command,
)
from tests.support.infra import Infra
from tests.support.nats_nodes import NatsNode, publish_on
from tests.support.restartable import RestartableProcess
from tests.support.waiting import eventually


class StatefulGateway(RestartableProcess):
    """One gateway's settings (port, state directory, node); each `run` is a new process.
    `stop` is SIGTERM: the gateway writes its snapshot and spools what it has not sent;
    `kill` is kill -9: nothing written on the way out."""

    stop_timeout = 15.0

    def __init__(
        self, infra: Infra, secret_key: str, node: NatsNode, workdir: Path, **env: str
    ) -> None:
        super().__init__("gateway", workdir)
        self.infra, self.secret_key, self.node = infra, secret_key, node
        self.state_dir = workdir / "gateway-state"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            "NATS_URL": node.url,
            "GATEWAY_STATE_DIR": str(self.state_dir),
            "GATEWAY_PORT": str(self.port),
            "GATEWAY_FORWARD_HEADERS": MOCK_CONTROL_HEADERS,
            "AIGW_LOG_LEVEL": "INFO",
            **env,
        }

    @property
    def snapshot(self) -> Path:
        return self.state_dir / "routing-snapshot.bin"

    def new_process(self, log_path: Path) -> ManagedProcess:
        return gateway_command(self.infra, self.secret_key, log_path, **self.env)

    async def wait_listening(self) -> None:
        await eventually(lambda: port_open(self.port), what=f"{self.url} listening")


async def api_with_key(
    nats_url: str,
    infra: Infra,
    events: Events,
    mock: str,
    plan: PolicyUpdated | None = None,
    *,
    stem: str = "off",
) -> tuple[str, str]:
    """An API deployed to the mock, subscribed (to the `plan` given: a PolicyUpdated), with a
    key, published to the NATS at `nats_url` (a node or cluster of the test's own): (route
    prefix, key)."""
    unique = uuid.uuid4().hex[:8]
    api_id, app_id, prefix, key = f"api-{unique}", f"app-{unique}", f"{stem}{unique}/1.0", unique
    await publish_on(
        nats_url,
        infra,
        *([plan] if plan is not None else []),
        deploy_event(events, api_id, prefix, mock, unique),
        *access(api_id, app_id, key, plan.name if plan is not None else "U"),
    )
    return prefix, key


async def readiness(client: httpx.AsyncClient, url: str) -> tuple[int, dict[str, str]]:
    response = await client.get(f"{url}/health/ready")
    return response.status_code, response.json()


async def usage_records(nats_url: str) -> tuple[list[UsageRecorded], list[UsageRecord]]:
    """Every usage batch in the usage stream of the NATS at `nats_url`, and their records."""
    batches = [
        UsageRecorded.from_envelope(e) for e in await stream_events(nats_url, UsageRecorded.TYPE)
    ]
    return batches, [record for batch in batches for record in batch.records]
