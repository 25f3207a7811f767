"""`/subscription-policies`: business plans. Admins write them; publishers read them to choose
the plans their APIs offer."""

from fastapi import APIRouter, Request, Response, status

from aigw.publisher.deps import AdminActor, Policies, Reader
from aigw.publisher.policies.schemas import PolicyIn, PolicyList, PolicyOut, PolicyUpdate

router = APIRouter(prefix="/subscription-policies", tags=["subscription-policies"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_policy(
    body: PolicyIn, actor: AdminActor, policies: Policies, request: Request, response: Response
) -> PolicyOut:
    doc = await policies.create(body, actor)
    response.headers["Location"] = request.app.url_path_for("get_policy", name=doc["name"])
    return PolicyOut.from_doc(doc)


@router.get("")
async def list_policies(_: Reader, policies: Policies) -> PolicyList:
    return PolicyList.of([PolicyOut.from_doc(doc) for doc in await policies.list_all()])


@router.get("/{name}")
async def get_policy(name: str, _: Reader, policies: Policies) -> PolicyOut:
    return PolicyOut.from_doc(await policies.get(name))


@router.put("/{name}")
async def update_policy(
    name: str, body: PolicyUpdate, actor: AdminActor, policies: Policies
) -> PolicyOut:
    return PolicyOut.from_doc(await policies.update(name, body, actor))


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_policy(name: str, actor: AdminActor, policies: Policies) -> None:
    await policies.delete(name, actor)
