"""What the soak (aigw.devtools.soak) samples of each process, and the trend it reports.

A process's resident memory (`VmRSS` in /proc/<pid>/status) and open file descriptors (the
entries of /proc/<pid>/fd), summed over the process and its descendants (a service with
workers counts them all). Linux only.
"""

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

MIB = 2**20
HOUR = 3600.0
WARM_UP_SAMPLES = 2  # the samples at minute 0 and 1: start-up, caches and pools filling


@dataclass(frozen=True)
class Usage:
    rss_bytes: int
    fds: int


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it (from each thread's `children` list)."""
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{current}/task"):
                children = Path(f"/proc/{current}/task/{task}/children").read_text()
                queue.extend(int(child) for child in children.split())
    return found


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024  # kB
    return 0  # a zombie has no VmRSS line


def usage(pid: int) -> Usage:
    """The process tree's RSS and open fds now (a process gone meanwhile counts nothing)."""
    rss = fds = 0
    for member in descendants(pid):
        with contextlib.suppress(OSError):
            rss += rss_bytes(member)
            fds += len(os.listdir(f"/proc/{member}/fd"))
    return Usage(rss, fds)


def slope(points: list[tuple[float, float]]) -> float | None:
    """The least-squares slope of (x, y) points; None with fewer than two distinct x."""
    n = len(points)
    if n < 2:
        return None
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    if spread == 0:
        return None
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread


def per_hour(points: list[tuple[float, float]]) -> float | None:
    """The trend of (seconds, value) samples per hour, warm-up samples left out."""
    fitted = slope(points[WARM_UP_SAMPLES:])
    return None if fitted is None else fitted * HOUR
