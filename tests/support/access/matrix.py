"""The callers of the access matrix, what each should get from a route under its rule, and
making the call."""

from dataclasses import dataclass
from enum import Enum

import httpx

from tests.support.access.calls import prepare
from tests.support.access.resources import Resources
from tests.support.access.rule import ADMIN, PUBLISHER, SUBSCRIBER, Owned, RouteKey, Rule
from tests.support.access.world import Account, World

ANONYMOUS = "anonymous"
UNSIGNED = "subscriber-without-devportal-signature"
OTHER_SUBSCRIBER = "other-subscriber"
OTHER_PUBLISHER = "other-publisher"
OTHER_ADMIN = "admin-on-a-subscribers-resource"
ROLE_CALLERS = (ADMIN, PUBLISHER, SUBSCRIBER)
# who each caller is (account name in World.accounts); anonymous is nobody
IDENTITY = {
    ADMIN: "admin",
    PUBLISHER: "publisher",
    SUBSCRIBER: "alice",
    UNSIGNED: "alice",
    OTHER_SUBSCRIBER: "bob",
    OTHER_PUBLISHER: "paula",
    OTHER_ADMIN: "admin",
}
# whose resources a caller gets when not its own: someone able to create them
DEFAULT_OWNER = {"publisher": "publisher", "devportal": "alice", "keymanager": "alice"}


class Outcome(Enum):
    ALLOWED = "2xx"
    UNAUTHORIZED = "401"
    FORBIDDEN = "403"
    NOT_FOUND = "404"
    HIDDEN = "2xx, without the owner's item"
    LISTED = "2xx, with the owner's item"


def callers(rule: Rule | None) -> list[str]:
    names = [ANONYMOUS, *ROLE_CALLERS]
    if rule is not None and rule.signed:
        names.append(UNSIGNED)
    if rule is not None and rule.owned is not None:
        names += [OTHER_PUBLISHER if rule.rival == PUBLISHER else OTHER_SUBSCRIBER, OTHER_ADMIN]
    return names


def expected(rule: Rule, caller: str) -> Outcome:
    if caller in (OTHER_SUBSCRIBER, OTHER_PUBLISHER, OTHER_ADMIN):
        return _on_someone_elses(rule, caller)
    if caller == UNSIGNED:
        return Outcome.FORBIDDEN
    if caller == ANONYMOUS:
        return Outcome.ALLOWED if rule.public else Outcome.UNAUTHORIZED
    if rule.client_auth:
        return Outcome.UNAUTHORIZED  # a management token is no client credential
    return Outcome.ALLOWED if rule.public or caller in rule.roles else Outcome.FORBIDDEN


def _on_someone_elses(rule: Rule, caller: str) -> Outcome:
    if caller == OTHER_ADMIN and rule.admin_sees_all:
        return Outcome.LISTED if rule.owned is Owned.LIST else Outcome.ALLOWED
    return Outcome.HIDDEN if rule.owned is Owned.LIST else Outcome.NOT_FOUND


@dataclass
class Answer:
    response: httpx.Response
    marker: str | None


def _owner(world: World, key: RouteKey, rule: Rule, caller: str) -> Account:
    """Callers with access act on their own resources; everyone else meets the default
    owner's (a subscriber's, or for the publisher API a publisher's)."""
    if caller in ROLE_CALLERS and (rule.public or caller in rule.roles):
        return world.accounts[IDENTITY[caller]]
    return world.accounts[DEFAULT_OWNER[key[0]]]


async def call(world: World, key: RouteKey, rule: Rule, caller: str) -> Answer:
    path, extra = await prepare(key, Resources(world, _owner(world, key, rule, caller)))
    identity = IDENTITY.get(caller)
    headers = world.accounts[identity].auth if identity else {}
    if identity and extra.headers is not None:
        headers = extra.headers
    auth: httpx.Auth | None = None
    if rule.signed and caller != UNSIGNED:
        auth = world.signer
    elif extra.client is not None and not headers:
        auth = httpx.BasicAuth(*extra.client)
    response = await world.http[key[0]].request(
        key[1], path, json=extra.json, data=extra.data, headers=headers, auth=auth
    )
    return Answer(response, extra.marker)


def check(outcome: Outcome, answer: Answer) -> None:
    status, text = answer.response.status_code, answer.response.text
    detail = f"expected {outcome.value}, got {status}: {text[:300]}"
    if outcome in (Outcome.ALLOWED, Outcome.HIDDEN, Outcome.LISTED):
        assert 200 <= status < 300, detail
    else:
        assert status == int(outcome.value), detail
    if outcome is not Outcome.ALLOWED and answer.marker is not None and status < 300:
        assert (answer.marker in text) == (outcome is Outcome.LISTED), detail
