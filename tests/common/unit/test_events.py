from typing import Any, ClassVar

from aigw.common.events import (
    EVENT_TYPES,
    EventPayload,
    KeyIssued,
    new_event,
    parse_payload,
)


def test_envelope_carries_cloudevents_attributes_and_the_entity_id() -> None:
    payload = KeyIssued(key_id="k1", key_hash="ab" * 32, application_id="a1", key_type="SANDBOX")
    event = new_event(payload, source="keymanager", actor="alice", correlation_id="c1")
    assert event.type == "aigw.key.issued"
    assert event.subject == "k1"
    assert (event.source, event.actor, event.correlationid) == ("keymanager", "alice", "c1")
    assert parse_payload(event) == payload


def test_unknown_event_type_is_skipped_not_fatal() -> None:
    event = new_event(
        KeyIssued(key_id="k", key_hash="h", application_id="a", key_type="PRODUCTION"),
        source="x",
        actor="y",
    )
    assert parse_payload(event.model_copy(update={"type": "aigw.future.thing"})) is None


class _Renamed(EventPayload):
    """A v2 payload that renamed `app` to `application_id`."""

    TYPE: ClassVar[str] = "aigw.test.renamed"
    VERSION: ClassVar[int] = 2
    application_id: str

    def subject_id(self) -> str:
        return self.application_id

    @staticmethod
    def upcast_v1(data: dict[str, Any]) -> dict[str, Any]:
        return {"application_id": data.pop("app"), **data}


def test_readers_upcast_old_payload_versions() -> None:
    v1 = new_event(_Renamed(application_id="a1"), source="s", actor="a").model_copy(
        update={"dataversion": 1, "data": {"app": "a1"}}
    )
    assert _Renamed.from_envelope(v1).application_id == "a1"


def test_every_event_type_is_namespaced() -> None:
    assert all(t.startswith("aigw.") and t.count(".") == 2 for t in EVENT_TYPES)
