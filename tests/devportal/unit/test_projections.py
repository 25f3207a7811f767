"""What each read model's fold writes for an event (the newer-event guard itself is the
repositories', tested against the real store in tests/devportal/integration)."""

from datetime import UTC, datetime
from typing import Any

from aigw.common.events import (
    ApiDeleted,
    ApiPublished,
    ApiUpdated,
    Envelope,
    EventPayload,
    PolicyUpdated,
    QuotaLimit,
    VendorChanged,
    VendorRef,
    new_event,
)
from aigw.common.vendors import VendorDefinition
from aigw.devportal.catalog.projection import fold as fold_api
from aigw.devportal.policies.projection import fold as fold_plan
from aigw.devportal.projection import event_micros
from aigw.devportal.vendors.projection import fold as fold_vendor
from tests.support.devportal_memory import MemoryCatalog, MemoryPlans, MemoryVendorDefinitions
from tests.support.vendors import ACME_VENDOR

VENDOR = VendorRef(name="MistralAI", version="v1")
AT = datetime(2026, 3, 1, 10, 0, 0, 123456, tzinfo=UTC)


def _event(payload: EventPayload) -> Envelope:
    return new_event(payload, source="publisher", actor="admin").model_copy(update={"time": AT})


def _updated(status: str, route_prefix: str = "") -> ApiUpdated:
    return ApiUpdated(
        api_id="a",
        name="chat",
        context="chat",
        version="2.0.0",
        route_prefix=route_prefix,
        vendor=VENDOR,
        lifecycle_status=status,
        policies=["Gold"],
    )


def test_event_time_is_kept_to_the_microsecond() -> None:
    assert event_micros(AT) % 1_000_000 == 123456
    assert event_micros(AT.replace(tzinfo=None)) == event_micros(AT)


async def test_a_published_api_is_listed_with_what_its_event_says() -> None:
    catalog = MemoryCatalog()
    published = ApiPublished(
        api_id="a",
        name="chat",
        context="chat",
        version="1.0.0",
        route_prefix="chat/1.0.0",
        vendor=VENDOR,
        description="d",
        policies=["Gold", "Silver"],
    )

    await fold_api(catalog, _event(published))

    [(kind, api_id, at, fields)] = catalog.writes
    assert (kind, api_id, at) == ("publish", "a", event_micros(AT))
    assert fields == {
        "name": "chat",
        "context": "chat",
        "version": "1.0.0",
        "route_prefix": "chat/1.0.0",
        "vendor": {"name": "MistralAI", "version": "v1"},
        "description": "d",
        "lifecycle_status": "PUBLISHED",
        "policies": ["Gold", "Silver"],
        "listed": True,
        "deleted": False,
    }


async def test_an_update_keeps_the_route_prefix_it_omits_and_leaving_published_unlists() -> None:
    catalog = MemoryCatalog()

    await fold_api(catalog, _event(_updated("PUBLISHED")))
    await fold_api(catalog, _event(_updated("DEPRECATED", route_prefix="chat/2.0.0")))

    [(_, _, _, still), (_, _, _, leaving)] = catalog.writes
    assert "route_prefix" not in still
    assert still["listed"] is True
    assert (leaving["route_prefix"], leaving["listed"]) == ("chat/2.0.0", False)


async def test_a_deleted_api_becomes_a_tombstone_and_other_api_events_change_nothing() -> None:
    catalog = MemoryCatalog()
    created = new_event(
        ApiPublished(
            api_id="a", name="x", context="x", version="1", route_prefix="x/1", vendor=VENDOR
        ),
        source="publisher",
        actor="admin",
    ).model_copy(update={"type": "aigw.api.created"})

    await fold_api(catalog, created)
    await fold_api(catalog, _event(ApiDeleted(api_id="a")))

    assert [(kind, fields) for kind, _, _, fields in catalog.writes] == [
        ("tombstone", {"listed": False, "deleted": True})
    ]


async def test_a_plan_is_stored_as_its_event_describes_it() -> None:
    plans = MemoryPlans()
    limit = QuotaLimit(unit="minute", requests=10)
    event = PolicyUpdated(name="Gold", description="g", limits=[limit], deleted=False)

    await fold_plan(plans, _event(event))

    assert plans.plans["Gold"] == {
        "description": "g",
        "limits": [
            {
                "unit": "minute",
                "requests": 10,
                "total_tokens": None,
                "prompt_tokens": None,
                "completion_tokens": None,
            }
        ],
        "default_completion_tokens": 256,
        "deleted": False,
    }
    await fold_plan(plans, _event(event.model_copy(update={"deleted": True})))
    assert await plans.list_live() == []


async def test_a_deleted_vendor_keeps_no_definition() -> None:
    vendors = MemoryVendorDefinitions()
    vendor = VendorDefinition.model_validate(ACME_VENDOR)
    document = vendor.api_definition

    await fold_vendor(vendors, _event(_changed(vendor, "created", document)))
    assert vendors.definitions[(vendor.name, vendor.version)] == {
        "api_definition": document,
        "deleted": False,
    }
    await fold_vendor(vendors, _event(_changed(vendor, "deleted", document)))
    assert vendors.definitions[(vendor.name, vendor.version)] == {
        "api_definition": None,
        "deleted": True,
    }


def _changed(vendor: VendorDefinition, action: Any, document: Any) -> VendorChanged:
    return VendorChanged(vendor=vendor.spec(), action=action, api_definition=document)
