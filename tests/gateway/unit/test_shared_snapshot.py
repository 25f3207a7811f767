"""The shared snapshot (routing.shared_snapshot): what the snapshotter folds without the master
key, sealed and opened by a gateway, then folded on with the rest of the stream, gives exactly
the table a full replay gives, at any cut; a snapshot signed by anyone but the snapshotter,
altered, unsigned, or made under another trust is refused."""

import pytest

from aigw.common.event_trust import EventSigner, EventVerifier
from aigw.common.identity import SNAPSHOTTER, Identity
from aigw.gateway.routing.fold import EventFold
from aigw.gateway.routing.shared_snapshot import META_SUBJECT, SharedSnapshots
from aigw.gateway.routing.snapshot import Snapshot, SnapshotRefused
from aigw.gateway.routing.table import RoutingTable
from tests.gateway.unit.test_table_snapshot import (
    BOX,
    CUTS,
    EVENTS,
    IDENTITY,
    TRUST,
    fold,
    full_replay,
    verifier,
    view,
)


def snapshotter(signer: str = SNAPSHOTTER) -> SharedSnapshots:
    return SharedSnapshots(verifier(), EventSigner(IDENTITY[signer]))


def snapshotters_fold(cut: int) -> Snapshot:
    """What the snapshotter holds after `cut` events: folded with no master key."""
    folding = fold(EVENTS[:cut], into=EventFold(RoutingTable(), verifier(), None, keep=True))
    return Snapshot(folding.last_sequence, "created-1", list(folding.kept))


@pytest.mark.parametrize("cut", CUTS)
def test_a_gateway_from_the_shared_snapshot_builds_the_table_a_full_replay_builds(
    cut: int,
) -> None:
    body, headers = snapshotter().seal(snapshotters_fold(cut))

    opened = SharedSnapshots(verifier()).open(body, headers)  # a gateway: no signer
    restored = EventFold(RoutingTable(), verifier(), BOX)
    restored.restore(opened.sequence, opened.events)
    fold(EVENTS[cut:], into=restored)

    full = full_replay()
    assert opened.sequence == cut
    assert view(restored.table) == view(full.table)
    assert restored.kept == []  # a gateway without a state directory keeps nothing
    # provider keys were decrypted by the gateway, with its own master key
    assert any(r.production and r.production.api_key for r in restored.table.routes.values())


def test_the_signature_is_carried_as_nats_object_headers() -> None:
    _, headers = snapshotter().seal(snapshotters_fold(10))
    assert headers["Aigw-Signer"] == [SNAPSHOTTER]
    assert len(headers["Aigw-Signature"]) == 1


@pytest.mark.parametrize("signer", ["gateway", "publisher", "keymanager"])
def test_a_snapshot_signed_by_another_identity_is_refused(signer: str) -> None:
    body, headers = snapshotter(signer).seal(snapshotters_fold(100))
    with pytest.raises(SnapshotRefused, match="signature is refused"):
        SharedSnapshots(verifier()).open(body, headers)


def test_a_snapshot_signed_as_the_snapshotter_by_another_key_is_refused() -> None:
    forger = EventSigner(Identity.generate(SNAPSHOTTER))  # the name, not the key
    body = snapshotter().seal(snapshotters_fold(100))[0]
    headers = {k: [v] for k, v in forger.headers(META_SUBJECT, body).items()}
    with pytest.raises(SnapshotRefused, match="bad_signature"):
        SharedSnapshots(verifier()).open(body, headers)


def test_an_altered_snapshot_is_refused() -> None:
    body, headers = snapshotter().seal(snapshotters_fold(100))
    altered = body.replace(b'"requests":10000', b'"requests":99999', 1)  # a plan's limit
    assert altered != body
    with pytest.raises(SnapshotRefused, match="bad_signature"):
        SharedSnapshots(verifier()).open(altered, headers)


@pytest.mark.parametrize("headers", [None, {}, {"Aigw-Signer": ["snapshotter"]}, "x"])
def test_an_unsigned_snapshot_is_refused(headers: object) -> None:
    body, _ = snapshotter().seal(snapshotters_fold(100))
    with pytest.raises(SnapshotRefused, match="unsigned"):
        SharedSnapshots(verifier()).open(body, headers)


def test_a_snapshot_made_under_another_trust_is_refused() -> None:
    body, headers = snapshotter().seal(snapshotters_fold(100))
    rotated = {**TRUST, "keymanager": [Identity.generate("keymanager").event_key().public_key()]}
    with pytest.raises(SnapshotRefused, match="trusted emitters"):
        SharedSnapshots(EventVerifier(rotated)).open(body, headers)


def test_the_signature_is_checked_before_anything_is_read_from_the_body() -> None:
    body, _ = snapshotter().seal(snapshotters_fold(100))
    _, forged = snapshotter("gateway").seal(snapshotters_fold(100))
    broken = body[:-10]  # its events no longer add up: a parse would say so
    with pytest.raises(SnapshotRefused, match="signature is refused"):
        SharedSnapshots(verifier()).open(broken, forged)
