"""Random churn for the routing table: a seeded stream of the events the gateway folds, over
small id spaces so that they collide (an API redeployed at another depth, a key revoked and
issued again, a subscription deleted while another holds its pair, an application deleted with
keys, subscriptions and clients), including the out-of-order and replayed events the fold must
shrug off (an old revision, a jump, a re-issued revoked key)."""

import random
from collections.abc import Callable, Iterator

from aigw.common.crypto import sha256_hex
from aigw.common.events import (
    ApiDeleted,
    ApiDeployed,
    ApiUndeployed,
    ApplicationCreated,
    ApplicationDeleted,
    EventPayload,
    KeyIssued,
    KeyRegenerated,
    KeyRevoked,
    OAuthClientCreated,
    OAuthClientRevoked,
    SubscriptionCreated,
    SubscriptionDeleted,
    SubscriptionUpdated,
)
from aigw.common.vendors import builtin_spec

OPENAI = builtin_spec("OpenAI", "v1")
assert OPENAI is not None
PREFIXES = ("chat", "chat/1.0", "a/b/c", "team/chat/v1/beta", "x/1", "embed/v2", "one/two")


def churn(
    seed: int, count: int, apis: int = 8, apps: int = 6, *, lawful: bool = False
) -> list[EventPayload]:
    """`count` events drawn with `random.Random(seed)`: the same arguments, the same list.

    Unless `lawful`, the deploys include what the publisher never emits but the fold must
    refuse (a revision jumping by more than one) and the undeploys some of revision 0 (as
    events from before undeploys named their revision: "whatever is deployed")."""
    return list(_events(random.Random(seed), count, apis, apps, lawful))


def _events(
    rng: random.Random, count: int, apis: int, apps: int, lawful: bool
) -> Iterator[EventPayload]:
    revisions: dict[str, int] = {}
    steps = (1, 1, 1, 1, 0, -1) if lawful else (1, 1, 1, 1, 0, -1, 2)

    def api() -> str:
        return f"api{rng.randrange(apis)}"

    def app() -> str:
        return f"app{rng.randrange(apps)}"

    def deploy() -> EventPayload:
        api_id = api()
        seen = revisions.get(api_id, 0)
        # mostly the next revision; sometimes a replayed old one or a jump the fold refuses
        revision = max(1, seen + rng.choice(steps))
        if revision <= seen + 1:  # a refused jump is not the API's revision
            revisions[api_id] = max(seen, revision)
        return ApiDeployed(
            api_id=api_id,
            revision=revision,
            name=api_id,
            version="1",
            route_prefix=rng.choice(PREFIXES),
            vendor=OPENAI,
        )

    def key() -> EventPayload:
        key_id = f"k{rng.randrange(apps * 4)}"
        return KeyIssued(
            key_id=key_id,
            key_hash=sha256_hex(f"{key_id}-{rng.randrange(3)}"),
            application_id=app(),
            key_type=rng.choice(("PRODUCTION", "SANDBOX")),
        )

    def subscription(kind: type[SubscriptionCreated] | type[SubscriptionUpdated]) -> EventPayload:
        sub = rng.randrange(apps * 3)
        return kind(
            subscription_id=f"s{sub}",
            application_id=f"app{sub % apps}",
            api_id=f"api{sub % apis}",
            policy=rng.choice(("Unlimited", "Gold")),
        )

    def unsubscribe() -> EventPayload:
        sub = rng.randrange(apps * 3)
        return SubscriptionDeleted(
            subscription_id=f"s{sub}", application_id=f"app{sub % apps}", api_id=f"api{sub % apis}"
        )

    makers: list[tuple[int, Callable[[], EventPayload]]] = [
        (20, deploy),
        (4, lambda: ApiUndeployed(api_id=api(), revision=rng.randrange(int(lawful), 4))),
        (1, lambda: ApiDeleted(api_id=api())),
        (20, key),
        (4, lambda: KeyRevoked(key_id=f"k{rng.randrange(apps * 4)}")),
        (
            4,
            lambda: KeyRegenerated(
                key_id=f"k{rng.randrange(apps * 4)}", key_hash=sha256_hex(str(rng.random()))
            ),
        ),
        (12, lambda: subscription(SubscriptionCreated)),
        (4, lambda: subscription(SubscriptionUpdated)),
        (6, unsubscribe),
        (4, lambda: ApplicationCreated(application_id=app(), name="app", owner="dev")),
        (1, lambda: ApplicationDeleted(application_id=app())),
        (
            4,
            lambda: OAuthClientCreated(
                client_id=f"c{rng.randrange(apps * 2)}",
                application_id=app(),
                key_type=rng.choice(("PRODUCTION", "SANDBOX")),
            ),
        ),
        (2, lambda: OAuthClientRevoked(client_id=f"c{rng.randrange(apps * 2)}")),
    ]
    weights = [weight for weight, _ in makers]
    for _ in range(count):
        (_, make) = rng.choices(makers, weights)[0]
        yield make()
