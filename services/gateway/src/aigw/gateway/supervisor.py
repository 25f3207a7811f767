"""The parent of GATEWAY_WORKERS=n worker processes: starts them, restarts one that dies and
passes SIGTERM/SIGINT on so that they all drain.

A worker that dies (a crash, `kill -9`, the OOM killer) is logged, counted
(`aigw_gateway_worker_restarts_total` on every worker's /metrics) and started again in its
slot after a backoff (0.5 s, doubling for each death in a row up to 15 s; a worker that lived
a minute starts the count again), while the other workers keep serving. Its slot on the
`WorkerBoard` is cleared at once, so the gateway's `/health/ready` is 503 until the
replacement has replayed the stream. The calls lost with a dead worker are only those in
flight on its own connections; the replacement opens the port once it has replayed.
"""

import contextlib
import ctypes
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import time
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from types import FrameType

from aigw.common.serve import configure_logging
from aigw.gateway.workers import WorkerBoard

log = logging.getLogger("aigw.gateway.supervisor")

FIRST_BACKOFF = 0.5
LONGEST_BACKOFF = 15.0
STABLE_AFTER = 60.0  # seconds a worker lives before its deaths in a row are forgotten
_PR_SET_PDEATHSIG = 1


def backoff(deaths_in_a_row: int) -> float:
    """Seconds before restarting a worker that died `deaths_in_a_row` times (1 or more)."""
    return float(min(FIRST_BACKOFF * 2 ** (deaths_in_a_row - 1), LONGEST_BACKOFF))


@dataclass
class _Slot:
    process: BaseProcess | None = None
    started: float = 0.0
    deaths: int = 0  # in a row
    restart_at: float | None = None


class Supervisor:
    def __init__(self, workers: int, log_level: str = "INFO") -> None:
        self.board = WorkerBoard.shared(workers)
        self.slots = [_Slot() for _ in range(workers)]
        self.log_level = log_level
        self.stopping = False
        self._context = multiprocessing.get_context("spawn")

    def run(self) -> int:
        configure_logging(self.log_level)
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._forward)
        for index in range(len(self.slots)):
            self._start(index)
        while not self.stopping or self._alive():
            self._watch(timeout=0.25)
        log.info("every worker has stopped")
        return 0

    def _start(self, index: int) -> None:
        slot = self.slots[index]
        process = self._context.Process(
            target=_run_worker,
            args=(index, self.board.for_worker(index), os.getpid()),
            name=f"gateway-worker-{index}",
        )
        process.start()
        slot.process, slot.started, slot.restart_at = process, time.monotonic(), None

    def _alive(self) -> list[BaseProcess]:
        return [s.process for s in self.slots if s.process is not None and s.process.is_alive()]

    def _watch(self, timeout: float) -> None:
        sentinels = [s.process.sentinel for s in self.slots if s.process is not None]
        multiprocessing.connection.wait(sentinels, timeout)
        now = time.monotonic()
        for index, slot in enumerate(self.slots):
            if slot.process is not None and not slot.process.is_alive():
                self._died(index, slot, now)
            if slot.restart_at is not None and now >= slot.restart_at and not self.stopping:
                self._start(index)

    def _died(self, index: int, slot: _Slot, now: float) -> None:
        assert slot.process is not None
        code, pid = slot.process.exitcode, slot.process.pid
        slot.process.close()
        slot.process = None
        self.board.mark(False, index)
        if self.stopping:
            log.info("worker %d (pid %s) stopped with exit code %s", index, pid, code)
            return
        slot.deaths = 1 if now - slot.started >= STABLE_AFTER else slot.deaths + 1
        delay = backoff(slot.deaths)
        slot.restart_at = now + delay
        self.board.count_restart()
        log.warning(
            "worker %d (pid %s) died (exit code %s, %d in a row); restarting it in %.1f s",
            index,
            pid,
            code,
            slot.deaths,
            delay,
        )

    def _forward(self, signum: int, _: FrameType | None) -> None:
        self.stopping = True
        for process in self._alive():
            if process.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signum)


def _die_with(parent: int) -> None:
    """A worker whose supervisor is gone drains and stops (the kernel sends it SIGTERM)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # it died before the line above
        os.kill(os.getpid(), signal.SIGTERM)


def _run_worker(index: int, board: WorkerBoard, parent: int) -> None:
    from aigw.common.startup import load_settings
    from aigw.gateway.server import run
    from aigw.gateway.settings import Settings

    _die_with(parent)
    settings = load_settings(Settings)
    if "GATEWAY_NAME" in os.environ:  # an explicit name: keep the workers apart
        settings = settings.model_copy(update={"gateway_name": f"{settings.gateway_name}-w{index}"})
    run(settings, board)
