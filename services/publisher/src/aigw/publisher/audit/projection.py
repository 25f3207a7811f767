"""What each event writes into the audit projection: a function of the event and of what
earlier events said about ownership, so folding the stream again gives the same documents.

Ownership comes from the events themselves, never from another service's store: an API's
owner is who created it (its `aigw.api.created`'s actor; co-owners are the API service's
business, see aigw.publisher.audit.visibility); an
application's owner from its `aigw.application.created`; subscriptions, keys and OAuth2
clients belong to the application their own events name; a key's later events
(`revoked`, `regenerated`) and an OAuth2 client's (`revoked`, its tokens' `aigw.token.revoked`)
name only the key or client, so the fold remembers which application it was issued to.
"""

from dataclasses import dataclass, field
from typing import Any

from aigw.common.events import Envelope
from aigw.publisher.audit.repository import AuditDoc, LinkDoc

# the entities whose events carry the id of the application they belong to
_APPLICATION_FIELD = {"application", "subscription", "key", "oauthclient"}


def entity_of(event_type: str) -> str:
    """`aigw.api.deployed` -> `api`: the entity an event is about (its subject's kind)."""
    parts = event_type.split(".")
    return parts[1] if len(parts) > 2 else event_type


@dataclass
class Links:
    """Who owns what, as far as the events folded so far tell: `api:<id>` -> its creator,
    `application:<id>` -> its owner, `key:<id>` and `oauthclient:<id>` -> their application id."""

    known: dict[str, str] = field(default_factory=dict)

    def get(self, key: str) -> str | None:
        return self.known.get(key)


@dataclass(frozen=True)
class Folded:
    doc: AuditDoc
    links: list[LinkDoc]


def fold(seq: int, envelope: Envelope, raw: str, links: Links) -> Folded:
    """The projection's document for the event at stream sequence `seq` (`raw` is its body
    exactly as published), and the ownership links it adds."""
    entity = entity_of(envelope.type)
    application_id, new_links = _application(entity, envelope, links)
    doc = AuditDoc(
        _id=envelope.id,
        seq=seq,
        time=envelope.time,
        type=envelope.type,
        entity=entity,
        subject=envelope.subject,
        actor=envelope.actor,
        correlationid=envelope.correlationid,
        raw=raw,
    )
    if entity == "api":
        creator = _api_creator(envelope, links)
        if creator is not None:
            doc["api_owner"] = creator
            if envelope.type == "aigw.api.created":
                new_links.append(LinkDoc(_id=f"api:{envelope.subject}", value=creator))
    if application_id is not None:
        doc["application_id"] = application_id
        owner = _owner(envelope, application_id, links)
        if owner is not None:
            doc["owner"] = owner
    return Folded(doc, new_links)


def _application(entity: str, envelope: Envelope, links: Links) -> tuple[str | None, list[LinkDoc]]:
    """The application the event belongs to (None: no application's), and the links it adds."""
    data: dict[str, Any] = envelope.data
    if entity == "token":  # an access token of an OAuth2 client
        return links.get(f"oauthclient:{data.get('client_id')}"), []
    if entity not in _APPLICATION_FIELD:
        return None, []
    if entity == "application":
        app_id: str | None = envelope.subject
    else:
        app_id = _str(data.get("application_id")) or links.get(f"{entity}:{envelope.subject}")
    if app_id is None:
        return None, []
    new: list[LinkDoc] = []
    if envelope.type == "aigw.application.created" and _str(data.get("owner")):
        new.append(LinkDoc(_id=f"application:{app_id}", value=str(data["owner"])))
    elif entity in ("key", "oauthclient") and _str(data.get("application_id")):
        new.append(LinkDoc(_id=f"{entity}:{envelope.subject}", value=app_id))
    return app_id, new


def _api_creator(envelope: Envelope, links: Links) -> str | None:
    if envelope.type == "aigw.api.created":
        return _str(envelope.actor)
    return links.get(f"api:{envelope.subject}")


# devportal issues a user's test keys for the application id `testkey:<username>`
TEST_KEY_APPLICATION = "testkey:"


def _owner(envelope: Envelope, application_id: str, links: Links) -> str | None:
    if envelope.type == "aigw.application.created":
        return _str(envelope.data.get("owner"))
    if application_id.startswith(TEST_KEY_APPLICATION):
        return application_id.removeprefix(TEST_KEY_APPLICATION) or None
    return links.get(f"application:{application_id}")


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
