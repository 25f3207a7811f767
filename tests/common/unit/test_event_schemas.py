"""Every event type's payload schema is pinned in event_schemas/<type>.json, with its data
version and subject field, so a payload change without a new data version fails here.

After an additive change (a new optional field: old events still validate, old readers ignore
it) or a version bump with its upcaster, regenerate the snapshots:

    AIGW_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/common/unit/test_event_schemas.py
"""

import json
import os
from pathlib import Path
from typing import Any

import pytest

from aigw.common.events import EVENT_TYPES, EventPayload

SNAPSHOTS = Path(__file__).parent / "event_schemas"
UPDATE = os.environ.get("AIGW_UPDATE_SNAPSHOTS") == "1"
REGENERATE = "AIGW_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/common/unit/test_event_schemas.py"


def contract(cls: type[EventPayload]) -> dict[str, Any]:
    """What readers of the stream rely on. Field names as on the wire (`model_dump`)."""
    composed = cls.subject_id is not EventPayload.subject_id
    return {
        "type": cls.TYPE,
        "dataversion": cls.VERSION,
        "subject": "(composed by subject_id)" if composed else cls.SUBJECT_FIELD,
        "schema": cls.model_json_schema(by_alias=False),
    }


def differences(old: Any, new: Any, path: str = "") -> list[str]:
    """Where two JSON documents differ, as JSON-pointer-ish paths (first differences only)."""
    if isinstance(old, dict) and isinstance(new, dict):
        found = [f"{path}/{key}: removed" for key in old if key not in new]
        found += [f"{path}/{key}: added" for key in new if key not in old]
        for key in old.keys() & new.keys():
            found += differences(old[key], new[key], f"{path}/{key}")
        return found
    if old != new:
        return [f"{path}: {json.dumps(old)[:80]} -> {json.dumps(new)[:80]}"]
    return []


def check_snapshot(cls: type[EventPayload], snapshots: Path, *, update: bool = False) -> None:
    event_type = cls.TYPE
    current = contract(cls)
    file = snapshots / f"{event_type}.json"
    if update:
        file.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    if not file.exists():
        pytest.fail(f"{event_type} has no schema snapshot: create it with `{REGENERATE}`")
    pinned = json.loads(file.read_text(encoding="utf-8"))
    if pinned == current:
        return
    changed = "\n  ".join(sorted(differences(pinned, current))[:15])
    name, version = cls.__name__, cls.VERSION
    if pinned["dataversion"] > version:
        pytest.fail(f"{name}.VERSION went down from {pinned['dataversion']} to {version}")
    if pinned["dataversion"] < version:
        pytest.fail(
            f"{name} moved to data version {version}: check it upcasts every older version "
            f"(upcast_v{version - 1}), then regenerate the snapshot with `{REGENERATE}`"
        )
    pytest.fail(
        f"the payload of {event_type} ({name}, data version {version}) changed without a new "
        f"data version:\n  {changed}\n"
        f"If events already on the stream no longer validate or mean something else (a field "
        f"removed, renamed, retyped, made required, or a new subject), bump {name}.VERSION to "
        f"{version + 1} and add `upcast_v{version}(data)`, a pure function of the old payload "
        f"(see aigw.common.upcasts). If you only added an optional field or loosened a "
        f"constraint, regenerate the snapshot with `{REGENERATE}`.",
        pytrace=False,
    )


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_the_payload_schema_matches_its_snapshot(event_type: str) -> None:
    check_snapshot(EVENT_TYPES[event_type], SNAPSHOTS, update=UPDATE)


def test_every_snapshot_belongs_to_an_event_type() -> None:
    stale = sorted(file.stem for file in SNAPSHOTS.glob("*.json"))
    stale = [name for name in stale if name not in EVENT_TYPES]
    assert not stale, (
        f"snapshots for event types this build no longer knows: {stale}. Events of a removed "
        "type are still on the stream: keep the class (readers skip what they do not apply) "
        "or delete the snapshot if the type never shipped"
    )


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_every_older_data_version_has_an_upcaster(event_type: str) -> None:
    cls = EVENT_TYPES[event_type]
    missing = [v for v in range(1, cls.VERSION) if not callable(getattr(cls, f"upcast_v{v}", None))]
    assert not missing, f"{cls.__name__} cannot read data versions {missing}: add upcast_vN"


def _pin(tmp_path: Path, cls: type[EventPayload], edit: dict[str, Any]) -> Path:
    pinned = contract(cls) | edit
    (tmp_path / f"{cls.TYPE}.json").write_text(json.dumps(pinned), encoding="utf-8")
    return tmp_path


def test_a_changed_payload_without_a_new_version_fails_saying_what_to_do(tmp_path: Path) -> None:
    cls = EVENT_TYPES["aigw.key.revoked"]
    # the snapshot of a payload that had a required `reason`, which the class no longer has
    schema = cls.model_json_schema(by_alias=False)
    schema["properties"]["reason"] = {"type": "string"}
    schema["required"] = [*schema["required"], "reason"]
    snapshots = _pin(tmp_path, cls, {"schema": schema})
    with pytest.raises(pytest.fail.Exception) as failure:
        check_snapshot(cls, snapshots)
    message = str(failure.value)
    assert "/schema/properties/reason: removed" in message
    assert "bump KeyRevoked.VERSION to 2 and add `upcast_v1(data)`" in message
    assert REGENERATE in message


def test_a_new_subject_field_fails_too(tmp_path: Path) -> None:
    cls = EVENT_TYPES["aigw.key.issued"]
    snapshots = _pin(tmp_path, cls, {"subject": "application_id"})
    with pytest.raises(pytest.fail.Exception, match="/subject: "):
        check_snapshot(cls, snapshots)


def test_a_version_bump_asks_for_the_upcaster_and_a_new_snapshot(tmp_path: Path) -> None:
    cls = EVENT_TYPES["aigw.api.deployed"]
    snapshots = _pin(tmp_path, cls, {"dataversion": 1, "schema": {}})
    with pytest.raises(pytest.fail.Exception, match="upcast_v1"):
        check_snapshot(cls, snapshots)


def test_a_missing_snapshot_fails_and_the_update_mode_writes_it(tmp_path: Path) -> None:
    cls = EVENT_TYPES["aigw.user.created"]
    with pytest.raises(pytest.fail.Exception, match="has no schema snapshot"):
        check_snapshot(cls, tmp_path)
    check_snapshot(cls, tmp_path, update=True)
    check_snapshot(cls, tmp_path)
