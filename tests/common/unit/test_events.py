from typing import Any, ClassVar

import pytest

from aigw.common.events import (
    EVENT_TYPES,
    EventPayload,
    KeyIssued,
    VendorChanged,
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
    SUBJECT_FIELD: ClassVar[str] = "application_id"
    application_id: str

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


def test_the_subject_is_the_declared_field_or_a_vendors_name_and_version() -> None:
    renamed = new_event(_Renamed(application_id="a1"), source="s", actor="a")
    assert renamed.subject == "a1"
    vendor = {"name": "Acme", "version": "v2", "auth": {"type": "unsecured"}}
    changed = VendorChanged.model_validate({"vendor": vendor, "action": "created"})
    assert new_event(changed, source="s", actor="a").subject == "Acme/v2"


def test_an_event_type_without_a_subject_field_of_its_own_is_refused_at_import() -> None:
    with pytest.raises(TypeError, match="SUBJECT_FIELD 'app' is not one of its fields"):

        class _Broken(EventPayload):
            TYPE: ClassVar[str] = "aigw.test.broken"
            SUBJECT_FIELD: ClassVar[str] = "app"
            application_id: str

    with pytest.raises(TypeError, match="SUBJECT_FIELD None"):

        class _Undeclared(EventPayload):
            TYPE: ClassVar[str] = "aigw.test.undeclared"
            application_id: str
