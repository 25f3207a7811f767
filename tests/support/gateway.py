"""The gateway under test: run in-process on a real socket (`run_gateway`) or as its own
process (`gateway_subprocess`), fed the events the management services would publish
(`Events`, `deploy_event`, `deploy_with_keys`, `set_plan`), called as a client would (`CHAT`,
`PATH`, `bearer`) and its answers read (`sse_data`, `usage_of`, `stream_usage`)."""

import asyncio
import contextlib
import json
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from aigw.common.crypto import SecretBox, provider_key_context, sha256_hex
from aigw.common.events import (
    ApiDeployed,
    DeployedEndpoint,
    EventPayload,
    KeyIssued,
    PolicyUpdated,
    QuotaLimit,
    SubscriptionCreated,
    SubscriptionUpdated,
)
from aigw.common.model_routing import ApiRouting
from aigw.common.vendors import VendorSpec, builtin_spec
from aigw.devtools.processes import ManagedProcess, free_port
from aigw.gateway.app import Gateway, create_app
from aigw.gateway.settings import Settings
from tests.support.bus import emitted, publish
from tests.support.infra import Infra
from tests.support.waiting import eventually

CHAT = {"model": "mistral-small", "messages": [{"role": "user", "content": "Count my tokens"}]}
PATH = "/v1/chat/completions"
# The mock provider's per-request controls: the operator lets them through (GATEWAY_FORWARD_HEADERS)
MOCK_CONTROL_HEADERS = (
    "x-mock-latency-ms,x-mock-status,x-mock-chunk-delay-ms,x-mock-break-after-chunks,x-mock-usage"
)


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def sse_data(raw: bytes) -> list[str]:
    """The `data:` payloads of a server-sent event stream, in order."""
    return [e[6:] for e in raw.decode().split("\n\n") if e.startswith("data: ")]


def builtin(name: str, version: str) -> VendorSpec:
    spec = builtin_spec(name, version)
    assert spec is not None
    return spec


OPENAI = builtin("OpenAI", "v1")


@dataclass
class Events:
    """Puts events on the bus as the management services would (their identity, signed)."""

    nats_url: str
    box: SecretBox
    published: list[str] = field(default_factory=list)

    async def publish(self, *payloads: EventPayload) -> None:
        """Each payload as the service that owns its subject emits it (identity, signature)."""
        for payload in payloads:
            env = emitted(payload)
            await publish(env, url=self.nats_url)
            self.published.append(env.id)

    def encrypt(self, key: str, api_id: str, endpoint: str, url: str) -> str:
        """The key sealed as the publisher seals it for the endpoint at `url`."""
        return self.box.encrypt(key, provider_key_context(api_id, endpoint, url))


@dataclass
class RunningGateway:
    app: Gateway
    url: str
    settings: Settings

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=10, **kwargs)

    async def wait_route(self, prefix: str, revision: int = 1, timeout: float = 5.0) -> float:
        """Seconds until `prefix` routes at `revision` or later."""
        started = asyncio.get_running_loop().time()

        def at_revision(route: Any) -> bool:
            return route is not None and route.revision >= revision

        await eventually(
            lambda: self.app.state.table.routes.get(prefix),
            at_revision,
            timeout=timeout,
            interval=0.01,
            what=f"{prefix} routed at revision {revision}",
        )
        return asyncio.get_running_loop().time() - started

    async def wait_until(self, check: Callable[[], object], timeout: float = 5.0) -> None:
        """Until `check()` (a look at the gateway's state, say) holds."""
        await eventually(check, timeout=timeout, interval=0.01)


@contextlib.asynccontextmanager
async def run_gateway(settings: Settings) -> AsyncIterator[RunningGateway]:
    """The gateway's app served by uvicorn on this event loop, caught up with the stream."""
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=settings.port,
        loop="none",
        http="httptools",
        access_log=False,
        log_level="warning",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())

    def started() -> bool:
        if task.done():
            task.result()  # it failed to start: say why
        return server.started

    try:
        await eventually(started, interval=0.01, what="the gateway listening")
        await app.follower.wait_caught_up(10)
        yield RunningGateway(app, f"http://127.0.0.1:{settings.port}", settings)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


@contextlib.contextmanager
def gateway_processes(
    infra: Infra, secret_key: str, logs: Path, name: str, count: int = 2
) -> Iterator[list[str]]:
    """`count` gateway processes on one bus, started at once, their URLs once all are ready."""
    processes = [
        gateway_command(
            infra,
            secret_key,
            logs / f"{name}-{index}.log",
            GATEWAY_NAME=f"{name}{index}",
            AIGW_LOG_LEVEL="WARNING",
            GATEWAY_FORWARD_HEADERS=MOCK_CONTROL_HEADERS,
        )
        for index in range(count)
    ]
    try:
        for process in processes:
            process.start()
        for process in processes:
            process.wait_ready(30)
        yield [f"http://127.0.0.1:{p.port}" for p in processes]
    finally:
        for process in processes:
            process.stop()


async def metric(client: httpx.AsyncClient, url: str, name: str) -> float:
    """The value of an unlabelled metric on a gateway's `/metrics`."""
    text = (await client.get(f"{url}/metrics")).text
    [line] = [line for line in text.splitlines() if line.startswith(f"{name} ")]
    return float(line.split()[1])


def gateway_command(infra: Infra, secret_key: str, log_path: Path, **env: str) -> ManagedProcess:
    """`python -m aigw.gateway` (not started yet) on a free GATEWAY_PORT (or the one in `env`),
    in dev mode (the mock provider is on this machine); `env`: more of its environment."""
    port = int(env.get("GATEWAY_PORT") or free_port())
    environment = {
        **infra.bus_env("gateway"),
        "AIGW_SECRET_KEY": secret_key,
        "GATEWAY_PORT": str(port),
        "AIGW_DEV_MODE": "true",
        "GATEWAY_DRAIN_SECONDS": "0",  # no load balancer to wait for (tests of draining set it)
        **env,
    }
    return ManagedProcess(
        log_path.stem,
        [sys.executable, "-m", "aigw.gateway"],
        port=int(env.get("GATEWAY_HTTPS_PORT") or port),
        env=environment,
        ready_url=f"http://127.0.0.1:{port}/health/ready",
        log_path=log_path,
    )


@contextlib.contextmanager
def gateway_subprocess(
    infra: Infra, secret_key: str, log_path: Path, **env: str
) -> Iterator[ManagedProcess]:
    """`gateway_command`'s process, started and ready; stopped on the way out."""
    process = gateway_command(infra, secret_key, log_path, **env)
    process.start()
    try:
        process.wait_ready(30)
        yield process
    finally:
        process.stop()


@dataclass
class Deployed:
    api_id: str
    prefix: str
    app_id: str
    production_key: str
    sandbox_key: str
    unique: str

    @property
    def label(self) -> str:
        """The API's `api` label in the gateway's metrics (`deploy_event`'s name:version)."""
        return f"Chat {self.unique}:1.0"


def deploy_event(
    events: Events,
    api_id: str,
    prefix: str,
    mock_url: str,
    unique: str,
    *,
    revision: int = 1,
    vendor: VendorSpec = OPENAI,
    production_url: str | None = None,
    sandbox: bool = True,
    endpoints: dict[str, str] | None = None,
    routing: ApiRouting | None = None,
    production_key: str | None = "mock-provider-key",
    guardrails: Sequence[Any] = (),
) -> ApiDeployed:
    """A deploy of the mock: production and (unless `sandbox=False`) sandbox endpoints, plus
    additional `endpoints` (name → URL, all with the mock's production key) and `routing`.
    `production_key`: the production endpoint's provider key (None: called without one)."""
    production = production_url or f"{mock_url}/production/{unique}"
    sandbox_url = f"{mock_url}/sandbox/{unique}"
    return ApiDeployed(
        api_id=api_id,
        revision=revision,
        name=f"Chat {unique}",
        version="1.0",
        route_prefix=prefix,
        vendor=vendor,
        production=DeployedEndpoint(
            url=production,
            api_key_ciphertext=None
            if production_key is None
            else events.encrypt(production_key, api_id, "production", production),
        ),
        sandbox=DeployedEndpoint(
            url=sandbox_url,
            api_key_ciphertext=events.encrypt("mock-sandbox-key", api_id, "sandbox", sandbox_url),
        )
        if sandbox
        else None,
        endpoints={
            name: DeployedEndpoint(
                url=url, api_key_ciphertext=events.encrypt("mock-provider-key", api_id, name, url)
            )
            for name, url in (endpoints or {}).items()
        },
        routing=routing or ApiRouting(),
        guardrails=list(guardrails),
    )


def access(
    api_id: str, app_id: str, key: str, policy: str = "U"
) -> list[SubscriptionCreated | KeyIssued]:
    """The application's subscription to the API (on `policy`) and its PRODUCTION key: the
    two events every test that calls an API through a gateway publishes."""
    return [
        SubscriptionCreated(
            subscription_id=f"sub-{app_id}", application_id=app_id, api_id=api_id, policy=policy
        ),
        KeyIssued(
            key_id=f"k-{app_id}",
            key_hash=sha256_hex(key),
            application_id=app_id,
            key_type="PRODUCTION",
        ),
    ]


async def deploy_with_keys(
    events: Events,
    gateway: RunningGateway,
    mock_provider: str,
    unique: str,
    **deploy_options: Any,
) -> Deployed:
    """Deploy an API, subscribe an application, issue its PRODUCTION and SANDBOX keys, and
    wait until the gateway knows all of it."""
    api_id, app_id = f"api-{unique}", f"app-{unique}"
    prefix = f"chat{unique}/1.0"
    keys = {"PRODUCTION": f"prod-{unique}", "SANDBOX": f"sand-{unique}"}
    await events.publish(
        deploy_event(events, api_id, prefix, mock_provider, unique, **deploy_options),
        SubscriptionCreated(
            subscription_id=f"sub-{unique}",
            application_id=app_id,
            api_id=api_id,
            policy="Unlimited",
        ),
        *(
            KeyIssued(
                key_id=f"k{key_type[0].lower()}-{unique}",
                key_hash=sha256_hex(key),
                application_id=app_id,
                key_type=key_type,  # type: ignore[arg-type]
            )
            for key_type, key in keys.items()
        ),
    )
    await gateway.wait_route(prefix)
    await gateway.wait_until(
        lambda: all(sha256_hex(k) in gateway.app.state.table.keys for k in keys.values())
    )
    return Deployed(api_id, prefix, app_id, keys["PRODUCTION"], keys["SANDBOX"], unique)


async def provision(events: Events, mock_provider: str, prefix_stem: str = "gw") -> tuple[str, str]:
    """A deployed API, a subscribed application and its key, for a gateway this test does not
    hold the state of (its own process): (route prefix, key)."""
    unique = uuid.uuid4().hex[:8]
    api_id, app_id, prefix, key = (
        f"api-{unique}",
        f"app-{unique}",
        f"{prefix_stem}{unique}/1.0",
        unique,
    )
    await events.publish(
        deploy_event(events, api_id, prefix, mock_provider, unique),
        *access(api_id, app_id, key),
    )
    return prefix, key


async def until_served(client: httpx.AsyncClient, url: str, key: str) -> httpx.Response:
    """The first answer to a chat call that is not the gateway still learning the route, the
    subscription or the key from the events (401, 403, 404)."""
    return await eventually(
        lambda: client.post(url, json=CHAT, headers=bearer(key)),
        lambda response: response.status_code not in (401, 403, 404),
        interval=0.05,
        what=f"{url} served",
    )


async def set_plan(
    events: Events,
    gateway: RunningGateway,
    d: Deployed,
    *limits: QuotaLimit,
    default_completion_tokens: int = 256,
) -> str:
    """Create a plan with `limits` and move the deployed subscription to it."""
    name = f"plan-{d.unique}-{len(events.published)}"
    await events.publish(
        PolicyUpdated(
            name=name, limits=list(limits), default_completion_tokens=default_completion_tokens
        ),
        SubscriptionUpdated(
            subscription_id=f"sub-{d.unique}", application_id=d.app_id, api_id=d.api_id, policy=name
        ),
    )
    table = gateway.app.state.table
    await gateway.wait_until(lambda: table.subscription_policies.get((d.app_id, d.api_id)) == name)
    return name


def usage_of(body: dict[str, Any]) -> tuple[int, int, int]:
    usage = body["usage"]
    return usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]


def stream_usage(raw: bytes) -> tuple[int, int, int] | None:
    for data in sse_data(raw):
        if data != "[DONE]" and json.loads(data).get("usage"):
            return usage_of(json.loads(data))
    return None
