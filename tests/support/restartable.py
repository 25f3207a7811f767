"""A process restarted on the same settings (port, data, environment): each `start` is a new
run with its own log, to stop, `kill -9` and start again ("the service restarted"). The one
home of the start / stop / kill / log cycle that service_process.py and stateful_gateway.py
share."""

import contextlib
from collections.abc import Iterator
from pathlib import Path

from aigw.devtools.processes import ManagedProcess


class RestartableProcess:
    """Runs of one process, numbered; a subclass says how a run's process is built
    (`new_process`) and how long a clean shutdown may take (`stop_timeout`)."""

    stop_timeout = 10.0

    def __init__(self, name: str, workdir: Path) -> None:
        self.name, self.workdir = name, workdir
        self.runs = 0
        self.process: ManagedProcess | None = None

    def new_process(self, log_path: Path) -> ManagedProcess:
        """The next run's process, not started, writing to `log_path`."""
        raise NotImplementedError

    def start(self, *, wait_ready: bool = True, timeout: float = 30.0) -> ManagedProcess:
        """A new process; ready (`/health/ready` answers 200) unless `wait_ready` is false."""
        self.runs += 1
        self.process = self.new_process(self.workdir / f"{self.name}-run{self.runs}.log")
        self.process.start()
        if wait_ready:
            self.process.wait_ready(timeout)
        return self.process

    def stop(self) -> None:
        """SIGTERM (a clean shutdown)."""
        if self.process is not None:
            self.process.stop(timeout=self.stop_timeout)

    def kill(self) -> None:
        """`kill -9`: gone at once, nothing done on the way out."""
        if self.process is not None:
            self.process.kill()

    def log(self) -> str:
        """What this run wrote to its log."""
        return self.process.log_since_start() if self.process is not None else ""

    @contextlib.contextmanager
    def running(self) -> Iterator[ManagedProcess]:
        """A run, ready, stopped cleanly on the way out."""
        process = self.start()
        try:
            yield process
        finally:
            self.stop()
