"""`Idempotency-Key` on deploy: a client's retry after a lost answer gets the first answer
again and makes no second revision; the key reused for another request is a 409; two requests
with one key at once make one revision; and a deploy whose answer never reached the key's
record (the process died between them) is found by its mark on the API."""

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from aigw.common.idempotency import COLLECTION, HEADER, LEASE, REPLAYED
from tests.support.events import stream_events
from tests.support.publisher import API_PREFIX, Publisher
from tests.support.tokens import TestSigner

pytestmark = pytest.mark.integration

APIS = f"{API_PREFIX}/apis"


async def _deployable(publisher: Publisher) -> str:
    api = await publisher.create(context=f"c{uuid.uuid4().hex[:12]}")
    await publisher.keyless(api["id"])
    api_id: str = api["id"]
    return api_id


async def _deploy(publisher: Publisher, api_id: str, key: str | None) -> httpx.Response:
    headers = {HEADER: key} if key is not None else {}
    return await publisher.client.post(f"{APIS}/{api_id}/deploy", headers=headers)


async def _deployed_events(publisher: Publisher, api_id: str) -> list[dict[str, Any]]:
    events = await stream_events(publisher.settings.nats_url, "aigw.api.deployed")
    return [e.data for e in events if e.subject == api_id]


async def _revision(publisher: Publisher, api_id: str) -> int:
    doc = await publisher.app.state.runtime.db["apis"].find_one({"_id": api_id})
    revision: int = doc["revision"]
    return revision


async def test_a_retry_with_the_same_key_answers_the_first_deploy_and_makes_nothing(
    publisher: Publisher,
):
    api_id = await _deployable(publisher)
    key = str(uuid.uuid4())
    first = await _deploy(publisher, api_id, key)
    assert first.status_code == 201, first.text
    assert REPLAYED not in first.headers

    retry = await _deploy(publisher, api_id, key)
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers[REPLAYED] == "true"
    assert await _revision(publisher, api_id) == 1
    assert [e["revision"] for e in await _deployed_events(publisher, api_id)] == [1]

    # a new key is a new deploy
    again = await _deploy(publisher, api_id, str(uuid.uuid4()))
    assert again.json()["revision"] == 2


async def test_the_key_reused_for_another_request_is_a_conflict(publisher: Publisher):
    first_api, other_api = await _deployable(publisher), await _deployable(publisher)
    key = str(uuid.uuid4())
    assert (await _deploy(publisher, first_api, key)).status_code == 201

    reused = await _deploy(publisher, other_api, key)
    assert reused.status_code == 409
    assert key in reused.json()["description"]
    assert reused.json()["fields"] == {HEADER: "used for another request"}
    assert await _revision(publisher, other_api) == 0

    body = await publisher.client.post(
        f"{APIS}/{first_api}/deploy", headers={HEADER: key}, json={"note": "another body"}
    )
    assert body.status_code == 409


async def test_keys_are_per_caller(publisher: Publisher, signer: TestSigner):
    """Another caller's same key is their own: it deploys (an admin may deploy any API)."""
    api_id = await _deployable(publisher)
    key = str(uuid.uuid4())
    assert (await _deploy(publisher, api_id, key)).json()["revision"] == 1
    other = {**signer.auth("another-admin"), HEADER: key}
    second = await publisher.client.post(f"{APIS}/{api_id}/deploy", headers=other)
    assert second.status_code == 201
    assert second.json()["revision"] == 2
    assert REPLAYED not in second.headers
    records = await publisher.app.state.runtime.db[COLLECTION].find().to_list()
    assert key not in str(records)  # kept only hashed with its caller


async def test_two_requests_with_one_key_at_once_make_one_revision(publisher: Publisher):
    api_id = await _deployable(publisher)
    key = str(uuid.uuid4())
    answers = await asyncio.gather(*(_deploy(publisher, api_id, key) for _ in range(4)))
    assert {a.status_code for a in answers} == {201}
    assert {a.json()["revision"] for a in answers} == {1}
    assert sorted(a.headers.get(REPLAYED, "") for a in answers) == ["", "true", "true", "true"]
    assert await _revision(publisher, api_id) == 1
    assert len(await _deployed_events(publisher, api_id)) == 1


async def test_a_deploy_whose_answer_was_lost_is_found_by_its_mark(publisher: Publisher):
    """The process died between the deploy's write and the key's answer: the record is left
    pending past its lease; the retry finds the deploy by its mark and answers it."""
    api_id = await _deployable(publisher)
    key = str(uuid.uuid4())
    first = await _deploy(publisher, api_id, key)
    records = publisher.app.state.runtime.db[COLLECTION]
    [record] = await records.find({"state": "done", "body.apiId": api_id}).to_list()
    await records.update_one(
        {"_id": record["_id"]},
        {"$set": {"state": "pending"}, "$unset": {"status": "", "body": ""}},
    )

    retry = await _deploy(publisher, api_id, key)
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers[REPLAYED] == "true"
    assert await _revision(publisher, api_id) == 1


async def test_a_refused_request_frees_its_key(publisher: Publisher):
    api_id = await _deployable(publisher)
    key = str(uuid.uuid4())
    refused = await publisher.client.post(f"{APIS}/{api_id}x/deploy", headers={HEADER: key})
    assert refused.status_code == 404
    # the same key, now for a request that succeeds (a new request, not the 404's)
    assert (await _deploy(publisher, api_id, key)).status_code == 201


async def test_a_claim_left_by_a_deploy_that_never_wrote_is_taken_over(publisher: Publisher):
    """The process died after claiming the key, before the deploy's write (no mark on the
    API): past the claim's lease, the retry deploys."""
    api_id = await _deployable(publisher)
    key = str(uuid.uuid4())
    assert (await _deploy(publisher, api_id, key)).json()["revision"] == 1
    db = publisher.app.state.runtime.db
    records = db[COLLECTION]
    [record] = await records.find({"state": "done", "body.apiId": api_id}).to_list()
    lapsed = record["lease_until"] - 2 * LEASE
    await records.update_one(
        {"_id": record["_id"]},
        {"$set": {"state": "pending", "lease_until": lapsed}, "$unset": {"body": ""}},
    )
    await db["apis"].update_one({"_id": api_id}, {"$set": {"deploy_marks": []}})

    retry = await _deploy(publisher, api_id, key)
    assert retry.status_code == 201
    assert REPLAYED not in retry.headers
    assert retry.json()["revision"] == 2
    assert (await _deploy(publisher, api_id, key)).json() == retry.json()


@pytest.mark.parametrize("key", ["", "x" * 129, "has space", "semi;colon", "a,b"])
async def test_a_malformed_key_is_refused(publisher: Publisher, key: str):
    api_id = await _deployable(publisher)
    response = await _deploy(publisher, api_id, key)
    assert response.status_code == 422, response.text
    assert "idempotency-key" in response.text.lower()
    assert await _revision(publisher, api_id) == 0


async def test_the_openapi_document_names_the_header(publisher: Publisher):
    spec = (await publisher.client.get("/openapi.json")).json()
    deploy = spec["paths"][f"{APIS}/{{api_id}}/deploy"]["post"]
    [header] = [p for p in deploy["parameters"] if p["name"] == HEADER]
    assert header["in"] == "header"
    assert "409" in header["description"]
    assert "503" in deploy["responses"]
