"""Setting an API's provider keys (`PUT /apis/{id}/backend-security`): each sealed for its
endpoint's origin, or a deliberate null for an endpoint called without one."""

from aigw.common.actor import Actor
from aigw.common.errors import InvalidInput
from aigw.common.events import ApiUpdated
from aigw.common.ids import utcnow_ms
from aigw.common.mongo import Update
from aigw.publisher.apis import provider_keys
from aigw.publisher.apis.changes import ApiChanges, Payloads
from aigw.publisher.apis.events import described
from aigw.publisher.apis.repository import StoredApi
from aigw.publisher.apis.schemas import BackendSecurityIn, endpoint_names


class BackendSecurity(ApiChanges):
    async def set_backend_security(
        self, api_id: str, body: BackendSecurityIn, actor: Actor
    ) -> StoredApi:
        async def change(doc: StoredApi) -> tuple[Update, Payloads]:
            known = endpoint_names(doc)
            unknown = [name for name in body.root if name not in known]
            if unknown:
                raise InvalidInput(
                    f"API '{api_id}' has no endpoint named '{unknown[0]}'; "
                    f"its endpoints: {', '.join(known)}"
                )
            # Sealed for the endpoint's URL in the document read: the write is conditional
            # on it, so a concurrent move of the endpoint makes this attempt start over.
            # null is stored, not dropped: deploy tells a deliberately keyless endpoint from
            # one whose key was never set. It is bound to the endpoint's origin, as a key is.
            update: Update = {
                "$set": {
                    f"backend_security.{name}": provider_keys.sealed(
                        doc, name, key.api_key, self._box
                    )
                    if key is not None
                    else provider_keys.keyless_entry(doc, name)
                    for name, key in body.root.items()
                }
                | {"updated_time": utcnow_ms()}
            }
            # The update event records who changed the keys; it carries no key material.
            return update, [described(ApiUpdated, doc)]

        return await self._change(api_id, change, actor)
