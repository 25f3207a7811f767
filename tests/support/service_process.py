"""A management service (publisher, keymanager, devportal) as its own process,
`python -m aigw.<name>`, on a port, a database and a NATS URL that stay the same across runs:
each `start` is a new process on the same data, so a test can stop it, `kill -9` it and start
it again ("the service restarted")."""

import sys
from pathlib import Path

from aigw.devtools.processes import ManagedProcess, free_port
from tests.support.infra import Infra
from tests.support.restartable import RestartableProcess


class ServiceProcess(RestartableProcess):
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
        super().__init__(name, workdir)
        self.database = database
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

    def new_process(self, log_path: Path) -> ManagedProcess:
        return ManagedProcess(
            log_path.stem,
            [sys.executable, "-m", f"aigw.{self.name}"],
            port=self.port,
            env=self.env,
            ready_url=f"{self.url}/health/ready",
            log_path=log_path,
        )
