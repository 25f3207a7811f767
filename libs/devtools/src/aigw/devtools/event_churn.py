"""A stream's worth of management events, as the services would emit them over a platform's
life: APIs created, deployed again and again, undeployed and deleted; applications created,
subscribed, unsubscribed and deleted; keys issued, regenerated and revoked; plans changed; and
re-deliveries of older events. Deterministic for a seed. For the table snapshot's equivalence
tests and the replay benchmark (`aigw.devtools.bench_snapshot`).

The mix follows what a platform holds (about ten keys per API, most events keys and
subscriptions), e.g. `churn(20_000)` gives about 1,500 APIs and 8,500 keys issued.
"""

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from aigw.common.crypto import SecretBox, provider_key_context, sha256_hex
from aigw.common.events import (
    ApiCreated,
    ApiDeleted,
    ApiDeployed,
    ApiPublished,
    ApiUndeployed,
    ApplicationCreated,
    ApplicationDeleted,
    DeployedEndpoint,
    EventPayload,
    KeyIssued,
    KeyRegenerated,
    KeyRevoked,
    PolicyUpdated,
    QuotaLimit,
    SubscriptionCreated,
    SubscriptionDeleted,
    VendorRef,
)
from aigw.common.vendors import builtin_spec

_OPENAI = builtin_spec("OpenAI", "v1")
assert _OPENAI is not None


@dataclass
class _World:
    rng: random.Random
    box: SecretBox
    provider: str
    apis: dict[str, int] = field(default_factory=dict)  # api id -> last revision
    apps: list[str] = field(default_factory=list)
    subscriptions: dict[str, tuple[str, str]] = field(default_factory=dict)
    keys: list[tuple[str, str]] = field(default_factory=list)  # (key id, application)
    emitted: list[EventPayload] = field(default_factory=list)
    serial: int = 0

    def next_id(self, kind: str) -> str:
        self.serial += 1
        return f"{kind}{self.serial:07d}"


def api_key(key_id: str) -> str:
    """The plain key `churn` issued as `key_id` (what a caller would send)."""
    return f"secret-{key_id}"


def churn(
    count: int, box: SecretBox, seed: int = 0, provider: str = "http://127.0.0.1:9"
) -> list[EventPayload]:
    """`count` events (about: the last step may add one more)."""
    world = _World(random.Random(seed), box, provider)
    while len(world.emitted) < count:
        world.emitted += list(_step(world))
    return world.emitted[:count]


def _step(w: _World) -> Iterator[EventPayload]:
    roll = w.rng.random()
    if roll < 0.08 or not w.apis:
        yield from _new_api(w)
    elif roll < 0.14:
        yield _deploy(w, w.rng.choice(list(w.apis)))
    elif roll < 0.15:
        yield _undeploy(w, w.rng.choice(list(w.apis)))
    elif roll < 0.155:
        api_id = w.rng.choice(list(w.apis))
        del w.apis[api_id]
        yield ApiDeleted(api_id=api_id)
    elif roll < 0.20 or not w.apps:
        application = w.next_id("app")
        w.apps.append(application)
        yield ApplicationCreated(application_id=application, name=application, owner="dev")
    elif roll < 0.35:
        yield _subscribe(w)
    elif roll < 0.37 and w.subscriptions:
        sub_id = w.rng.choice(list(w.subscriptions))
        application, api = w.subscriptions.pop(sub_id)
        yield SubscriptionDeleted(subscription_id=sub_id, application_id=application, api_id=api)
    elif roll < 0.85:
        key_id, application = w.next_id("key"), w.rng.choice(w.apps)
        w.keys.append((key_id, application))
        key_type = w.rng.choice(("PRODUCTION", "SANDBOX"))
        yield KeyIssued(
            key_id=key_id,
            key_hash=sha256_hex(api_key(key_id)),
            application_id=application,
            key_type=key_type,
        )
    elif roll < 0.88 and w.keys:
        key_id, _ = w.rng.choice(w.keys)
        yield KeyRegenerated(key_id=key_id, key_hash=sha256_hex(f"again-{key_id}-{w.serial}"))
    elif roll < 0.92 and w.keys:
        key_id, _ = w.keys.pop(w.rng.randrange(len(w.keys)))
        yield KeyRevoked(key_id=key_id)
    elif roll < 0.93 and len(w.apps) > 1:
        yield ApplicationDeleted(application_id=w.apps.pop(w.rng.randrange(len(w.apps))))
    elif roll < 0.95:
        name = f"plan{w.rng.randrange(20)}"
        limit = QuotaLimit(unit="minute", requests=w.rng.randrange(1, 1000))
        yield PolicyUpdated(name=name, limits=[limit], deleted=w.rng.random() < 0.1)
    elif w.emitted:  # a re-delivery: an older event again
        yield w.emitted[w.rng.randrange(len(w.emitted))]


def _new_api(w: _World) -> Iterator[EventPayload]:
    api_id = w.next_id("api")
    w.apis[api_id] = 0
    vendor = VendorRef(name="OpenAI", version="v1")
    yield ApiCreated(
        api_id=api_id,
        name=api_id,
        context=api_id,
        version="1.0",
        vendor=vendor,
        lifecycle_status="CREATED",
    )
    yield _deploy(w, api_id)
    yield ApiPublished(
        api_id=api_id,
        name=api_id,
        context=api_id,
        version="1.0",
        route_prefix=f"{api_id}/1.0",
        vendor=vendor,
    )


def _deploy(w: _World, api_id: str) -> ApiDeployed:
    w.apis[api_id] += 1
    url = f"{w.provider}/{api_id}"
    sealed = w.box.encrypt("provider-key", provider_key_context(api_id, "production", url))
    return ApiDeployed(
        api_id=api_id,
        revision=w.apis[api_id],
        name=api_id,
        version="1.0",
        route_prefix=f"{api_id}/1.0",
        vendor=_OPENAI,
        production=DeployedEndpoint(url=url, api_key_ciphertext=sealed),
    )


def _undeploy(w: _World, api_id: str) -> ApiUndeployed:
    w.apis[api_id] += 1
    return ApiUndeployed(api_id=api_id, revision=w.apis[api_id])


def _subscribe(w: _World) -> SubscriptionCreated:
    sub_id = w.next_id("sub")
    application, api = w.rng.choice(w.apps), w.rng.choice(list(w.apis))
    w.subscriptions[sub_id] = (application, api)
    policy = w.rng.choice(("Unlimited", "plan1", "plan2"))
    return SubscriptionCreated(
        subscription_id=sub_id, application_id=application, api_id=api, policy=policy
    )
