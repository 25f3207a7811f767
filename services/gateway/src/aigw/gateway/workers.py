"""What the worker processes of one gateway (GATEWAY_WORKERS=n) share with each other and with
their supervisor: a ready flag per worker slot and the count of restarted workers, in shared
memory (set up by the supervisor, inherited by every worker it starts).

A worker sets its slot once it has replayed the event stream and opened the ports, and clears
it when it starts draining; the supervisor clears the slot of a worker that died. Every worker
answers `/health/ready` with 200 only while every slot is set, so the process as a whole is
ready only when each of its workers can route every call. One process (no supervisor) has a
board of one slot in its own memory, always set: its own readiness is the process's.
"""

import multiprocessing.sharedctypes
import os
from collections.abc import Iterable, MutableSequence
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector


class WorkerBoard:
    def __init__(
        self, ready: MutableSequence[int], restarts: MutableSequence[int], index: int = 0
    ) -> None:
        self._ready = ready
        self._restarts = restarts
        self.index = index  # this process's slot (a worker's; 0 for the supervisor)

    @classmethod
    def local(cls) -> "WorkerBoard":
        """The board of a gateway without workers: one slot, no sharing."""
        return cls([1], [0])

    @classmethod
    def shared(cls, workers: int) -> "WorkerBoard":
        """The supervisor's board, in shared memory its spawned workers inherit."""
        ready: Any = multiprocessing.sharedctypes.RawArray("b", workers)
        restarts: Any = multiprocessing.sharedctypes.RawArray("L", 1)
        return cls(ready, restarts)

    def for_worker(self, index: int) -> "WorkerBoard":
        return WorkerBoard(self._ready, self._restarts, index)

    @property
    def size(self) -> int:
        return len(self._ready)

    def mark(self, ready: bool, index: int | None = None) -> None:
        self._ready[self.index if index is None else index] = 1 if ready else 0

    def all_ready(self) -> bool:
        return all(self._ready)

    def ready_count(self) -> int:
        return sum(1 for flag in self._ready if flag)

    def count_restart(self) -> None:
        self._restarts[0] += 1  # only the supervisor writes it

    @property
    def restarts(self) -> int:
        return int(self._restarts[0])

    def collector(self) -> Collector:
        return _BoardCollector(self)


class _BoardCollector(Collector):
    def __init__(self, board: WorkerBoard) -> None:
        self.board = board

    def collect(self) -> Iterable[Metric]:
        board = self.board
        restarts = CounterMetricFamily(
            "aigw_gateway_worker_restarts",
            "Worker processes the supervisor restarted after they died (GATEWAY_WORKERS)",
        )
        restarts.add_metric([], board.restarts)
        yield restarts
        workers = GaugeMetricFamily(
            "aigw_gateway_workers",
            "Worker slots of this gateway and how many are ready",
            labels=["state"],
        )
        workers.add_metric(["configured"], board.size)
        workers.add_metric(["ready"], board.ready_count())
        yield workers
        info = GaugeMetricFamily(
            "aigw_gateway_worker", "The worker that answered this scrape", labels=["slot", "pid"]
        )
        info.add_metric([str(board.index), str(os.getpid())], 1)
        yield info
