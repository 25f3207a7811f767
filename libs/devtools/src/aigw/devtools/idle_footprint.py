"""`python -m aigw.devtools.idle_footprint [seconds]`: each service's memory and CPU at rest.

Starts the whole platform (aigw.devtools.stack, free ports, its own NATS and store), waits for
every service to be ready, then samples each service process's (and the snapshotter's)
resident memory (RSS) and CPU time from /proc for `seconds` (default 60). The Kubernetes manifests' resource requests
(deploy/k8s/base) are sized from these figures; the README's "Running in production" quotes
them. Linux only (it reads /proc).
"""

import argparse
import os
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from aigw.common.crypto import generate_master_key
from aigw.common.identity import SNAPSHOTTER
from aigw.devtools.stack import SERVICES, Ports, Stack, StackConfig

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Sample:
    rss_bytes: int
    cpu_seconds: float  # user + system, since the process started


def sample(pid: int) -> Sample:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    rss_pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return Sample(rss_pages * PAGE, (utime + stime) / TICKS)


def measure(seconds: float) -> dict[str, tuple[Sample, Sample, float]]:
    """Per service: the sample when ready, the sample `seconds` later, and the time between."""
    with tempfile.TemporaryDirectory(prefix="aigw-idle-") as tmp:
        config = StackConfig(
            data_dir=Path(tmp),
            secret_key=generate_master_key(),
            admin_password=secrets.token_urlsafe(12),
            ports=Ports.free(),
            persist_store=False,
        )
        with Stack(config) as stack:
            measured = (*SERVICES, SNAPSHOTTER)
            pids = {p.name: p.proc.pid for p in stack.processes if p.name in measured and p.proc}
            first = {name: sample(pid) for name, pid in pids.items()}
            started = time.monotonic()
            time.sleep(seconds)  # idle is the point: nothing calls the services meanwhile
            elapsed = time.monotonic() - started
            return {name: (first[name], sample(pid), elapsed) for name, pid in pids.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("seconds", type=float, nargs="?", default=60.0)
    args = parser.parse_args()
    results = measure(args.seconds)
    print(f"idle for {args.seconds:g} s after ready (RSS in MiB, CPU in millicores)")
    print(f"{'service':<11} {'RSS ready':>9} {'RSS end':>8} {'idle CPU':>9}")
    for name, (first, last, elapsed) in results.items():
        millicores = (last.cpu_seconds - first.cpu_seconds) / elapsed * 1000
        print(
            f"{name:<11} {first.rss_bytes / 2**20:>9.1f} {last.rss_bytes / 2**20:>8.1f}"
            f" {millicores:>9.1f}"
        )


if __name__ == "__main__":
    main()
