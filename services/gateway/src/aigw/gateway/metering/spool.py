"""The usage spool: the usage batches a gateway has sealed but JetStream has not acknowledged
yet, in an append-only file of `GATEWAY_STATE_DIR`, so that neither a restart nor a NATS outage
loses them.

One JSON line per change: `{"v": 1, "batch": id, "records": [...]}` when a batch is sealed
(written and fsynced before it is first sent, so its id and records are the same at every
retry, across restarts too), `{"ack": id}` once JetStream stored it, `{"drop": id}` when the
spool was full and it was dropped. A line cut short by a crash (the last one) is ignored.
Once nothing is pending the file is emptied; while batches wait it is rewritten without the
finished ones when those are most of it.

Each process spools to a file of its own (`usage-spool-<n>.jsonl`, the first slot `n` whose
`.lock` it can lock: GATEWAY_WORKERS share a directory). At start a process takes over the
spools of slots no running process holds (a worker gone, or fewer of them now), so every
record is sent by someone.
"""

import fcntl
import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from aigw.common.durable import atomic_write, fsync_dir
from aigw.common.events import UsageRecord

log = logging.getLogger(__name__)

VERSION = 1
COMPACT_AFTER_BYTES = 4 * 1_048_576  # rewrite once finished lines exceed this (and the rest)


@dataclass(frozen=True, slots=True)
class Batch:
    batch_id: str
    records: tuple[UsageRecord, ...]


def _batch_line(batch: Batch) -> bytes:
    records = ",".join(record.model_dump_json() for record in batch.records)
    return f'{{"v":{VERSION},"batch":"{batch.batch_id}","records":[{records}]}}\n'.encode()


def read_batches(path: Path) -> list[Batch]:
    """The batches of a spool file still pending (sealed, neither acknowledged nor dropped)."""
    try:
        lines = path.read_bytes().splitlines()
    except FileNotFoundError:
        return []
    pending: dict[str, Batch] = {}
    for number, line in enumerate(lines, 1):
        try:
            entry = json.loads(line)
            if "batch" in entry:
                if entry.get("v") != VERSION:
                    raise ValueError(f"spool line version {entry.get('v')!r}")
                records = tuple(UsageRecord.model_validate(r) for r in entry["records"])
                pending[entry["batch"]] = Batch(entry["batch"], records)
            else:
                pending.pop(entry.get("ack") or entry.get("drop"), None)
        except (ValueError, KeyError, TypeError, ValidationError) as exc:
            if number < len(lines):  # the last line may be cut short by a crash: not an error
                log.warning("%s line %d skipped: %r", path, number, exc)
    return list(pending.values())


class UsageSpool:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.slot = -1
        self.path = directory / "usage-spool.jsonl"  # set by `open`
        self._lock_fd = -1
        self._fd = -1
        self._size = 0  # bytes in the file
        self._live = 0  # bytes of the pending batches' lines
        self._sizes: dict[str, int] = {}  # batch id -> its line's bytes

    def open(self) -> list[Batch]:
        """Take a slot; the batches pending in it and in the slots no process holds."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.slot, self._lock_fd = _take_slot(self.directory)
        self.path = _spool_path(self.directory, self.slot)
        pending = read_batches(self.path)
        adopted = self._adopt(pending)
        self.rewrite(pending)
        if adopted:
            for path in adopted:
                path.unlink(missing_ok=True)
            fsync_dir(self.directory)
        if pending:
            records = sum(len(b.records) for b in pending)
            log.info("usage spool %s: %d batches (%d records) to send", self.path, len(pending),
                     records)  # fmt: skip
        return pending

    def _adopt(self, pending: list[Batch]) -> list[Path]:
        """Append the pending batches of the unheld slots to `pending`; their files."""
        adopted = []
        for lock in sorted(self.directory.glob("usage-spool-*.lock")):
            slot = _slot_of(lock)
            if slot is None or slot == self.slot:
                continue
            fd = _try_lock(lock)
            if fd is None:
                continue  # a running process holds it
            try:
                path = _spool_path(self.directory, slot)
                known = {b.batch_id for b in pending}
                pending += [b for b in read_batches(path) if b.batch_id not in known]
                adopted.append(path)
            finally:
                os.close(fd)  # closing releases the lock; the lock file stays (see _take_slot)
        return adopted

    def append(self, batches: Iterable[Batch]) -> None:
        """Seal `batches`: on disk (fsynced) before they are sent."""
        lines = []
        for batch in batches:
            lines.append(line := _batch_line(batch))
            self._sizes[batch.batch_id] = len(line)
        if lines:
            data = b"".join(lines)
            self._write(data)
            self._live += len(data)
        os.fsync(self._fd)

    def finished(self, batch: Batch, how: str = "ack") -> None:
        """The batch is stored by JetStream (`ack`) or dropped (`drop`): not sent again. Not
        fsynced: if the line is lost, the batch is sent again with its id (deduplicated)."""
        self._write(json.dumps({how: batch.batch_id}).encode() + b"\n")
        self._live -= self._sizes.pop(batch.batch_id, 0)

    def tidy(self, pending: list[Batch]) -> None:
        """Empty the file when nothing is pending; rewrite it when finished lines are most
        of it."""
        if not pending and self._size:
            os.ftruncate(self._fd, 0)  # not fsynced: if it is lost, the batches are sent again
            self._size = self._live = 0
            self._sizes.clear()
        elif self._size - self._live > max(COMPACT_AFTER_BYTES, self._live):
            self.rewrite(pending)

    def rewrite(self, pending: list[Batch]) -> None:
        """The file replaced (atomically) by `pending` alone."""
        lines = [_batch_line(batch) for batch in pending]
        self._sizes = {b.batch_id: len(line) for b, line in zip(pending, lines, strict=True)}
        data = b"".join(lines)
        atomic_write(self.path, data)
        if self._fd >= 0:
            os.close(self._fd)
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        self._size = self._live = len(data)

    def close(self) -> None:
        for fd in (self._fd, self._lock_fd):
            if fd >= 0:
                os.close(fd)
        self._fd = self._lock_fd = -1

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
        self._size += len(data)


def _spool_path(directory: Path, slot: int) -> Path:
    return directory / f"usage-spool-{slot}.jsonl"


def _slot_of(lock: Path) -> int | None:
    number = lock.name.removeprefix("usage-spool-").removesuffix(".lock")
    return int(number) if number.isdigit() else None


def _try_lock(path: Path) -> int | None:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _take_slot(directory: Path) -> tuple[int, int]:
    """The first slot whose lock this process gets, and the lock's descriptor (held while the
    process runs). Lock files are never removed: a process may have one open, about to lock it."""
    slot = 0
    while (fd := _try_lock(directory / f"usage-spool-{slot}.lock")) is None:
        slot += 1
    return slot, fd
