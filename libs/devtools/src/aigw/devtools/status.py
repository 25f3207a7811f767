"""`make run`'s live status: a table of every component (up or down, what it is doing, the
last error line its log had in this run) and the requests per second through the gateway,
read from the gateway's /metrics.

On a terminal the table is redrawn in place (plain ANSI: cursor up, clear to the end); when
stdout is a file or a pipe, one status line is written when something goes up or down, and
otherwise once a minute.
"""

import re
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TextIO

import httpx
from prometheus_client.parser import text_string_to_metric_families

from aigw.devtools.processes import ManagedProcess, port_open

REQUESTS = "aigw_gateway_requests_total"
EVENT_SEQUENCE = "aigw_gateway_event_sequence"
REPLAY_TARGET = "aigw_gateway_replay_target_sequence"
SNAPSHOT_SEQUENCE = "aigw_snapshotter_snapshot_sequence"
# What counts as an error line in the components' logs: the services' and uvicorn's levels,
# nats-server's [ERR] and [FTL], a traceback's start
ERROR_LINE = re.compile(r"\b(ERROR|CRITICAL)\b|\[(ERR|FTL)\]|^Traceback ")
LABELS = {"nats": "NATS", "mongodb": "store", "mock-provider": "mock provider"}


def label(name: str) -> str:
    return LABELS.get(name, name)


def metric_totals(text: str) -> dict[str, float]:
    """Each sample name of a Prometheus text exposition, summed over its label sets."""
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            totals[sample.name] = totals.get(sample.name, 0.0) + sample.value
    return totals


def scrape(url: str, timeout: float = 1.0) -> dict[str, float] | None:
    """A service's metrics, or None when it does not answer."""
    try:
        response = httpx.get(f"{url}/metrics", timeout=timeout)
    except httpx.HTTPError:
        return None
    return metric_totals(response.text) if response.status_code == 200 else None


class RequestRate:
    """Requests per second through the gateway between two scrapes of its request counter."""

    def __init__(self) -> None:
        self._last: tuple[float, float] | None = None

    def update(self, totals: dict[str, float] | None, now: float) -> float | None:
        if totals is None:
            self._last = None
            return None
        count = totals.get(REQUESTS, 0.0)
        last, self._last = self._last, (now, count)
        if last is None or now <= last[0] or count < last[1]:  # first look, or a restart
            return None
        return (count - last[1]) / (now - last[0])


class ErrorWatch:
    """The last error line of a process's log in this run, read on as the log grows."""

    def __init__(self, process: ManagedProcess) -> None:
        self.path = process.log_path
        self.offset = process.log_offset
        self.last: str | None = None
        self._partial = b""

    def poll(self) -> str | None:
        if self.path is None:
            return None
        try:
            with open(self.path, "rb") as log:
                log.seek(self.offset)
                chunk = log.read(1 << 20)
        except OSError:
            return self.last
        self.offset += len(chunk)
        *lines, self._partial = (self._partial + chunk).split(b"\n")
        for line in lines:
            text = line.decode(errors="replace").strip()
            if ERROR_LINE.search(text):
                self.last = text
        return self.last


@dataclass(frozen=True)
class Row:
    name: str
    up: bool
    detail: str = ""
    last_error: str | None = None


def render(rows: Sequence[Row], rate: float | None, clock: str, width: int = 100) -> list[str]:
    """The status table, each line at most `width` characters."""
    through = "-" if rate is None else f"{rate:.1f}"
    head = f"aigw status at {clock}   gateway: {through} requests/s   (Ctrl-C stops everything)"
    detail = max((len(row.detail) for row in rows), default=0)
    lines = [head, f"  {'component':<14} {'state':<6} {'':<{detail}} last error (this run)"]
    for row in rows:
        state = "up" if row.up else "DOWN"
        error = row.last_error or "-"
        lines.append(f"  {label(row.name):<14} {state:<6} {row.detail:<{detail}} {error}")
    return [line if len(line) <= width else line[: width - 1] + "…" for line in lines]


def one_line(rows: Sequence[Row], rate: float | None, clock: str) -> str:
    """The status as one log line, for a stdout that is not a terminal."""
    states = " ".join(f"{row.name}:{'up' if row.up else 'DOWN'}" for row in rows)
    through = "-" if rate is None else f"{rate:.1f}"
    errors = [f"{row.name}: {row.last_error}" for row in rows if row.last_error and not row.up]
    return f"{clock} status {states} gateway:{through} req/s" + "".join(
        f"\n{clock}   last error of {e}" for e in errors
    )


class LiveLines:
    """A block of lines redrawn in place on a terminal; elsewhere written out as they come."""

    def __init__(self, out: TextIO, tty: bool) -> None:
        self.out = out
        self.tty = tty
        self._height = 0
        self._shown: list[str] = []

    @staticmethod
    def width() -> int:
        return shutil.get_terminal_size((100, 24)).columns - 1

    def show(self, lines: Sequence[str]) -> None:
        if self.tty and self._height and list(lines) == self._shown:
            return  # nothing changed: no redraw
        self._shown = list(lines)
        if self.tty and self._height:
            self.out.write(f"\x1b[{self._height}F\x1b[J")  # back to the block's first line
        self.out.write("".join(f"{line}\n" for line in lines))
        self.out.flush()
        self._height = len(lines) if self.tty else 0

    def forget(self) -> None:
        """What is on screen stays: the next `show` writes below it."""
        self._height = 0


@dataclass
class External:
    """A server make run did not start (NATS_URL, MONGODB_URL), probed by TCP."""

    name: str
    host: str
    port: int
    shown: str

    def row(self) -> Row:
        return Row(self.name, port_open(self.port, self.host), f"external {self.shown}"[:28])


class StatusBoard:
    """Collects one row per component, the gateway's numbers, and shows them."""

    def __init__(
        self,
        processes: Iterable[ManagedProcess],
        gateway_url: str,
        screen: LiveLines,
        externals: Iterable[External] = (),
        snapshotter_url: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.processes = list(processes)
        self.externals = list(externals)
        self.gateway_url = gateway_url
        self.snapshotter_url = snapshotter_url
        self.screen = screen
        self.clock = clock
        self.rate = RequestRate()
        self.errors = {p.name: ErrorWatch(p) for p in self.processes}
        self._last_states: tuple[bool, ...] | None = None
        self._last_line = 0.0

    def rows(
        self, gateway: dict[str, float] | None, snapshotter: dict[str, float] | None = None
    ) -> list[Row]:
        rows = [e.row() for e in self.externals]
        for proc in self.processes:
            detail = "" if proc.alive() else f"exited ({proc.returncode()})"
            if proc.name == "gateway" and gateway is not None:
                detail = f"{gateway.get(EVENT_SEQUENCE, 0):.0f} events folded"
            if proc.name == "snapshotter" and snapshotter is not None:
                written = snapshotter.get(SNAPSHOT_SEQUENCE, 0)
                detail = f"snapshot at event {written:.0f}" if written else "no snapshot yet"
            rows.append(Row(proc.name, proc.alive(), detail, self.errors[proc.name].poll()))
        return rows

    def refresh(self, every: float = 60.0) -> None:
        now = self.clock()
        gateway = scrape(self.gateway_url)
        rate = self.rate.update(gateway, now)
        snapshotter = scrape(self.snapshotter_url) if self.snapshotter_url else None
        rows = self.rows(gateway, snapshotter)
        clock = time.strftime("%H:%M:%S")
        if self.screen.tty:
            self.screen.show(render(rows, rate, clock, self.screen.width()))
            return
        states = tuple(row.up for row in rows)
        if states != self._last_states or now - self._last_line >= every:
            self.screen.show([one_line(rows, rate, clock)])
            self._last_states, self._last_line = states, now
