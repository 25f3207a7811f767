"""The gateway's in-memory routing table, rebuilt from the event stream (no database).

Everything the hot path needs is one dict or set lookup away:

- `routes`: route prefix (e.g. ``"mistralaiapi/0.0.2"``, no leading or trailing slash) → `Route`
- `keys`: SHA-256 hex of an API key → `KeyEntry`
- `subscriptions`: ``(application_id, api_id)`` pairs that may call an API
- `signing_keys`, `oauth_clients`, `revoked_jtis`: what verifying an OAuth2 access token needs

The rest (`api_revisions`, `key_hashes`, tombstones...) is bookkeeping that lets
`routing.builder.apply` be idempotent and ordered by entity revision.
"""

from dataclasses import MISSING, dataclass, field, fields

import jwt

from aigw.common.events import KeyType
from aigw.common.guardrails import Guardrail
from aigw.common.response_cache import ResponseCache
from aigw.gateway.routing.plans import Plan
from aigw.gateway.routing.targets import TargetPolicy
from aigw.gateway.routing.upstream import Upstream
from aigw.gateway.routing.vendor import VendorProfile

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

    def clear(self) -> None:
        """Back to empty, in place (the hot path holds this object): before a full replay
        that replaces what a refused snapshot had put here."""
        for f in fields(self):
            empty = f.default_factory() if f.default_factory is not MISSING else f.default
            setattr(self, f.name, empty)

    def recount_segments(self) -> None:
        self.max_prefix_segments = max((prefix.count("/") + 1 for prefix in self.routes), default=0)

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
