"""The whole platform as child processes: NATS, the store, the mock provider, the local
embedding model (aigw.devtools.local_embeddings, the gateway's GATEWAY_EMBEDDINGS_URL), the
four services and the snapshotter (aigw.gateway.snapshotter: the shared routing table snapshot
a gateway with no table of its own starts from).

Shared by `make run` (documented ports; its data folder from aigw.devtools.data_dir), the
end-to-end tests and the benchmark (free ports; their own NATS and store, or ones they are
given).
"""

import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Self

from aigw.common.identity import SNAPSHOTTER
from aigw.devtools import local_embeddings, nats_auth
from aigw.devtools.processes import ManagedProcess, free_port, mongo_store, nats_server

SERVICES = ("keymanager", "publisher", "devportal", "gateway")
INFRA = ("nats", "mongodb")


@dataclass
class Ports:
    publisher: int = 8001
    devportal: int = 8002
    keymanager: int = 8003
    snapshotter: int = 8004
    gateway: int = 8280
    mock_provider: int = 8090
    embeddings: int = 8091
    nats: int = 4222
    mongodb: int = 27017

    @classmethod
    def free(cls) -> "Ports":
        return cls(*(free_port() for _ in fields(cls)))


@dataclass
class StackConfig:
    data_dir: Path
    secret_key: str
    admin_password: str
    ports: Ports = field(default_factory=Ports)
    nats_url: str | None = None  # external NATS: not started here (configured with credentials)
    credentials_dir: Path | None = None  # default: data_dir/credentials
    mongodb_url: str | None = None  # external MongoDB: not started here
    persist_store: bool = True  # embedded store on a SQLite file (else in memory)
    db_prefix: str = "aigw"
    mock_provider_keys: str = "mock-provider-key,mock-sandbox-key"
    extra_env: dict[str, str] = field(default_factory=dict)
    # off for a stack on a NATS others share (the tests' session NATS): its snapshot in the
    # AIGW_SNAPSHOTS bucket would change how every later gateway on that NATS starts
    snapshotter: bool = True


class Stack:
    def __init__(self, config: StackConfig) -> None:
        self.config = config
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.logs = config.data_dir / "logs"
        self.logs.mkdir(exist_ok=True)
        self.credentials = config.credentials_dir or config.data_dir / "credentials"
        nats_auth.ensure_credentials(self.credentials)
        ports = config.ports
        self.nats_url = config.nats_url or f"nats://127.0.0.1:{ports.nats}"
        self.mongodb_url = (
            config.mongodb_url or f"mongodb://127.0.0.1:{ports.mongodb}/?directConnection=true"
        )
        self.processes: list[ManagedProcess] = [
            *self._infra(),
            self._mock(),
            self._embeddings(),
            *self._services(),
            *([self._snapshotter()] if config.snapshotter else []),
        ]

    @staticmethod
    def port_variable(name: str) -> str:
        """The variable make run reads a port from (`mock-provider`: MOCK_PROVIDER_PORT)."""
        return f"{name.replace('-', '_').upper()}_PORT"

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{getattr(self.config.ports, name)}"

    def _infra(self) -> list[ManagedProcess]:
        procs = []
        if self.config.nats_url is None:
            store = self.config.data_dir / "jetstream"
            config = self.credentials / nats_auth.SERVER_CONFIG
            procs.append(nats_server(self.config.ports.nats, store, config, self.logs / "nats.log"))
        if self.config.mongodb_url is None:
            sqlite = self.config.data_dir / "store.sqlite" if self.config.persist_store else None
            procs.append(mongo_store(self.config.ports.mongodb, sqlite, self.logs / "mongodb.log"))
        return procs

    def _mock(self) -> ManagedProcess:
        port = self.config.ports.mock_provider
        argv = [sys.executable, "-m", "aigw.devtools.mock_provider", "--port", str(port)]
        argv += ["--api-keys", self.config.mock_provider_keys]
        return ManagedProcess(
            "mock-provider", argv, port=port, log_path=self.logs / "mock-provider.log"
        )

    @property
    def embeddings_url(self) -> str:
        return f"{self.url('embeddings')}/v1/embeddings"

    def _embeddings(self) -> ManagedProcess:
        return local_embeddings.process(self.config.ports.embeddings, self.logs / "embeddings.log")

    def _services(self) -> list[ManagedProcess]:
        return [self._service(name, getattr(self.config.ports, name)) for name in SERVICES]

    def _service(self, name: str, port: int, **extra: str) -> ManagedProcess:
        """`aigw.<name>` on `port`, with the stack's environment and `extra` on top."""
        c = self.config
        env = {
            "MONGODB_URL": self.mongodb_url,
            "AIGW_SECRET_KEY": c.secret_key,
            "AIGW_ADMIN_PASSWORD": c.admin_password,
            "AIGW_DEV_MODE": "true",
            "KEYMANAGER_URL": self.url("keymanager"),
            "GATEWAY_EMBEDDINGS_URL": self.embeddings_url,
            **{f"{s.upper()}_PORT": str(getattr(c.ports, s)) for s in SERVICES},
            **self._browser_env(),
            "GATEWAY_DRAIN_SECONDS": "0",  # no load balancer on this machine: Ctrl-C stops at once
            **{f"{s.upper()}_MONGODB_DB": f"{c.db_prefix}_{s}" for s in SERVICES},
            # the gateway's table snapshot and usage spool: it starts and serves without NATS
            "GATEWAY_STATE_DIR": str(c.data_dir / "gateway"),
            **c.extra_env,
            f"{name.upper()}_PORT": str(port),
            **self._bus_env(name),
            **extra,
        }
        return self._python(extra.get("GATEWAY_NAME", name), f"aigw.{name}", port, env)

    def _snapshotter(self) -> ManagedProcess:
        """Its own NATS identity and nothing else of the services': no master key (provider
        keys stay sealed in the snapshot), no store, no AI call."""
        port = self.config.ports.snapshotter
        env = {**self.config.extra_env, "SNAPSHOTTER_PORT": str(port), **self._bus_env(SNAPSHOTTER)}
        return self._python(SNAPSHOTTER, "aigw.gateway.snapshotter", port, env)

    def _bus_env(self, identity: str) -> dict[str, str]:
        return {
            "NATS_URL": self.nats_url,
            "NATS_SEED_FILE": str(nats_auth.seed_path(self.credentials, identity)),
            "AIGW_TRUST_FILE": str(self.credentials / nats_auth.TRUST_FILE),
        }

    def _python(self, label: str, module: str, port: int, env: dict[str, str]) -> ManagedProcess:
        """`python -m <module>` on `port`, ready when its /health/ready answers 200."""
        return ManagedProcess(
            label,
            [sys.executable, "-m", module],
            port=port,
            env=env,
            ready_url=f"http://127.0.0.1:{port}/health/ready",
            log_path=self.logs / f"{label}.log",
        )

    @contextlib.contextmanager
    def another_gateway(self, name: str, **env: str) -> Iterator[ManagedProcess]:
        """One more gateway process on the stack's bus, on a free port, with `env` on top of
        the stack's (e.g. a setting to compare against the stack's own gateway); ready inside
        the block, stopped after it. Its URL: `http://127.0.0.1:{process.port}`."""
        with self._service("gateway", free_port(), GATEWAY_NAME=name, **env).running(60) as process:
            yield process

    def _browser_env(self) -> dict[str, str]:
        """Where browsers reach each service, and CORS for the portals' calls to keymanager
        (login, users) and the gateway (Try Out)."""
        portals = ",".join(self.url(name) for name in ("publisher", "devportal"))
        return {
            **{f"{s.upper()}_PUBLIC_URL": self.url(s) for s in SERVICES},
            "AIGW_CORS_ORIGINS": portals,
            "GATEWAY_CORS_ORIGINS": portals,
        }

    def groups(self) -> tuple[list[ManagedProcess], list[ManagedProcess]]:
        """The start order: NATS and the store first (the services need them, and the streams
        provisioned), then the rest."""
        infra = [p for p in self.processes if p.name in INFRA]
        return infra, [p for p in self.processes if p not in infra]

    def provision(self) -> None:
        """The streams, on NATS (once it is up, before the services start)."""
        nats_auth.provision_streams_now(self.nats_url, self.credentials)

    def start(self, timeout: float = 60.0) -> None:
        """Every process, in `groups` order, each group ready before the next starts."""
        infra, rest = self.groups()
        try:
            for group in (infra, rest):
                for proc in group:
                    proc.start()
                for proc in group:
                    proc.wait_ready(timeout)
                if group is infra:
                    self.provision()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Services first (they drain to NATS and the store), then the infrastructure."""
        services = [p for p in self.processes if p.name not in INFRA]
        for group in (services, [p for p in self.processes if p not in services]):
            for proc in group:
                proc.terminate()
            for proc in group:
                proc.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
