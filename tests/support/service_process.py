"""A management service (publisher, keymanager, devportal) as its own process,
`python -m aigw.<name>`, on a port, a database and a NATS URL that stay the same across runs:
each `start` is a new process on the same data, so a test can stop it, `kill -9` it and start
it again ("the service restarted")."""

import os
import signal
import sys
from pathlib import Path

from aigw.devtools.processes import ManagedProcess, free_port
from tests.support.infra import Infra


class ServiceProcess:
    """`aigw.<name>` on `nats_url` and the session's store, database `database`; `env`: more
    of its environment (KEYMANAGER_URL, AIGW_ADMIN_PASSWORD, ...)."""

    def __init__(
        self,
        name: str,
        infra: Infra,
        secret_key: str,
        nats_url: str,
        database: str,
        workdir: Path,
        **env: str,
    ) -> None:
        self.name, self.workdir, self.database = name, workdir, database
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **infra.bus_env(name),
            "NATS_URL": nats_url,
            "MONGODB_URL": infra.mongodb_url,
            "AIGW_SECRET_KEY": secret_key,
            "AIGW_DEV_MODE": "true",  # the mock provider is on this machine
            "AIGW_LOG_LEVEL": "INFO",
            f"{name.upper()}_PORT": str(self.port),
            f"{name.upper()}_MONGODB_DB": database,
            **env,
        }
        self.runs = 0
        self.process: ManagedProcess | None = None

    def start(self, timeout: float = 30.0) -> ManagedProcess:
        """A new process, ready (`/health/ready` answers 200)."""
        self.runs += 1
        self.process = ManagedProcess(
            f"{self.name}-run{self.runs}",
            [sys.executable, "-m", f"aigw.{self.name}"],
            port=self.port,
            env=self.env,
            ready_url=f"{self.url}/health/ready",
            log_path=self.workdir / f"{self.name}-run{self.runs}.log",
        )
        self.process.start()
        self.process.wait_ready(timeout)
        return self.process

    def stop(self) -> None:
        """SIGTERM (a clean shutdown)."""
        if self.process is not None:
            self.process.stop(timeout=10)

    def kill(self) -> None:
        """`kill -9`: gone at once, nothing done on the way out."""
        proc = self.process.proc if self.process is not None else None
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)

    def log(self) -> str:
        return self.process.log_since_start() if self.process is not None else ""
