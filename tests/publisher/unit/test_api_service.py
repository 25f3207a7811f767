"""The API service's rules, over in-memory documents: who may see and change an API, its
lifecycle, deploys and their provider keys, and which event each change announces, in whose
name and under which correlation id. A refusal changes nothing and announces nothing."""

from typing import Any

import pytest

from aigw.common.crypto import SecretBox, generate_master_key, provider_key_context
from aigw.common.errors import Conflict, Forbidden, InvalidInput, NotFound
from aigw.common.events import Envelope
from aigw.publisher.apis.repository import DEPLOY_MARKS
from aigw.publisher.apis.schemas import BackendSecurityIn
from tests.support.publisher_memory import MemoryPublisher, actor, api_body

OWNER = actor("alice")
CO_OWNER = actor("bob")
STRANGER = actor("mallory")
ADMIN = actor("root", admin=True)


def _keys(**keys: str | None) -> BackendSecurityIn:
    return BackendSecurityIn.model_validate(
        {name: None if key is None else {"apiKey": key} for name, key in keys.items()}
    )


def _by(event: Envelope, who: Any) -> None:
    """The event was emitted by the publisher for `who`, under `who`'s correlation id."""
    assert (event.source, event.actor, event.correlationid) == (
        "publisher",
        who.subject,
        who.correlation_id,
    )


async def _deployable(publisher: MemoryPublisher, **overrides: Any) -> str:
    """An API of OWNER's whose endpoints are set to go without a provider key."""
    doc = await publisher.apis.create(api_body(**overrides), OWNER)
    await publisher.apis.set_backend_security(
        doc["_id"], _keys(production=None, sandbox=None), OWNER
    )
    return doc["_id"]


# --- ownership -----------------------------------------------------------------------------


async def test_the_creator_owns_the_api_and_its_creation_is_announced_in_their_name(
    publisher: MemoryPublisher,
):
    doc = await publisher.apis.create(api_body(coOwners=["bob"]), OWNER)
    assert (doc["owner"], doc["co_owners"], doc["lifecycle_status"]) == (
        "alice",
        ["bob"],
        "CREATED",
    )
    [created] = publisher.events("aigw.api.created")
    _by(created, OWNER)
    assert created.subject == doc["_id"]
    assert created.data["lifecycle_status"] == "CREATED"
    assert publisher.staged() == []  # flushed at once


async def test_owner_co_owners_and_admins_see_an_api_nobody_else_does(
    publisher: MemoryPublisher,
):
    api_id = (await publisher.apis.create(api_body(coOwners=["bob"]), OWNER))["_id"]
    for who in (OWNER, CO_OWNER, ADMIN):
        assert (await publisher.apis.get(api_id, who))["_id"] == api_id
    with pytest.raises(NotFound):  # not 403: someone else's API does not exist for them
        await publisher.apis.get(api_id, STRANGER)
    assert [d["_id"] for d in await publisher.apis.list(CO_OWNER)] == [api_id]
    assert await publisher.apis.list(STRANGER) == []
    assert [d["_id"] for d in await publisher.apis.list(ADMIN)] == [api_id]


async def test_an_api_from_before_owners_existed_is_the_admins_alone(publisher: MemoryPublisher):
    api_id = (await publisher.apis.create(api_body(), OWNER))["_id"]
    publisher.api_docs.coll.docs[api_id].pop("owner")
    with pytest.raises(NotFound):
        await publisher.apis.get(api_id, OWNER)
    assert (await publisher.apis.get(api_id, ADMIN))["_id"] == api_id


async def test_someone_elses_api_cannot_be_changed_deployed_or_deleted(
    publisher: MemoryPublisher,
):
    api_id = await _deployable(publisher)
    before = len(publisher.events())
    with pytest.raises(NotFound):
        await publisher.apis.update(api_id, api_body(name="Taken over"), STRANGER)
    with pytest.raises(NotFound):
        await publisher.apis.deploy(api_id, STRANGER)
    with pytest.raises(NotFound):
        await publisher.apis.delete(api_id, STRANGER)
    assert len(publisher.events()) == before
    assert (await publisher.apis.get(api_id, OWNER))["name"] == "Mistral"


async def test_a_co_owner_changes_the_api_but_not_who_shares_it(publisher: MemoryPublisher):
    api_id = (await publisher.apis.create(api_body(coOwners=["bob"]), OWNER))["_id"]
    with pytest.raises(Forbidden):
        await publisher.apis.update(api_id, api_body(coOwners=["bob", "carol"]), CO_OWNER)
    assert (await publisher.apis.get(api_id, OWNER))["co_owners"] == ["bob"]
    assert publisher.events("aigw.api.updated") == []

    changed = await publisher.apis.update(api_id, api_body(description="by bob"), CO_OWNER)
    assert (changed["description"], changed["co_owners"]) == ("by bob", ["bob"])  # left out: kept
    [updated] = publisher.events("aigw.api.updated")
    _by(updated, CO_OWNER)
    assert updated.data["description"] == "by bob"


async def test_the_owner_or_an_admin_changes_the_co_owners(publisher: MemoryPublisher):
    api_id = (await publisher.apis.create(api_body(coOwners=["bob"]), OWNER))["_id"]
    await publisher.apis.update(api_id, api_body(coOwners=[]), OWNER)
    assert (await publisher.apis.get(api_id, ADMIN))["co_owners"] == []
    await publisher.apis.update(api_id, api_body(coOwners=["carol"]), ADMIN)
    assert (await publisher.apis.get(api_id, ADMIN))["co_owners"] == ["carol"]
    with pytest.raises(NotFound):  # bob is no co-owner any more
        await publisher.apis.get(api_id, CO_OWNER)


# --- definition ----------------------------------------------------------------------------


async def test_two_apis_cannot_share_a_route(publisher: MemoryPublisher):
    await publisher.apis.create(api_body(), OWNER)
    with pytest.raises(Conflict) as refused:
        await publisher.apis.create(api_body(name="Other"), CO_OWNER)
    assert set(refused.value.fields or {}) == {"context", "version"}
    assert len(publisher.events("aigw.api.created")) == 1


async def test_a_deleted_apis_route_is_free_again_and_its_deletion_announced(
    publisher: MemoryPublisher,
):
    api_id = (await publisher.apis.create(api_body(), OWNER))["_id"]
    await publisher.apis.delete(api_id, OWNER)
    [deleted] = publisher.events("aigw.api.deleted")
    _by(deleted, OWNER)
    with pytest.raises(NotFound):
        await publisher.apis.get(api_id, ADMIN)
    assert api_id not in publisher.api_docs.coll.docs  # gone once its last event was out
    await publisher.apis.create(api_body(), OWNER)


async def test_outside_dev_mode_a_loopback_endpoint_is_refused_and_nothing_stored(
    publisher: MemoryPublisher,
):
    with pytest.raises(InvalidInput, match="dev mode"):
        await publisher.apis.create(api_body(endpoints={"production": "http://127.0.0.1:9"}), OWNER)
    assert await publisher.apis.list(ADMIN) == []
    assert publisher.events() == []


async def test_dev_mode_accepts_a_local_endpoint():
    publisher = await MemoryPublisher(dev_mode=True).start()
    doc = await publisher.apis.create(
        api_body(endpoints={"production": "http://127.0.0.1:9"}), OWNER
    )
    assert doc["endpoints"]["production"] == "http://127.0.0.1:9"


async def test_an_unknown_vendor_or_plan_is_refused(publisher: MemoryPublisher):
    with pytest.raises(InvalidInput, match="Unknown AI vendor"):
        await publisher.apis.create(api_body(aiVendor={"name": "Nope", "version": "v1"}), OWNER)
    with pytest.raises(InvalidInput, match="Unknown subscription policy 'Platinum'"):
        await publisher.apis.create(api_body(policies=["Gold", "Platinum"]), OWNER)
    assert await publisher.apis.list(ADMIN) == []


async def test_a_put_that_drops_a_keyed_endpoint_is_refused_a_patch_removing_it_is_not(
    publisher: MemoryPublisher,
):
    api_id = (await publisher.apis.create(api_body(), OWNER))["_id"]
    await publisher.apis.set_backend_security(api_id, _keys(sandbox="sk-sandbox-1234"), OWNER)
    with pytest.raises(Conflict, match="would remove endpoint 'sandbox'"):
        await publisher.apis.update(
            api_id, api_body(endpoints={"production": "https://api.mistral.ai"}), OWNER
        )
    assert "sandbox" in (await publisher.apis.get(api_id, OWNER))["backend_security"]

    patched = await publisher.apis.patch(api_id, {"endpoints": {"sandbox": None}}, OWNER)
    assert patched["endpoints"]["sandbox"] is None
    assert "sandbox" not in patched["backend_security"]


async def test_moving_an_endpoint_to_another_origin_clears_its_key(publisher: MemoryPublisher):
    api_id = (await publisher.apis.create(api_body(), OWNER))["_id"]
    await publisher.apis.set_backend_security(api_id, _keys(production="sk-prod-1234"), OWNER)
    moved = api_body(endpoints={"production": "https://elsewhere.example", "sandbox": None})
    doc = await publisher.apis.update(api_id, moved, OWNER)
    assert doc["backend_security"]["production"] == {"required": True}


# --- deployment and lifecycle --------------------------------------------------------------


async def test_a_deploy_without_the_provider_key_the_vendor_needs_is_refused(
    publisher: MemoryPublisher,
):
    api_id = (await publisher.apis.create(api_body(), OWNER))["_id"]
    with pytest.raises(Conflict, match="no provider key"):
        await publisher.apis.deploy(api_id, OWNER)
    assert publisher.events("aigw.api.deployed") == []
    assert (await publisher.apis.get(api_id, OWNER))["revision"] == 0


async def test_a_deploy_with_a_mark_writes_it_with_the_revision(publisher: MemoryPublisher):
    """The mark of an Idempotency-Key is on the deploy's own write (aigw.common.idempotency):
    the newest DEPLOY_MARKS are kept, and only the API's managers find them."""
    api_id = await _deployable(publisher)
    for n in range(DEPLOY_MARKS + 2):
        await publisher.apis.deploy(api_id, OWNER, f"mark-{n}")
    newest = await publisher.apis.deployed_with(api_id, f"mark-{DEPLOY_MARKS + 1}", OWNER)
    assert newest is not None
    assert newest["revision"] == DEPLOY_MARKS + 2
    assert await publisher.apis.deployed_with(api_id, "mark-0", OWNER) is None  # dropped
    assert await publisher.apis.deployed_with(api_id, "never", OWNER) is None
    with pytest.raises(NotFound):
        await publisher.apis.deployed_with(api_id, "mark-2", STRANGER)


async def test_a_deploy_announces_the_revision_with_the_key_still_sealed(
    publisher: MemoryPublisher,
):
    api_id = (await publisher.apis.create(api_body(coOwners=["bob"]), OWNER))["_id"]
    await publisher.apis.set_backend_security(
        api_id, _keys(production="sk-prod-1234", sandbox=None), CO_OWNER
    )
    doc = await publisher.apis.deploy(api_id, OWNER)
    assert (doc["revision"], doc["deployed_revision"]) == (1, 1)
    [deployed] = publisher.events("aigw.api.deployed")
    _by(deployed, OWNER)
    production = deployed.data["production"]
    assert "sk-prod-1234" not in str(deployed.data)
    context = provider_key_context(api_id, "production", production["url"])
    assert publisher.box.decrypt(production["api_key_ciphertext"], context) == "sk-prod-1234"
    assert deployed.data["sandbox"]["api_key_ciphertext"] is None  # keyless on purpose
    # setting keys is announced as an update, without any key material
    [keys_set] = publisher.events("aigw.api.updated")
    _by(keys_set, CO_OWNER)
    assert "sk-prod" not in str(keys_set.data)


async def test_publishing_needs_a_deployment_and_is_announced_as_published(
    publisher: MemoryPublisher,
):
    api_id = await _deployable(publisher)
    with pytest.raises(Conflict, match="not deployed"):
        await publisher.apis.change_lifecycle(api_id, "publish", OWNER)
    assert publisher.events("aigw.api.published") == []

    await publisher.apis.deploy(api_id, OWNER)
    doc = await publisher.apis.change_lifecycle(api_id, "publish", ADMIN)
    assert doc["lifecycle_status"] == "PUBLISHED"
    [published] = publisher.events("aigw.api.published")
    _by(published, ADMIN)
    assert (published.data["name"], published.data["policies"]) == ("Mistral", ["Unlimited"])


async def test_demoting_is_announced_as_an_update_and_only_a_published_api_is_demoted(
    publisher: MemoryPublisher,
):
    api_id = await _deployable(publisher)
    with pytest.raises(Conflict, match="Cannot demote an API in state CREATED"):
        await publisher.apis.change_lifecycle(api_id, "demote", OWNER)
    await publisher.apis.deploy(api_id, OWNER)
    await publisher.apis.change_lifecycle(api_id, "publish", OWNER)
    updates = len(publisher.events("aigw.api.updated"))

    await publisher.apis.change_lifecycle(api_id, "demote", OWNER)
    demoted = publisher.events("aigw.api.updated")[updates:]
    assert [e.data["lifecycle_status"] for e in demoted] == ["CREATED"]
    _by(demoted[0], OWNER)
    with pytest.raises(InvalidInput, match="valid actions: publish, demote"):
        await publisher.apis.change_lifecycle(api_id, "retire", OWNER)


async def test_undeploying_takes_the_revision_down_once(publisher: MemoryPublisher):
    api_id = await _deployable(publisher, coOwners=["bob"])
    await publisher.apis.deploy(api_id, OWNER)
    _, revision = await publisher.apis.undeploy(api_id, CO_OWNER)
    assert revision == 1
    [undeployed] = publisher.events("aigw.api.undeployed")
    _by(undeployed, CO_OWNER)
    assert undeployed.data["revision"] == 1
    with pytest.raises(Conflict, match="is not deployed"):
        await publisher.apis.undeploy(api_id, OWNER)


# --- master-key rotation -------------------------------------------------------------------


async def test_rotation_reseals_every_key_and_redeploys_what_was_deployed(
    publisher: MemoryPublisher,
):
    deployed_id = (await publisher.apis.create(api_body(), OWNER))["_id"]
    await publisher.apis.set_backend_security(
        deployed_id, _keys(production="sk-prod-1234", sandbox="sk-sand-1234"), OWNER
    )
    await publisher.apis.deploy(deployed_id, OWNER)
    idle_id = (await publisher.apis.create(api_body(context="other"), CO_OWNER))["_id"]
    await publisher.apis.set_backend_security(idle_id, _keys(production="sk-idle-1234"), CO_OWNER)

    new_box = SecretBox(generate_master_key(), previous=[publisher.master_key])
    counts = await publisher.api_service(new_box).reencrypt_provider_keys()

    assert (counts.apis_seen, counts.keys_reencrypted, counts.apis_redeployed) == (2, 3, 1)
    for api_id in (deployed_id, idle_id):
        doc = await publisher.apis.get(api_id, ADMIN)
        for entry in doc["backend_security"].values():
            assert new_box.is_current(entry["ciphertext"])
    redeployed = publisher.events("aigw.api.deployed")[-1]
    assert (redeployed.actor, redeployed.data["revision"]) == ("system:rotate-secret-key", 2)
    again = await publisher.api_service(new_box).reencrypt_provider_keys()
    assert (again.keys_reencrypted, again.apis_redeployed) == (0, 0)
