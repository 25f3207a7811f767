"""Service identities and signed events: what a consumer accepts, and everything it drops."""

import json

import nkeys
import pytest

from aigw.common.event_trust import (
    SIGNATURE_HEADER,
    SIGNER_HEADER,
    EventSigner,
    EventVerifier,
    RejectedEvent,
)
from aigw.common.events import KeyIssued, new_event
from aigw.common.identity import (
    IDENTITIES,
    Identity,
    decode_user_seed,
    emitter_of,
    may_publish,
    read_trust_file,
    write_trust_file,
)
from aigw.common.messaging import signed_message

IDS = {name: Identity.generate(name) for name in IDENTITIES}
VERIFIER = EventVerifier({name: [i.event_key().public_key()] for name, i in IDS.items()})


def key_issued(source: str = "keymanager") -> tuple[str, bytes, dict[str, str]]:
    payload = KeyIssued(
        key_id="k1", key_hash="ab" * 32, application_id="app", key_type="PRODUCTION"
    )
    event = new_event(payload, source=source, actor="attacker")
    body, headers = signed_message(event, EventSigner(IDS[source]))
    return event.type, body, headers


def test_seeds_are_real_nkeys_the_nats_client_accepts():
    identity = IDS["publisher"]
    pair = nkeys.from_seed(bytearray(identity.seed.encode()))
    assert pair.public_key.decode() == identity.nats_public_key
    assert identity.seed.startswith("SU")
    assert identity.nats_public_key.startswith("U")


def test_event_key_is_not_the_nats_key():
    """The NATS key signs nonces the server chooses: it must never sign events too."""
    identity = IDS["gateway"]
    raw_nats_public = nkeys.from_seed(bytearray(identity.seed.encode())).public_key
    assert identity.event_public_key not in raw_nats_public.decode()
    event_raw = identity.event_key().private_bytes_raw()
    assert event_raw != decode_user_seed(identity.seed)


@pytest.mark.parametrize("bad", ["", "SUnotaseed", "x" * 58, IDS["publisher"].nats_public_key])
def test_a_bad_seed_is_refused(bad):
    with pytest.raises(ValueError, match="nkey"):
        decode_user_seed(bad)


def test_trust_file_round_trip(tmp_path):
    path = tmp_path / "trust.json"
    write_trust_file(path, IDS)
    keys = read_trust_file(path)
    assert set(keys) == set(IDENTITIES)
    assert "seed" not in path.read_text()
    assert IDS["publisher"].seed not in path.read_text()


def test_each_subject_has_one_emitter():
    assert emitter_of("aigw.api.deployed") == "publisher"
    assert emitter_of("aigw.key.issued") == "keymanager"
    assert emitter_of("aigw.subscription.created") == "devportal"
    assert emitter_of("aigw.usage.recorded") == "gateway"
    assert emitter_of("aigw.anything.else") is None
    assert not may_publish("gateway", "aigw.key.issued")
    assert not may_publish("provisioner", "aigw.api.deployed")


def test_a_correctly_signed_event_is_accepted():
    subject, body, headers = key_issued()
    assert VERIFIER.open(subject, body, headers).type == subject


def reject(subject: str, body: bytes, headers: dict[str, str] | None) -> str:
    with pytest.raises(RejectedEvent) as caught:
        VERIFIER.open(subject, body, headers)
    return caught.value.reason


def test_unsigned_event_is_dropped():
    subject, body, _ = key_issued()
    assert reject(subject, body, {}) == "unsigned"
    assert reject(subject, body, None) == "unsigned"


def test_unknown_signer_is_dropped():
    subject, body, headers = key_issued()
    assert reject(subject, body, {**headers, SIGNER_HEADER: "intruder"}) == "unknown_signer"


def test_a_tampered_body_fails_the_signature():
    subject, body, headers = key_issued()
    data = json.loads(body)
    data["data"]["key_hash"] = "cd" * 32
    assert reject(subject, json.dumps(data).encode(), headers) == "bad_signature"


@pytest.mark.parametrize("signature", ["", "not base64!", "AAAA", "A" * 86, "A" * 90])
def test_a_signature_of_the_wrong_shape_fails(signature):
    subject, body, headers = key_issued()
    assert reject(subject, body, {**headers, SIGNATURE_HEADER: signature}) in (
        "bad_signature",
        "unsigned",  # an empty header is no signature at all
    )


def test_a_signature_moved_to_another_subject_fails():
    _subject, body, headers = key_issued()
    assert reject("aigw.key.revoked", body, headers) == "bad_signature"


def test_another_service_signing_as_keymanager_fails():
    """The publisher's key cannot make a keymanager event: the signer header lies."""
    subject, body, _ = key_issued()
    forged = EventSigner(IDS["publisher"]).headers(subject, body)
    assert reject(subject, body, {**forged, SIGNER_HEADER: "keymanager"}) == "bad_signature"


def test_a_service_signing_a_subject_it_does_not_own_is_dropped():
    """A gateway (or anyone holding its key) cannot issue API keys."""
    subject, body, headers = key_issued(source="gateway")
    assert headers[SIGNER_HEADER] == "gateway"
    assert reject(subject, body, headers) == "subject_not_allowed"


def test_source_and_type_must_match_the_signer_and_subject():
    payload = KeyIssued(key_id="k", key_hash="ab" * 32, application_id="a", key_type="SANDBOX")
    event = new_event(payload, source="publisher", actor="x")  # claims another source
    body = event.model_dump_json().encode()
    headers = EventSigner(IDS["keymanager"]).headers(event.type, body)
    assert reject(event.type, body, headers) == "source_mismatch"
    event = new_event(payload, source="keymanager", actor="x")
    body = event.model_dump_json().encode()
    headers = EventSigner(IDS["keymanager"]).headers("aigw.key.revoked", body)
    assert reject("aigw.key.revoked", body, headers) == "type_mismatch"


def test_rejections_are_counted_by_reason():
    verifier = EventVerifier({"keymanager": [IDS["keymanager"].event_key().public_key()]})
    subject, body, headers = key_issued()
    for _ in range(2):
        with pytest.raises(RejectedEvent):
            verifier.open(subject, body, {})
    with pytest.raises(RejectedEvent):
        verifier.open(subject, body, {**headers, SIGNATURE_HEADER: "AAAA"})
    metrics = {
        tuple(sample.labels.values()): sample.value
        for family in verifier.collector().collect()
        for sample in family.samples
    }
    assert metrics == {("bad_signature",): 1, ("unsigned",): 2}


def test_a_rotated_seed_keeps_the_old_event_key_trusted(tmp_path):
    """Events in the stream were signed with the old key: a replay must still verify them."""
    path = tmp_path / "trust.json"
    write_trust_file(path, IDS)
    old_signed = key_issued()
    rotated = {**IDS, "keymanager": Identity.generate("keymanager")}
    write_trust_file(path, rotated)
    verifier = EventVerifier(read_trust_file(path))
    assert verifier.open(*old_signed).type == "aigw.key.issued"
    event = new_event(
        KeyIssued(key_id="k2", key_hash="ef" * 32, application_id="a", key_type="SANDBOX"),
        source="keymanager",
        actor="x",
    )
    body, headers = signed_message(event, EventSigner(rotated["keymanager"]))
    assert verifier.open(event.type, body, headers).id == event.id
    assert len(read_trust_file(path)["keymanager"]) == 2
