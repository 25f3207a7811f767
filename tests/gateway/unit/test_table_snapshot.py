"""The routing table's snapshot (routing.snapshot): restoring it and folding the rest of the
stream gives exactly the table a full replay gives, at any cut (of a churning stream:
tests/support/churn.py, and of a platform's: aigw.devtools.synthetic_stream); a file altered,
written under another key or trust, or of another format is refused."""

import dataclasses
import functools
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest

from aigw.common.crypto import SecretBox, derived_key, generate_master_key
from aigw.common.event_trust import EventVerifier
from aigw.common.events import (
    ApiCreated,
    ApiDeployed,
    ApiPublished,
    Envelope,
    EventPayload,
    KeyIssued,
    VendorRef,
    new_event,
)
from aigw.common.identity import IDENTITIES, Identity
from aigw.common.messaging import signed_message
from aigw.devtools import synthetic_stream
from aigw.gateway.routing import snapshot
from aigw.gateway.routing.fold import MAX_DATA_VERSION, EventFold, Kept
from aigw.gateway.routing.follower import EventFollower
from aigw.gateway.routing.snapshot import Snapshot, SnapshotFile, SnapshotRefused
from aigw.gateway.routing.table import RoutingTable
from tests.support.churn import churn
from tests.support.waiting import eventually

MASTER = generate_master_key()
BOX = SecretBox(MASTER)
KEY = derived_key(MASTER, "gateway routing snapshot")
IDENTITY = {name: Identity.generate(name) for name in IDENTITIES}
TRUST = {name: [i.event_key().public_key()] for name, i in IDENTITY.items()}
SIGNERS = synthetic_stream.Signers.of(IDENTITY)
Message = tuple[int, str, bytes, dict[str, str]]
UPCASTS = json.loads(
    (Path(__file__).parents[2] / "common/unit/event_upcasts/api_deployed_v1.json").read_text()
)


def verifier() -> EventVerifier:
    return EventVerifier(TRUST)


def signed(payloads: list[EventPayload]) -> list[Message]:
    """Each payload as its emitter signs it, numbered as the stream would."""
    return [(n, *SIGNERS.message(p)) for n, p in enumerate(payloads, 1)]


def not_routed(i: int) -> list[EventPayload]:
    """Events the table does not fold (publisher's catalogue): a snapshot leaves them out."""
    vendor = VendorRef(name="OpenAI", version="v1")
    fields = {"api_id": f"cat{i}", "name": "n", "context": "c", "version": "1", "vendor": vendor}
    return [
        ApiCreated(**fields, lifecycle_status="CREATED"),
        ApiPublished(**fields, route_prefix="c/1"),
    ]


SHAPE = synthetic_stream.Shape(apis=60, applications=50, keys=600, subscriptions=80)
PAYLOADS = [
    *synthetic_stream.payloads(SHAPE, BOX),
    *[e for i, event in enumerate(churn(7, 1_200, apis=12, apps=20)) for e in
      ([event] if i % 40 else [event, *not_routed(i)])],
]  # fmt: skip
EVENTS = signed(PAYLOADS)
CUTS = [0, 1, 250, 794, 795, 1_500, len(EVENTS) - 1, len(EVENTS)]


def fold(messages: list[Message], into: EventFold | None = None) -> EventFold:
    folding = into or EventFold(RoutingTable(), verifier(), BOX, keep=True)
    for sequence, subject, body, headers in messages:
        folding.message(sequence, subject, body, headers)
    return folding


def view(table: RoutingTable) -> dict[str, Any]:
    """Every field of the table (signing keys by their validity: PyJWK has no equality; the
    vendor profiles' cache by what it holds)."""
    fields = {f.name: getattr(table, f.name) for f in dataclasses.fields(table)}
    fields["signing_keys"] = {kid: k.valid_until for kid, k in table.signing_keys.items()}
    del fields["vendor_profiles"]
    return fields


def snapshot_file(tmp_path: Path, key: bytes = KEY, trust: str = "") -> SnapshotFile:
    return SnapshotFile(tmp_path, key, trust or verifier().fingerprint())


def written(tmp_path: Path, folding: EventFold, kept: list[Kept] | None = None) -> SnapshotFile:
    """The snapshot of `folding` (or of `kept` in its place) written and sealed."""
    snapshots = snapshot_file(tmp_path)
    events = list(folding.kept) if kept is None else kept
    snapshots.write(Snapshot(folding.last_sequence, "created-1", events))
    return snapshots


def restored_from(snapshots: SnapshotFile) -> EventFold:
    """A fresh fold that restored the file `snapshots` holds."""
    loaded = snapshots.load()
    assert loaded is not None
    restored = EventFold(RoutingTable(), verifier(), BOX, keep=True)
    restored.restore(loaded.sequence, loaded.events)
    return restored


def with_broken(folding: EventFold, event_type: str, data: bytes) -> tuple[list[Kept], Kept]:
    """What `folding` kept, the first event of `event_type` given `data` instead; and that one."""
    kept = list(folding.kept)
    at = next(i for i, e in enumerate(kept) if e.type == event_type)
    kept[at] = kept[at]._replace(data=data)
    return kept, kept[at]


def deploy_message(data: dict[str, Any], version: int) -> Message:
    """A deploy of `data` at data version `version`, signed as publisher signs it."""
    event = new_event(synthetic_stream.deployed(SHAPE, BOX, 1), source="publisher", actor="p")
    event = event.model_copy(update={"dataversion": version, "data": data})
    body, headers = signed_message(event, SIGNERS.signer("publisher"))
    return (1, event.type, body, headers)


@functools.cache
def full_replay() -> EventFold:
    return fold(EVENTS)


@pytest.mark.parametrize("cut", CUTS)
def test_a_snapshot_and_the_rest_of_the_stream_give_the_table_a_full_replay_gives(
    tmp_path: Path, cut: int
) -> None:
    full = full_replay()
    assert len(full.table.routes) > 60
    assert len(full.table.keys) > 500

    restored = restored_from(written(tmp_path, fold(EVENTS[:cut])))
    assert restored.last_sequence == cut
    fold(EVENTS[cut:], into=restored)

    assert view(restored.table) == view(full.table)
    assert restored.kept == full.kept
    assert restored.last_sequence == full.last_sequence
    assert full.table.indexes() == full.table.recount()


def test_the_snapshot_keeps_only_the_events_the_table_is_built_from(tmp_path: Path) -> None:
    full = full_replay()
    kinds = {event.type for event in full.kept}
    assert "aigw.api.created" not in kinds
    assert "aigw.api.published" not in kinds
    assert "aigw.api.deployed" in kinds
    assert "aigw.key.issued" in kinds
    # of an envelope, its data as it came (neither its id, nor its time, nor its actor)
    bodies = {sequence: body for sequence, _, body, _ in EVENTS}
    for event in full.kept:
        envelope = Envelope.model_validate_json(bodies[event.sequence])
        assert (event.type, event.version) == (envelope.type, envelope.dataversion)
        assert json.loads(event.data) == envelope.data


def test_a_payload_of_an_older_data_version_is_kept_as_it_came_and_upcast_when_restored(
    tmp_path: Path,
) -> None:
    v1 = UPCASTS[0]["v1"]
    live = fold([deploy_message(v1, 1)])
    assert [(e.type, e.version) for e in live.kept] == [(ApiDeployed.TYPE, 1)]
    assert json.loads(live.kept[0].data) == v1
    assert "openai/1.0" in live.table.routes

    restored = restored_from(written(tmp_path, live))
    assert view(restored.table) == view(live.table)
    assert restored.kept == live.kept


def test_an_untrusted_event_is_neither_folded_nor_kept() -> None:
    [(sequence, subject, body, headers)] = signed(
        [KeyIssued(key_id="k", key_hash="h" * 64, application_id="a", key_type="PRODUCTION")]
    )
    forged = {**headers, "Aigw-Signer": "devportal"}  # keymanager's subject, another signer
    folding = fold([(sequence, subject, body, forged)])
    assert folding.kept == []
    assert folding.table.keys == {}
    assert folding.last_sequence == sequence  # skipped, not stuck


def test_there_is_no_snapshot_until_one_is_written(tmp_path: Path) -> None:
    assert snapshot_file(tmp_path).load() is None


@pytest.mark.parametrize("where", [12, -40, -1])
def test_an_altered_snapshot_is_refused(tmp_path: Path, where: int) -> None:
    snapshots = written(tmp_path, fold(EVENTS[:100]))
    data = bytearray(snapshots.path.read_bytes())
    data[where] ^= 0x01
    snapshots.path.write_bytes(bytes(data))
    with pytest.raises(SnapshotRefused, match="HMAC"):
        snapshots.load()


def test_a_truncated_snapshot_is_refused(tmp_path: Path) -> None:
    snapshots = written(tmp_path, fold(EVENTS[:100]))
    snapshots.path.write_bytes(snapshots.path.read_bytes()[:-100])
    with pytest.raises(SnapshotRefused):
        snapshots.load()


def test_a_sealed_snapshot_whose_events_do_not_add_up_is_refused_before_any_is_read(
    tmp_path: Path,
) -> None:
    snapshots = written(tmp_path, fold(EVENTS[:100]))
    body = snapshots.path.read_bytes()[: -hashlib.sha256().digest_size - 10]
    snapshots.path.write_bytes(body + hmac.new(KEY, body, hashlib.sha256).digest())
    with pytest.raises(SnapshotRefused, match="do not add up"):
        snapshots.load()


def test_a_restored_snapshot_yields_each_event_as_its_own_bytes(tmp_path: Path) -> None:
    folding = fold(EVENTS[:300])
    loaded = written(tmp_path, folding).load()
    assert loaded is not None
    events = list(loaded.events)
    assert len(loaded.events) == len(events) == len(folding.kept)
    assert events == folding.kept
    assert all(type(event.data) is bytes for event in events)  # nothing holds on to the file's


def test_a_payload_of_a_newer_data_version_is_kept_at_it_and_read_as_a_replay_reads_it(
    tmp_path: Path,
) -> None:
    v2 = synthetic_stream.deployed(SHAPE, BOX, 1).model_dump(mode="json")
    newer = {**v2, "field_of_a_later_release": {"x": 1}}
    live = fold([deploy_message(newer, ApiDeployed.VERSION + 1)])
    assert [e.version for e in live.kept] == [ApiDeployed.VERSION + 1]
    assert len(live.table.routes) == 1

    restored = restored_from(written(tmp_path, live))
    assert view(restored.table) == view(live.table)
    assert restored.kept == live.kept


def test_an_event_whose_data_version_the_snapshot_cannot_hold_is_not_folded() -> None:
    v2 = synthetic_stream.deployed(SHAPE, BOX, 1).model_dump(mode="json")
    for version in (0, MAX_DATA_VERSION + 1):
        folding = fold([deploy_message(v2, version)])
        assert (folding.kept, folding.table.routes, folding.last_sequence) == ([], {}, 1)


def test_a_sealed_snapshot_holding_a_data_version_0_is_refused() -> None:
    folding = fold(EVENTS[:10])
    kept = [folding.kept[0]._replace(version=0), *folding.kept[1:]]
    body = snapshot.encode(Snapshot(folding.last_sequence, "created-1", kept), "")
    with pytest.raises(SnapshotRefused, match="data version is 0"):
        snapshot.decode(body, "")


def test_a_kept_payload_that_does_not_validate_is_skipped_and_the_rest_restored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folding = fold(EVENTS[:300])
    kept, broken = with_broken(folding, KeyIssued.TYPE, b'{"key_id": "k"}')  # no hash, no app
    restored = restored_from(written(tmp_path, folding, kept))
    assert f"skipping unparseable snapshot event #{broken.sequence}" in caplog.text
    assert restored.kept == [e for e in kept if e is not broken]
    without = fold([m for m in EVENTS[:300] if m[0] != broken.sequence])
    assert view(restored.table) == view(without.table)  # as if the event had never been
    assert restored.last_sequence == folding.last_sequence


def test_a_kept_deploy_that_is_not_a_json_object_is_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folding = fold(EVENTS[:100])
    kept, broken = with_broken(folding, ApiDeployed.TYPE, b"[1, 2]")
    restored = restored_from(written(tmp_path, folding, kept))
    assert f"skipping unparseable snapshot event #{broken.sequence}" in caplog.text
    assert "is not a JSON object" in caplog.text
    assert len(restored.table.routes) == len(folding.table.routes) - 1
    assert restored.kept == [e for e in kept if e is not broken]


def test_a_sealed_snapshot_with_an_event_of_a_type_it_does_not_name_is_refused(
    tmp_path: Path,
) -> None:
    folding = fold(EVENTS[:10])
    kept = [folding.kept[0]._replace(type="aigw.not.named"), *folding.kept[1:]]
    body = snapshot.encode(Snapshot(folding.last_sequence, "created-1", kept), "")
    types = json.dumps(sorted({e.type for e in folding.kept})).encode()
    named = json.dumps(sorted({e.type for e in kept})).encode()
    body = body.replace(named, types.ljust(len(named)))  # the header no longer names it
    with pytest.raises(SnapshotRefused, match="not in its header"):
        snapshot.decode(body, "")


def test_a_snapshot_under_another_secret_key_is_refused(tmp_path: Path) -> None:
    written(tmp_path, fold(EVENTS[:100]))
    other = derived_key(generate_master_key(), "gateway routing snapshot")
    with pytest.raises(SnapshotRefused, match="another AIGW_SECRET_KEY"):
        snapshot_file(tmp_path, key=other).load()


def test_a_snapshot_taken_under_another_trust_is_refused(tmp_path: Path) -> None:
    written(tmp_path, fold(EVENTS[:100]))
    with pytest.raises(SnapshotRefused, match="trusted emitters"):
        snapshot_file(tmp_path, trust="another trust").load()


def test_a_snapshot_of_another_format_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    this_build = snapshot.FORMAT
    monkeypatch.setattr(snapshot, "FORMAT", 0)
    written(tmp_path, fold(EVENTS[:10]))
    monkeypatch.setattr(snapshot, "FORMAT", this_build)
    with pytest.raises(SnapshotRefused, match="format 0"):
        snapshot_file(tmp_path).load()


def test_the_snapshot_holds_no_provider_key_in_plaintext(tmp_path: Path) -> None:
    snapshots = written(tmp_path, full_replay())
    data = snapshots.path.read_bytes()
    assert b"mock-provider-key" not in data  # sealed, as in the events
    assert b"mock-sandbox-key" not in data
    assert snapshots.path.stat().st_mode & 0o077 == 0  # the owner's only


async def test_a_restored_table_of_another_stream_is_dropped_for_a_full_replay(
    tmp_path: Path,
) -> None:
    written(tmp_path, full_replay())
    table = RoutingTable()
    follower = EventFollower(
        "nats://127.0.0.1:1", {}, verifier(), table, BOX, snapshot_file(tmp_path)
    )
    follower.start()  # restores at once; NATS is not there
    try:
        assert follower.restored_sequence == len(EVENTS)
        assert view(table) == view(full_replay().table)
        await eventually(
            lambda: follower.degraded, f"degraded: serving from snapshot at sequence {len(EVENTS)}"
        )

        follower._check_stream("created-1", len(EVENTS))  # the same stream: kept
        assert table.routes
        follower._check_stream("created-again", 5)  # deleted and created again: dropped
        assert view(table) == view(RoutingTable())
        assert follower.degraded is None
        assert follower.last_sequence == 0
    finally:
        await follower.stop()


def test_without_a_snapshot_nothing_is_kept() -> None:
    folding = EventFold(RoutingTable(), verifier(), BOX)  # no GATEWAY_STATE_DIR: no RAM for it
    for message in EVENTS[:300]:
        folding.message(*message)
    assert folding.kept == []
    assert view(folding.table) == view(fold(EVENTS[:300]).table)
