"""`/subscription-policies`: business plans. Admins write them; publishers read them to choose
the plans their APIs offer."""

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status

from aigw.common.auth import Principal, require_roles
from aigw.common.requests import CorrelationId
from aigw.publisher.apis.service import Caller
from aigw.publisher.policies.schemas import PolicyChange, PolicyIn, PolicyList, PolicyOut
from aigw.publisher.policies.service import PolicyService

PREFIX = "/api/publisher/v1/subscription-policies"

router = APIRouter(prefix=PREFIX, tags=["subscription-policies"])
_require_admin = require_roles("admin")
_require_reader = require_roles("admin", "publisher")


def _admin(
    principal: Annotated[Principal, Depends(_require_admin)], correlation_id: CorrelationId
) -> Caller:
    return Caller(subject=principal.subject, correlation_id=correlation_id)


def _service(request: Request) -> PolicyService:
    service: PolicyService = request.app.state.policies
    return service


Admin = Annotated[Caller, Depends(_admin)]
Reader = Annotated[Principal, Depends(_require_reader)]
Policies = Annotated[PolicyService, Depends(_service)]


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
async def update_policy(name: str, body: PolicyChange, who: Admin, policies: Policies) -> PolicyOut:
    return PolicyOut.from_doc(await policies.update(name, body, who))


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_policy(name: str, who: Admin, policies: Policies) -> None:
    await policies.delete(name, who)
