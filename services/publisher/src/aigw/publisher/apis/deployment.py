"""Serving an API: deploying it (a new revision, as the gateway gets it), taking the
deployed revision down, and moving it along its lifecycle (publishing it in the developer
portal's catalogue needs a deployment; see `lifecycle.TRANSITIONS`)."""

from aigw.common.actor import Actor
from aigw.common.errors import Conflict, InvalidInput
from aigw.common.events import ApiUndeployed
from aigw.common.ids import utcnow_ms
from aigw.common.mongo import Update
from aigw.publisher.apis import provider_keys
from aigw.publisher.apis.changes import ApiChanges, Payloads
from aigw.publisher.apis.events import deployed, status_event
from aigw.publisher.apis.lifecycle import TRANSITIONS
from aigw.publisher.apis.repository import DEPLOY_MARKS, DeployMark, StoredApi


class ApiDeployments(ApiChanges):
    async def deploy(self, api_id: str, actor: Actor, mark: str | None = None) -> StoredApi:
        """A new revision, deployed. `mark` (an Idempotency-Key's, aigw.common.idempotency) is
        written on the same write, among the API's `deploy_marks`: see `deployed_with`."""

        async def change(doc: StoredApi) -> tuple[Update, Payloads]:
            vendor = await self._vendor(doc["vendor"]["name"], doc["vendor"]["version"])
            provider_keys.check_keys(doc, vendor)
            revision, now = doc["revision"] + 1, utcnow_ms()
            update: Update = {
                "$inc": {"revision": 1},
                "$set": {"deployed_revision": revision, "deployed_time": now},
            }
            if mark is not None:
                entry: DeployMark = {"mark": mark, "revision": revision, "deployed_time": now}
                marks = {"$each": [entry], "$slice": -DEPLOY_MARKS}
                update["$push"] = {"deploy_marks": marks}
            return update, [deployed(doc, revision, vendor)]

        return await self._change(api_id, change, actor)

    async def deployed_with(self, api_id: str, mark: str, actor: Actor) -> DeployMark | None:
        """The deploy made with `mark`, if the actor made one (the mark is the actor's)."""
        await self.get(api_id, actor)
        return await self._repo.deploy_mark(api_id, mark)

    async def undeploy(self, api_id: str, actor: Actor) -> tuple[StoredApi, int]:
        """Take the deployed revision down; returns the document and that revision."""

        async def change(doc: StoredApi) -> tuple[Update, Payloads]:
            revision = doc.get("deployed_revision")
            if revision is None:
                raise Conflict(f"API '{api_id}' is not deployed")
            update = {"$set": {"deployed_revision": None, "deployed_time": None}}
            return update, [ApiUndeployed(api_id=api_id, revision=revision)]

        doc, [event] = await self._apply(api_id, change, actor)
        assert isinstance(event, ApiUndeployed)
        return doc, event.revision

    async def change_lifecycle(self, api_id: str, action: str, actor: Actor) -> StoredApi:
        transition = TRANSITIONS.get(action)
        if transition is None:
            valid = ", ".join(TRANSITIONS)
            raise InvalidInput(f"Unknown lifecycle action '{action}'; valid actions: {valid}")

        async def change(doc: StoredApi) -> tuple[Update, Payloads]:
            if doc["lifecycle_status"] not in transition.sources:
                raise Conflict(f"Cannot {action} an API in state {doc['lifecycle_status']}")
            if transition.needs_deployment and doc.get("deployed_revision") is None:
                raise Conflict(
                    f"Cannot {action} API '{api_id}': it is not deployed, so calls to it would "
                    f"be answered 'No API is deployed'. Deploy it first: POST /apis/{api_id}/deploy"
                )
            after: StoredApi = {**doc, "lifecycle_status": transition.target}
            update = {"$set": {"lifecycle_status": transition.target, "updated_time": utcnow_ms()}}
            return update, [status_event(after)]

        return await self._change(api_id, change, actor)
