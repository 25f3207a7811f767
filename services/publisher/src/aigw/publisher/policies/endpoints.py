"""`/subscription-policies`: business plans. Admins write them; publishers read them to choose
the plans their APIs offer."""

from fastapi import APIRouter, Response, status

from aigw.publisher.access import Admin, Policies, Reader
from aigw.publisher.policies.schemas import PolicyIn, PolicyList, PolicyOut, PolicyUpdate

PREFIX = "/api/publisher/v1/subscription-policies"

router = APIRouter(prefix=PREFIX, tags=["subscription-policies"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_policy(
    body: PolicyIn, who: Admin, policies: Policies, response: Response
) -> PolicyOut:
    doc = await policies.create(body, who)
    response.headers["Location"] = f"{PREFIX}/{doc['name']}"
    return PolicyOut.from_doc(doc)


@router.get("")
async def list_policies(_: Reader, policies: Policies) -> PolicyList:
    return PolicyList.of([PolicyOut.from_doc(doc) for doc in await policies.list_all()])


@router.get("/{name}")
async def get_policy(name: str, _: Reader, policies: Policies) -> PolicyOut:
    return PolicyOut.from_doc(await policies.get(name))


@router.put("/{name}")
async def update_policy(name: str, body: PolicyUpdate, who: Admin, policies: Policies) -> PolicyOut:
    return PolicyOut.from_doc(await policies.update(name, body, who))


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_policy(name: str, who: Admin, policies: Policies) -> None:
    await policies.delete(name, who)
