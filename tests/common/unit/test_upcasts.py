"""Upcasters are pure: the same old payload gives the same new one in every build, whatever the
built-in vendor catalogue says today (event_upcasts/ holds the expected v1 -> v2 results)."""

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from aigw.common.events import ApiDeployed, Envelope, UsageRecorded, parse_payload
from aigw.common.vendors import builtin, spec

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent / "event_upcasts" / "api_deployed_v1.json").read_text("utf-8")
)
IDS = [case["v1"]["vendor"]["name"] for case in CASES]


def _read_v1(data: dict[str, Any]) -> dict[str, Any]:
    envelope = Envelope(
        id="1",
        source="publisher",
        type=ApiDeployed.TYPE,
        subject=data["api_id"],
        time="2026-01-01T00:00:00Z",
        actor="alice",
        correlationid="c",
        dataversion=1,
        data=copy.deepcopy(data),
    )
    event = parse_payload(envelope)
    assert isinstance(event, ApiDeployed)
    return event.model_dump(mode="json")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_v1_deploy_reads_as_the_committed_v2_payload(case: dict[str, Any]) -> None:
    assert _read_v1(case["v1"]) == case["v2"]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_v1_upcast_ignores_todays_builtin_catalogue(
    case: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # a later release changes every built-in vendor's metering, or drops the vendor
    changed = {
        key: vendor.model_copy(update={"metadata": spec.Metadata(), "default_headers": {"X": "y"}})
        for key, vendor in builtin._BY_KEY.items()
    }
    monkeypatch.setattr(builtin, "_BY_KEY", changed)
    assert _read_v1(case["v1"]) == case["v2"]
    monkeypatch.setattr(builtin, "_BY_KEY", {})
    assert _read_v1(case["v1"]) == case["v2"]


def test_the_v1_upcast_neither_changes_its_input_nor_shares_its_frozen_data() -> None:
    v1 = CASES[0]["v1"]
    data = copy.deepcopy(v1)
    first = ApiDeployed.upcast_v1(data)
    assert data == v1
    first["vendor"]["metadata"]["request_model"] = None
    first["vendor"]["default_headers"]["X-Leak"] = "1"
    assert ApiDeployed.upcast_v1(copy.deepcopy(v1)) == ApiDeployed.upcast_v1(data) != first


def test_v1_era_builtins_keep_their_metering_and_the_auth_they_were_sent_with() -> None:
    by_vendor = {case["v1"]["vendor"]["name"]: case["v2"]["vendor"] for case in CASES}
    assert by_vendor["OpenAI"]["stream"]["usage_option"] == "include_usage"
    assert by_vendor["AzureOpenAI"]["auth"] == {
        "type": "header",
        "name": "api-key",
        "value_prefix": "",
    }
    # what v1 did not carry stays unset: the gateway decides what such a revision forwards
    assert all(vendor["operations"] is None for vendor in by_vendor.values())
    # a vendor v1 never knew gets the auth it was sent and no metering
    assert by_vendor["Acme"]["metadata"]["prompt_token_count"] is None
    assert by_vendor["Acme"]["auth"]["value_prefix"] == "Key "


def test_a_v1_usage_batch_reads_with_its_record_ids_and_no_request_ids() -> None:
    record = {
        "request_id": "r-1",
        "time": "2026-01-01T00:00:00Z",
        "api_id": "a",
        "application_id": "app",
        "key_type": "PRODUCTION",
        "status": 200,
    }
    data = {"batch_id": "b", "gateway": "gw", "records": [record]}
    before = copy.deepcopy(data)
    envelope = Envelope(
        id="1",
        source="gateway",
        type=UsageRecorded.TYPE,
        subject="b",
        time="2026-01-01T00:00:00Z",
        actor="gw",
        correlationid="c",
        dataversion=1,
        data=data,
    )
    batch = parse_payload(envelope)
    assert isinstance(batch, UsageRecorded)
    [read] = batch.records
    assert (read.record_id, read.request_id) == ("r-1", None)
    assert data == before
