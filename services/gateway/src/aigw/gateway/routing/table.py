"""The gateway's in-memory routing table, rebuilt from the event stream (no database).

Everything the hot path needs is one dict or set lookup away:

- `routes`: route prefix (e.g. ``"mistralaiapi/0.0.2"``, no leading or trailing slash) → `Route`
- `keys`: SHA-256 hex of an API key → `KeyEntry`
- `subscriptions`: ``(application_id, api_id)`` pairs that may call an API
- `signing_keys`, `oauth_clients`, `revoked_jtis`: what verifying an OAuth2 access token needs

The rest (`api_revisions`, `key_hashes`, tombstones...) is bookkeeping that lets
`routing.builder.apply` be idempotent and ordered by entity revision, and indexes derived from
the maps above (`max_prefix_segments`, what each application holds, how many subscriptions
hold a pair). The indexes are kept up to date by the methods that add and remove routes, keys,
subscriptions and clients, so an event costs O(1) however large the table is (a full recount
on every deploy made replay quadratic in the number of APIs); `recount()` computes them from
scratch, and tests/gateway/unit/test_table_indexes.py checks both agree after random churn.
"""

from dataclasses import MISSING, dataclass, field, fields

import jwt

from aigw.common.events import KeyType
from aigw.common.guardrails import Guardrail
from aigw.common.response_cache import ResponseCache
from aigw.gateway.routing.plans import Plan
from aigw.gateway.routing.targets import TargetPolicy
from aigw.gateway.routing.upstream import Upstream
from aigw.gateway.routing.vendor import VendorProfile, VendorProfiles

# How far past `exp` an access token is still accepted (clocks of keymanager and gateways
# differ a little); revoked jtis are remembered that much longer too.
CLOCK_LEEWAY_SECONDS = 5


@dataclass(frozen=True, slots=True)
class Route:
    api_id: str
    revision: int
    name: str
    version: str
    route_prefix: str
    vendor: VendorProfile
    production: Upstream | None
    sandbox: Upstream | None
    # multi-model routing per key type (None: the key type's endpoint, no routing)
    production_routing: TargetPolicy | None = None
    sandbox_routing: TargetPolicy | None = None
    # backend protection: most requests per second to the provider per key type (None = any)
    throttle_production: int | None = None
    throttle_sandbox: int | None = None
    # the API's own policies, as data: compiled (per revision) by `proxy.route_policies`
    guardrails: tuple[Guardrail, ...] = ()
    cache: ResponseCache | None = None
    # the `api` label of the gateway's metrics, `name:version` (derived once, at build)
    label: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", f"{self.name}:{self.version}")

    @property
    def has_policies(self) -> bool:
        return bool(self.guardrails) or self.cache is not None

    def upstream_for(self, key_type: KeyType) -> Upstream | None:
        return self.production if key_type == "PRODUCTION" else self.sandbox

    def routing_for(self, key_type: KeyType) -> TargetPolicy | None:
        return self.production_routing if key_type == "PRODUCTION" else self.sandbox_routing

    def throttle_for(self, key_type: KeyType) -> int | None:
        return self.throttle_production if key_type == "PRODUCTION" else self.throttle_sandbox


@dataclass(frozen=True, slots=True)
class KeyEntry:
    key_id: str
    application_id: str
    key_type: KeyType
    api_id: str | None = None  # a test key: valid for this API only, without a subscription
    expires_at: float | None = None  # POSIX timestamp


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A public key keymanager signs access tokens with; a retired one has `valid_until`."""

    key: jwt.PyJWK
    valid_until: float | None = None  # POSIX timestamp

    def usable(self, now: float) -> bool:
        return self.valid_until is None or now < self.valid_until


@dataclass(frozen=True, slots=True)
class OAuthClient:
    """An OAuth2 client (consumer key): whose application it is and which endpoint it calls."""

    client_id: str
    application_id: str
    key_type: KeyType


@dataclass(slots=True)
class RoutingTable:
    routes: dict[str, Route] = field(default_factory=dict)
    keys: dict[str, KeyEntry] = field(default_factory=dict)
    subscriptions: set[tuple[str, str]] = field(default_factory=set)
    max_prefix_segments: int = 0
    signing_keys: dict[str, SigningKey] = field(default_factory=dict)  # kid → key
    oauth_clients: dict[str, OAuthClient] = field(default_factory=dict)  # client_id → client
    revoked_jtis: dict[str, float] = field(default_factory=dict)  # jti → its token's expiry
    # business plans: name → plan, and each subscription's plan name
    plans: dict[str, Plan] = field(default_factory=dict)
    subscription_policies: dict[tuple[str, str], str] = field(default_factory=dict)
    application_owners: dict[str, str] = field(default_factory=dict)  # the usage "subscriber"

    # bookkeeping for idempotent, revision-ordered updates
    api_routes: dict[str, Route] = field(default_factory=dict)  # api_id → its deployed route
    # api_id → highest revision deployed, refused or undeployed: a deploy at or below it is
    # ignored, so a re-delivered deploy never brings back an undeployed route
    api_revisions: dict[str, int] = field(default_factory=dict)
    deleted_apis: set[str] = field(default_factory=set)
    key_hashes: dict[str, str] = field(default_factory=dict)  # key_id → hash
    revoked_keys: set[str] = field(default_factory=set)
    subscription_pairs: dict[str, tuple[str, str]] = field(default_factory=dict)
    deleted_subscriptions: set[str] = field(default_factory=set)
    deleted_applications: set[str] = field(default_factory=set)
    revoked_clients: set[str] = field(default_factory=set)
    vendor_profiles: VendorProfiles = field(default_factory=VendorProfiles)  # shared per revision

    # derived indexes (see the module's docstring): only the methods below change them
    segment_counts: dict[int, int] = field(default_factory=dict)  # segments → routes with them
    application_keys: dict[str, set[str]] = field(default_factory=dict)  # app → hashes in `keys`
    application_subscriptions: dict[str, set[str]] = field(default_factory=dict)  # app → sub ids
    application_clients: dict[str, set[str]] = field(default_factory=dict)  # app → client ids
    pair_holders: dict[tuple[str, str], int] = field(default_factory=dict)  # pair → sub ids on it

    def clear(self) -> None:
        """Back to empty, in place (the hot path holds this object): before a full replay
        that replaces what a refused snapshot had put here."""
        for f in fields(self):
            empty = f.default_factory() if f.default_factory is not MISSING else f.default
            setattr(self, f.name, empty)

    # --- routes ---------------------------------------------------------------------------

    def add_route(self, route: Route) -> None:
        """Serve `route` at its prefix (replacing whatever was there)."""
        old = self.routes.get(route.route_prefix)
        if old is not None:
            self.remove_route(old)
        self.routes[route.route_prefix] = route
        segments = route.route_prefix.count("/") + 1
        self.segment_counts[segments] = self.segment_counts.get(segments, 0) + 1
        self.max_prefix_segments = max(self.max_prefix_segments, segments)

    def remove_route(self, route: Route) -> None:
        """Stop serving `route` (nothing happens if another route holds its prefix)."""
        if self.routes.get(route.route_prefix) is not route:
            return
        del self.routes[route.route_prefix]
        segments = route.route_prefix.count("/") + 1
        left = self.segment_counts[segments] - 1
        if left:
            self.segment_counts[segments] = left
        else:
            del self.segment_counts[segments]
            if segments == self.max_prefix_segments:  # a handful of distinct depths at most
                self.max_prefix_segments = max(self.segment_counts, default=0)

    # --- API keys -------------------------------------------------------------------------

    def put_key(self, key_hash: str, entry: KeyEntry) -> None:
        self.pop_key(key_hash)
        self.keys[key_hash] = entry
        self.application_keys.setdefault(entry.application_id, set()).add(key_hash)

    def pop_key(self, key_hash: str) -> KeyEntry | None:
        entry = self.keys.pop(key_hash, None)
        if entry is not None:
            _discard(self.application_keys, entry.application_id, key_hash)
        return entry

    # --- subscriptions --------------------------------------------------------------------

    def put_subscription(self, subscription_id: str, pair: tuple[str, str], policy: str) -> None:
        """`subscription_id` lets `pair` call the API under the plan `policy`."""
        old = self.subscription_pairs.get(subscription_id)
        if old != pair:
            if old is not None:
                self.pop_subscription(subscription_id)
            self.subscription_pairs[subscription_id] = pair
            self.pair_holders[pair] = self.pair_holders.get(pair, 0) + 1
            self.application_subscriptions.setdefault(pair[0], set()).add(subscription_id)
        self.subscriptions.add(pair)
        self.subscription_policies[pair] = policy

    def pop_subscription(self, subscription_id: str) -> None:
        """The subscription is gone; its pair may no longer call once no other one holds it."""
        pair = self.subscription_pairs.pop(subscription_id, None)
        if pair is None:
            return
        _discard(self.application_subscriptions, pair[0], subscription_id)
        left = self.pair_holders[pair] - 1
        if left:
            self.pair_holders[pair] = left
            return
        del self.pair_holders[pair]
        self.subscriptions.discard(pair)
        self.subscription_policies.pop(pair, None)

    # --- OAuth2 clients -------------------------------------------------------------------

    def put_client(self, client: OAuthClient) -> None:
        self.pop_client(client.client_id)
        self.oauth_clients[client.client_id] = client
        self.application_clients.setdefault(client.application_id, set()).add(client.client_id)

    def pop_client(self, client_id: str) -> None:
        client = self.oauth_clients.pop(client_id, None)
        if client is not None:
            _discard(self.application_clients, client.application_id, client_id)

    # --- checks ---------------------------------------------------------------------------

    def indexes(self) -> dict[str, object]:
        """The derived indexes as they are (compare with `recount()`)."""
        return {
            "max_prefix_segments": self.max_prefix_segments,
            "segment_counts": dict(self.segment_counts),
            "application_keys": dict(self.application_keys),
            "application_subscriptions": dict(self.application_subscriptions),
            "application_clients": dict(self.application_clients),
            "pair_holders": dict(self.pair_holders),
        }

    def recount(self) -> dict[str, object]:
        """The derived indexes computed from scratch: what `indexes()` must equal."""
        segments: dict[int, int] = {}
        for prefix in self.routes:
            depth = prefix.count("/") + 1
            segments[depth] = segments.get(depth, 0) + 1
        keys: dict[str, set[str]] = {}
        for key_hash, entry in self.keys.items():
            keys.setdefault(entry.application_id, set()).add(key_hash)
        subscriptions: dict[str, set[str]] = {}
        holders: dict[tuple[str, str], int] = {}
        for sub_id, pair in self.subscription_pairs.items():
            subscriptions.setdefault(pair[0], set()).add(sub_id)
            holders[pair] = holders.get(pair, 0) + 1
        clients: dict[str, set[str]] = {}
        for client in self.oauth_clients.values():
            clients.setdefault(client.application_id, set()).add(client.client_id)
        return {
            "max_prefix_segments": max(segments, default=0),
            "segment_counts": segments,
            "application_keys": keys,
            "application_subscriptions": subscriptions,
            "application_clients": clients,
            "pair_holders": holders,
        }

    def snapshot(self) -> dict[str, object]:
        """A comparable view of what the hot path sees (for tests and diagnostics)."""
        return {
            "routes": dict(self.routes),
            "keys": dict(self.keys),
            "subscriptions": set(self.subscriptions),
            "signing_keys": {kid: key.valid_until for kid, key in self.signing_keys.items()},
            "oauth_clients": dict(self.oauth_clients),
            "revoked_jtis": dict(self.revoked_jtis),
        }


def _discard(index: dict[str, set[str]], owner: str, item: str) -> None:
    held = index.get(owner)
    if held is not None:
        held.discard(item)
        if not held:
            del index[owner]
