"""The usage recorder's batches and their spool (metering.recorder, metering.spool): a batch is
sealed once (its id and its records' ids never change), spooled before it is sent, found again
by the next process, forgotten once acknowledged; the spool is bounded (the oldest dropped and
counted) and each process of a directory has its own, taking over those no process holds."""

import contextlib
import json
from pathlib import Path

from aigw.common.event_trust import EventSigner
from aigw.common.identity import Identity
from aigw.gateway.metering.recorder import CallRecord, UsageRecorder
from aigw.gateway.metering.spool import Batch, UsageSpool, read_batches
from tests.support.usage import call_record

SIGNER = EventSigner(Identity.generate("gateway"))


def call(number: int) -> CallRecord:
    return call_record(f"req-{number}")


def offline_recorder(directory: Path | None, batch_size: int = 10, **options: int) -> UsageRecorder:
    """A recorder with no NATS connection (NATS down), spooling to `directory`."""
    spool = UsageSpool(directory) if directory is not None else None
    return UsageRecorder(lambda: None, SIGNER, "gw-test", 0.5, batch_size, spool=spool, **options)


def ids(batches: list[Batch]) -> list[tuple[str, list[str]]]:
    return [(b.batch_id, [r.record_id for r in b.records]) for b in batches]


async def sealed(recorder: UsageRecorder, count: int, first: int = 0) -> None:
    for number in range(first, first + count):
        recorder.add(call(number))
    with contextlib.suppress(ConnectionError):  # NATS is down: the batches wait
        await recorder.flush()


async def test_batches_sealed_while_nats_is_down_are_found_again_by_the_next_process(
    tmp_path: Path,
) -> None:
    first = offline_recorder(tmp_path)
    first.start()
    await sealed(first, 25)
    await sealed(first, 3, first=25)
    spooled = ids(first.batches)
    assert [len(records) for _, records in spooled] == [10, 10, 5, 3]
    await first.stop()

    second = offline_recorder(tmp_path)
    second.start()
    assert ids(second.batches) == spooled  # the same batch and record ids
    assert second.pending == 28
    assert [r.request_id for b in second.batches for r in b.records] == [
        f"req-{n}" for n in range(28)
    ]
    await second.stop()


async def test_what_is_queued_at_stop_is_spooled(tmp_path: Path) -> None:
    recorder = offline_recorder(tmp_path)
    recorder.start()
    for number in range(7):
        recorder.add(call(number))
    await recorder.stop()  # not sealed by a tick yet
    assert sum(len(b.records) for b in read_batches(tmp_path / "usage-spool-0.jsonl")) == 7


async def test_a_retry_sends_the_same_batch(tmp_path: Path) -> None:
    recorder = offline_recorder(None)
    await sealed(recorder, 5)
    before = ids(recorder.batches)
    await sealed(recorder, 0)  # another attempt, still no NATS
    assert ids(recorder.batches) == before


def test_finished_batches_are_not_found_again_and_a_cut_line_is_ignored(tmp_path: Path) -> None:
    spool = UsageSpool(tmp_path)
    assert spool.open() == []
    batches = [Batch(f"b{n}", ()) for n in range(3)]
    spool.append(batches)
    spool.finished(batches[0], "ack")
    spool.finished(batches[2], "drop")
    spool.close()
    with spool.path.open("ab") as file:
        file.write(b'{"v":1,"batch":"cut-sh')  # a crash in the middle of a line
    assert [b.batch_id for b in read_batches(spool.path)] == ["b1"]


def test_the_file_is_emptied_once_nothing_is_pending(tmp_path: Path) -> None:
    spool = UsageSpool(tmp_path)
    spool.open()
    batch = Batch("b", ())
    spool.append([batch])
    spool.finished(batch)
    spool.tidy([])
    assert spool.path.stat().st_size == 0
    spool.close()


async def test_the_spool_is_bounded_the_oldest_dropped_and_counted(tmp_path: Path) -> None:
    recorder = offline_recorder(tmp_path, max_records=25)
    recorder.start()
    await sealed(recorder, 40)
    assert recorder.pending <= 25
    assert recorder.dropped == 40 - recorder.pending
    kept = [r.request_id for b in recorder.batches for r in b.records]
    assert kept == [f"req-{n}" for n in range(40 - len(kept), 40)]  # the newest
    await recorder.stop()
    assert sum(len(b.records) for b in read_batches(tmp_path / "usage-spool-0.jsonl")) == len(kept)


def test_the_memory_queue_is_bounded_too() -> None:
    recorder = offline_recorder(None, batch_size=1_000, max_records=5)
    for number in range(8):
        recorder.add(call(number))
    assert recorder.pending == 5
    assert recorder.dropped == 3


def test_each_process_has_its_own_spool_and_takes_over_those_no_process_holds(
    tmp_path: Path,
) -> None:
    one, two, busy = UsageSpool(tmp_path), UsageSpool(tmp_path), UsageSpool(tmp_path)
    one.open(), two.open(), busy.open()
    assert (one.slot, two.slot, busy.slot) == (0, 1, 2)
    one.append([Batch("from-one", ())])
    two.append([Batch("from-two", ())])
    busy.append([Batch("still-busy", ())])
    one.close(), two.close()  # those two processes are gone (two workers fewer, say)

    three = UsageSpool(tmp_path)
    assert [b.batch_id for b in three.open()] == ["from-one", "from-two"]
    assert three.slot == 0
    assert not (tmp_path / "usage-spool-1.jsonl").exists()  # taken over
    assert [b.batch_id for b in read_batches(busy.path)] == ["still-busy"]  # held: left alone
    assert [json.loads(line)["batch"] for line in three.path.read_text().splitlines()] == [
        "from-one",
        "from-two",
    ]
    three.close(), busy.close()
