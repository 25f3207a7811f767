"""`make run`'s bring-up: every component's state as it comes up, and on a failure which
component, why (its log lines from this run only) and what to do, raised as `StartFailure`
within seconds rather than a traceback after a minute.

Before anything starts it checks what it can see at once: a NATS_URL or MONGODB_URL that does
not answer, a port another process holds. Then NATS and the store, the streams, and the rest;
a process that exits is diagnosed from its log (a port taken after all, the store's own
error), one that does not get ready in time is reported with its last lines. While the
gateway replays the event stream its progress is read from its /metrics.
"""

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from aigw.devtools.processes import ManagedProcess, port_holder, port_open
from aigw.devtools.stack import Stack
from aigw.devtools.status import (
    EVENT_SEQUENCE,
    REPLAY_TARGET,
    External,
    LiveLines,
    label,
    scrape,
)

PORT_TAKEN = re.compile(r"address already in use|\[Errno 98\]", re.IGNORECASE)
NATS_REFUSED = re.compile(r"Authorization Violation|nkey .*not (found|authorized)", re.IGNORECASE)
LOG_LINES = 15
# Seconds a component may take to get ready: the embedding model loads its weights first
READY_TIMEOUT = {"embeddings": 90.0}
DEFAULT_READY_TIMEOUT = 45.0
PROGRESS_EVERY = 2.0  # seconds between replay progress lines when stdout is not a terminal


@dataclass
class StartFailure(Exception):
    component: str
    why: str
    fix: str
    log_lines: Sequence[str] = ()
    log_path: Path | None = None

    def report(self) -> str:
        lines = [
            f"make run: {self.component} did not start",
            f"  why:  {self.why}",
            f"  what to do: {self.fix}",
        ]
        if self.log_lines:
            where = f" ({self.log_path}, this run only)" if self.log_path else ""
            lines.append(f"  its log{where}:")
            lines += [f"    | {line}" for line in self.log_lines]
        return "\n".join(lines)


def _last_lines(process: ManagedProcess, count: int = LOG_LINES) -> list[str]:
    lines = [line.rstrip() for line in process.log_since_start().splitlines()]
    return [line for line in lines if line.strip()][-count:]


def port_taken(name: str, port: int) -> StartFailure:
    holder = port_holder(port)
    return StartFailure(
        label(name),
        f"port {port} is taken by another process" + (f": {holder}" if holder else ""),
        f"stop that process, or set {Stack.port_variable(name)}=<a free port> "
        "(each port set gets its own data folder)",
    )


def _hosts(url: str, default_port: int) -> list[tuple[str, int]]:
    """The host:port pairs of a NATS URL list or a mongodb:// URL."""
    pairs = []
    for part in url.split(","):
        netloc = urlsplit(part if "://" in part else f"x://{part}").netloc.rsplit("@", 1)[-1]
        for host in netloc.split(","):
            name, _, port = host.rpartition(":") if ":" in host else (host, "", "")
            pairs.append((name.strip("[]") or "127.0.0.1", int(port or default_port)))
    return pairs


def externals(stack: Stack) -> list[External]:
    """The servers make run uses but does not start (mongodb+srv:// is resolved by DNS: not
    probed)."""
    found = []
    c = stack.config
    if c.nats_url:
        found += [External("nats", h, p, c.nats_url) for h, p in _hosts(c.nats_url, 4222)]
    if c.mongodb_url and c.mongodb_url.startswith("mongodb://"):
        shown = "MONGODB_URL"
        found += [External("mongodb", h, p, shown) for h, p in _hosts(c.mongodb_url, 27017)]
    return found


def preflight(stack: Stack) -> None:
    """What fails at once: an external server that does not answer, a port already taken."""
    c = stack.config
    servers = externals(stack)
    nats = [s for s in servers if s.name == "nats"]
    if nats and not any(s.row().up for s in nats):
        raise StartFailure(
            "NATS",
            f"NATS_URL={c.nats_url} does not answer",
            "start that NATS server (with the authorization make run generates, "
            f"{stack.credentials}/nats-auth.conf), or unset NATS_URL and make run starts its own",
        )
    mongo = [s for s in servers if s.name == "mongodb"]
    if mongo and not any(s.row().up for s in mongo):
        hosts = ", ".join(f"{s.host}:{s.port}" for s in mongo)
        raise StartFailure(
            "store",
            f"MONGODB_URL does not answer ({hosts} accepts no connection)",
            "start that MongoDB, or unset MONGODB_URL and make run starts the embedded store",
        )
    for proc in stack.processes:
        if port_open(proc.port):
            raise port_taken(proc.name, proc.port)


def diagnose_exit(stack: Stack, proc: ManagedProcess, code: int) -> StartFailure:
    """Why a process exited while starting, from its log in this run."""
    text = proc.log_since_start()
    lines, path = _last_lines(proc), proc.log_path
    if PORT_TAKEN.search(text):
        failure = port_taken(proc.name, proc.port)
        failure.log_lines, failure.log_path = lines, path
        return failure
    last = f": {lines[-1].strip()}" if lines else " (its log is empty)"
    if proc.name == "mongodb":
        why = f"the store did not start (exit code {code}){last}"
        store = stack.config.data_dir / "store.sqlite"
        fix = f"read its log below; its data is {store} (move it aside to start empty)"
    elif proc.name == "nats":
        why = f"nats-server did not start (exit code {code}){last}"
        fix = f"read its log below; its store is {stack.config.data_dir / 'jetstream'}"
    else:
        why = f"{label(proc.name)} exited with code {code}{last}"
        fix = "read its log below"
    return StartFailure(label(proc.name), why, fix, lines, path)


def diagnose_timeout(stack: Stack, proc: ManagedProcess, waited: float) -> StartFailure:
    text = proc.log_since_start()
    lines, path = _last_lines(proc), proc.log_path
    if NATS_REFUSED.search(text):
        return StartFailure(
            label(proc.name),
            f"NATS at {stack.nats_url} refuses this service's credentials",
            "run that NATS server with the authorization make run generates "
            f"({stack.credentials}/nats-auth.conf)",
            lines,
            path,
        )
    return StartFailure(
        label(proc.name),
        f"not ready after {waited:.0f} s (still running)",
        "read its log below; a service waits for NATS and the store, the gateway and the "
        "snapshotter for their replay of the event stream",
        lines,
        path,
    )


class Startup:
    """Brings the stack up group by group, showing each component's state."""

    def __init__(
        self,
        stack: Stack,
        screen: LiveLines,
        clock: Callable[[], float] = time.monotonic,
        poll_interval: float = 0.1,
    ) -> None:
        self.stack = stack
        self.screen = screen
        self.clock = clock
        self.poll_interval = poll_interval
        self.states: dict[str, str] = {p.name: "waiting" for p in stack.processes}
        self._shown: dict[str, str] = {}
        self._progress_shown = 0.0

    def run(self) -> None:
        preflight(self.stack)
        # not started here, and they answer: listed first, where NATS and the store would be
        outside = {s.name: f"external, answers ({s.shown})" for s in externals(self.stack)}
        self.states = outside | self.states
        infra, rest = self.stack.groups()
        self.bring_up(infra)
        try:
            self.stack.provision()
        except Exception as exc:
            raise StartFailure(
                "NATS",
                f"the event streams could not be provisioned on {self.stack.nats_url}: {exc}",
                "check that this NATS server runs JetStream with make run's authorization "
                f"({self.stack.credentials}/nats-auth.conf)",
            ) from exc
        self.bring_up(rest)
        self.screen.forget()

    def bring_up(self, group: Sequence[ManagedProcess]) -> None:
        started = self.clock()
        for proc in group:
            proc.start()
            self.states[proc.name] = "starting"
        self._show()
        waiting = list(group)
        while waiting:
            for proc in list(waiting):
                if self._ready(proc, started):
                    waiting.remove(proc)
            self._show()
            if waiting:
                time.sleep(self.poll_interval)

    def _ready(self, proc: ManagedProcess, started: float) -> bool:
        waited = self.clock() - started
        code = proc.returncode()
        if code is not None:
            self.states[proc.name] = "FAILED"
            self._show()
            raise diagnose_exit(self.stack, proc, code)
        if proc.is_ready():
            self.states[proc.name] = f"up ({waited:.1f} s)"
            return True
        if waited > READY_TIMEOUT.get(proc.name, DEFAULT_READY_TIMEOUT):
            self.states[proc.name] = "FAILED"
            self._show()
            raise diagnose_timeout(self.stack, proc, waited)
        if proc.name == "gateway":
            self.states[proc.name] = self._replay()
        return False

    def _replay(self) -> str:
        """The gateway's replay of the event stream, from its gauges."""
        metrics = scrape(self.stack.url("gateway"), timeout=0.5)
        if metrics is None or REPLAY_TARGET not in metrics:
            return "starting"
        target = metrics[REPLAY_TARGET]
        if target == 0:
            return "connecting to the event stream"
        return f"replaying events {metrics.get(EVENT_SEQUENCE, 0):.0f}/{target:.0f}"

    def _show(self) -> None:
        if self.screen.tty:
            width = self.screen.width()
            lines = [f"  {label(n):<14} {s}"[:width] for n, s in self.states.items()]
            self.screen.show(["starting aigw:", *lines])
            return
        stamp, now = time.strftime("%H:%M:%S"), self.clock()
        for name, state in self.states.items():
            if self._shown.get(name) == state or state == "waiting":
                continue
            if state.startswith("replaying"):  # a line every few seconds, not every poll
                if now - self._progress_shown < PROGRESS_EVERY:
                    continue
                self._progress_shown = now
            self.screen.show([f"{stamp} {label(name):<14} {state}"])
            self._shown[name] = state
