"""Where `make run` keeps its state, and the lock that keeps two runs off one folder.

`.data/default/` for the default ports, `.data/ports-<hash>/` for any other port set (two
`make run`s on different ports never share a NATS store, a SQLite file or credentials), or
`AIGW_DATA_DIR`. The folder is held with an exclusive `flock` on `<dir>/run.lock` for as long
as the run lasts: the kernel drops it when the process ends, however it ends, so a stale lock
never blocks the next run; the file holds the holder's pid so the refusal can name it.
"""

import contextlib
import fcntl
import hashlib
import os
import shutil
from collections.abc import Mapping
from dataclasses import astuple, fields
from pathlib import Path
from typing import IO

from aigw.devtools.stack import Ports

ROOT = Path(".data")
LOCK_FILE = "run.lock"
# What make run kept directly under .data/ before it had one folder per port set.
LEGACY_ENTRIES = ("secret.key", "store.sqlite", "jetstream", "credentials", "logs")
# Ports added after port sets had folders: left out of the hash while at their default, so a
# port set an earlier make run used keeps its folder (its store, stream and keys)
LATER_PORTS = ("snapshotter",)


def ports_hash(ports: Ports) -> str:
    """Eight hex digits naming a port set (every port, by name, so the order never matters)."""
    defaults = Ports()
    named = [
        f"{f.name}={getattr(ports, f.name)}"
        for f in fields(ports)
        if f.name not in LATER_PORTS or getattr(ports, f.name) != getattr(defaults, f.name)
    ]
    return hashlib.sha256(",".join(named).encode()).hexdigest()[:8]


def choose(ports: Ports, env: Mapping[str, str] = os.environ, root: Path = ROOT) -> Path:
    """The data folder for this port set: AIGW_DATA_DIR when set."""
    if given := env.get("AIGW_DATA_DIR"):
        return Path(given)
    if astuple(ports) == astuple(Ports()):
        return root / "default"
    return root / f"ports-{ports_hash(ports)}"


class DataDirBusy(Exception):
    """Another process holds the folder's lock."""


class DataDirLock:
    """The exclusive lock on a data folder, held until `release` or the process's end."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / LOCK_FILE
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        # not truncated on open: the holder's pid must stay readable for the refusal
        handle = open(self.path, "a+")  # noqa: SIM115 - held open as long as the lock
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise DataDirBusy(
                f"{self.directory}/ is in use by another make run (pid {holder}): stop that "
                "one first, or give this run its own folder (AIGW_DATA_DIR=<folder>, or other "
                "ports: each port set has its own)"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def adopt_legacy(directory: Path, root: Path = ROOT) -> list[str]:
    """Moves what an older make run kept directly under `.data/` into the default folder, so
    the secret key, the store and the event stream survive the change of layout."""
    if directory != root / "default":
        return []
    moved = []
    directory.mkdir(parents=True, exist_ok=True)
    for name in LEGACY_ENTRIES:
        old, new = root / name, directory / name
        if old.exists() and not new.exists():
            shutil.move(old, new)
            moved.append(name)
    return moved
