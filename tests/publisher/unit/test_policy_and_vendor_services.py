"""The plans' and the custom vendors' rules, over in-memory documents: what may be changed or
deleted, and the event each change announces, in whose name and under which correlation id."""

from typing import Any

import pytest

from aigw.common.errors import Conflict, InvalidInput, NotFound
from aigw.common.vendors import VendorDefinition
from aigw.publisher.policies.defaults import DEFAULT_POLICIES
from aigw.publisher.policies.schemas import PolicyChange, PolicyIn
from tests.support.publisher_memory import MemoryPublisher, actor, api_body
from tests.support.vendors import ACME_VENDOR

ADMIN = actor("root", admin=True)
PUBLISHER = actor("alice")


def _plan(name: str = "Platinum", **fields: Any) -> PolicyIn:
    limits = [{"unit": "minute", "requests": 10}]
    return PolicyIn.model_validate({"name": name, "limits": limits, **fields})


def _acme(**overrides: Any) -> VendorDefinition:
    return VendorDefinition.model_validate({**ACME_VENDOR, **overrides})


# --- plans ---------------------------------------------------------------------------------


async def test_the_default_plans_are_seeded_once_and_a_deleted_one_stays_deleted():
    publisher = MemoryPublisher()
    await publisher.policies.seed_defaults()
    names = [doc["name"] for doc in await publisher.policies.list_all()]
    assert names == [policy.name for policy in DEFAULT_POLICIES]
    seeded = publisher.events("aigw.policy.updated")
    assert {e.actor for e in seeded} == {"system"}

    await publisher.policies.delete("Gold", ADMIN)
    await publisher.policies.seed_defaults()  # as the next start does
    assert "Gold" not in [doc["name"] for doc in await publisher.policies.list_all()]


async def test_a_new_plan_is_announced_in_the_admins_name(publisher: MemoryPublisher):
    doc = await publisher.policies.create(_plan(description="ten a minute"), ADMIN)
    assert doc["limits"][0]["requests"] == 10
    [event] = publisher.events("aigw.policy.updated")
    assert (event.actor, event.correlationid) == ("root", "corr-root")
    assert (event.data["name"], event.data["description"]) == ("Platinum", "ten a minute")
    with pytest.raises(Conflict, match="already exists"):
        await publisher.policies.create(_plan(), ADMIN)
    assert len(publisher.events("aigw.policy.updated")) == 1


async def test_unlimited_is_built_in(publisher: MemoryPublisher):
    with pytest.raises(Conflict, match="cannot be changed"):
        await publisher.policies.update("Unlimited", PolicyChange(), ADMIN)
    with pytest.raises(Conflict, match="cannot be deleted"):
        await publisher.policies.delete("Unlimited", ADMIN)
    assert publisher.events() == []


async def test_a_plan_an_api_offers_cannot_be_deleted(publisher: MemoryPublisher):
    await publisher.apis.create(api_body(policies=["Gold"]), PUBLISHER)
    with pytest.raises(Conflict, match="offered by 1 API"):
        await publisher.policies.delete("Gold", ADMIN)
    assert (await publisher.policies.get("Gold"))["name"] == "Gold"


async def test_a_deleted_plan_is_announced_and_its_name_free_again(publisher: MemoryPublisher):
    await publisher.policies.delete("Silver", ADMIN)
    [event] = publisher.events("aigw.policy.updated")
    assert (event.subject, event.data["deleted"], event.actor) == ("Silver", True, "root")
    with pytest.raises(NotFound):
        await publisher.policies.get("Silver")
    await publisher.policies.create(_plan("Silver"), ADMIN)


async def test_a_changed_plan_is_announced_with_its_new_limits(publisher: MemoryPublisher):
    change = PolicyChange.model_validate({"limits": [{"unit": "hour", "totalTokens": 500}]})
    doc = await publisher.policies.update("Bronze", change, ADMIN)
    assert doc["limits"][0]["total_tokens"] == 500
    [event] = publisher.events("aigw.policy.updated")
    assert event.data["limits"][0]["unit"] == "hour"
    with pytest.raises(NotFound):
        await publisher.policies.update("Nope", change, ADMIN)


# --- custom vendors ------------------------------------------------------------------------


async def test_a_custom_vendor_is_announced_in_the_admins_name(publisher: MemoryPublisher):
    vendor = await publisher.vendors.create(_acme(), ADMIN)
    assert not vendor.built_in
    [event] = publisher.events("aigw.vendor.changed")
    assert (event.subject, event.data["action"], event.actor) == ("Acme/v2", "created", "root")
    assert event.correlationid == "corr-root"
    with pytest.raises(Conflict, match="already exists"):
        await publisher.vendors.create(_acme(), ADMIN)


async def test_built_in_vendors_are_read_only(publisher: MemoryPublisher):
    openai = _acme(name="OpenAI", version="v1")
    with pytest.raises(Conflict, match="built in and read-only"):
        await publisher.vendors.create(openai, ADMIN)
    with pytest.raises(Conflict, match="built in and read-only"):
        await publisher.vendors.delete("OpenAI", "v1", ADMIN)
    assert publisher.events() == []


async def test_a_vendor_needs_an_operation_and_keeps_its_name(publisher: MemoryPublisher):
    with pytest.raises(InvalidInput, match="at least one operation"):
        await publisher.vendors.create(
            _acme(apiDefinition={"openapi": "3.0.3", "paths": {}}), ADMIN
        )
    await publisher.vendors.create(_acme(), ADMIN)
    with pytest.raises(InvalidInput, match="cannot change"):
        await publisher.vendors.update("Acme", "v2", _acme(version="v3"), ADMIN)


async def test_a_vendor_an_api_is_built_on_cannot_be_deleted(publisher: MemoryPublisher):
    await publisher.vendors.create(_acme(), ADMIN)
    vendor = {"name": "Acme", "version": "v2"}
    api = await publisher.apis.create(api_body(name="On Acme", aiVendor=vendor), PUBLISHER)
    with pytest.raises(Conflict, match=f"'On Acme' \\({api['_id']}\\)"):
        await publisher.vendors.delete("Acme", "v2", ADMIN)

    await publisher.apis.delete(api["_id"], PUBLISHER)
    await publisher.vendors.delete("Acme", "v2", ADMIN)
    actions = [e.data["action"] for e in publisher.events("aigw.vendor.changed")]
    assert actions == ["created", "deleted"]
    with pytest.raises(NotFound):
        await publisher.vendors.get("Acme", "v2")
