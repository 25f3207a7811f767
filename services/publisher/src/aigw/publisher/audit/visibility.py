"""Who sees which events of the trail, as a query on the projection:

- an admin sees every event;
- a publisher the events of AI vendors and business plans (the catalogue every publisher
  reads) and of the APIs it manages: those it owns or co-owns now (the API service's view),
  and those it created, deleted ones included (their history stays their creator's). Another
  publisher's API is invisible, as everywhere in the publisher;
- a subscriber the history of its own applications: their subscriptions, keys and OAuth2
  clients (ownership as the events said it, aigw.publisher.audit.projection).

A caller with several roles sees what each of them sees. A filter narrows this view and never
widens it: asking for someone else's subject or correlation id answers an empty list, the same
as for one that does not exist.
"""

from dataclasses import dataclass

from aigw.common.auth import Principal
from aigw.common.mongo import Document

CATALOGUE_ENTITIES = ("vendor", "policy")
NOTHING: Document = {"_id": {"$in": []}}


@dataclass(frozen=True)
class Viewer:
    """The caller, and the APIs it manages (when it is a publisher)."""

    principal: Principal
    api_ids: tuple[str, ...] = ()

    @property
    def admin(self) -> bool:
        return self.principal.has_any("admin")

    @property
    def publisher(self) -> bool:
        return self.principal.has_any("publisher")

    @property
    def subscriber(self) -> bool:
        return self.principal.has_any("subscriber")


def visible(viewer: Viewer) -> Document:
    """The query of the events `viewer` may see (`{}`: all of them)."""
    if viewer.admin:
        return {}
    scopes: list[Document] = []
    if viewer.publisher:
        scopes.append({"entity": {"$in": list(CATALOGUE_ENTITIES)}})
        mine: list[Document] = [{"api_owner": viewer.principal.subject}]
        if viewer.api_ids:
            mine.append({"subject": {"$in": list(viewer.api_ids)}})
        scopes.append({"entity": "api", "$or": mine})
    if viewer.subscriber:
        scopes.append({"owner": viewer.principal.subject})
    if not scopes:
        return NOTHING
    return scopes[0] if len(scopes) == 1 else {"$or": scopes}
