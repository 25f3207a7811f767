"""Who may touch an API: its owner, its co-owners and the admins manage it; only its owner or
an admin may change who its co-owners are."""

from aigw.common.actor import Actor
from aigw.common.errors import Forbidden
from aigw.common.mongo import Update
from aigw.publisher.apis.repository import StoredApi


def may_manage(actor: Actor, api: StoredApi) -> bool:
    """Who may see and change an API: an admin, its owner and its co-owners. APIs created
    before owners existed have none: they are the admins' alone."""
    return actor.admin or actor.subject in (api.get("owner"), *api.get("co_owners", ()))


def may_share(actor: Actor, api: StoredApi) -> bool:
    """Who may change an API's co-owners: its owner or an admin."""
    return actor.admin or actor.subject == api.get("owner")


def co_owners_set(actor: Actor, api: StoredApi, co_owners: list[str] | None) -> Update:
    """What a change of the API's definition sets of its co-owners: nothing when it leaves
    them out or as they are; a change only the owner or an admin may make."""
    if co_owners is None or co_owners == api.get("co_owners", []):
        return {}
    if not may_share(actor, api):
        raise Forbidden(f"Only the owner of API '{api['_id']}' or an admin may change its coOwners")
    return {"co_owners": co_owners}
