"""The event contract: one CloudEvents-style envelope (structured mode) and one pydantic model
per event type. Every service publishes and reads events only through these classes.

The envelope's `type` is also the NATS subject (`aigw.<entity>.<action>`) and its `id` the
JetStream message id, so a re-published event is de-duplicated by the server. Payloads carry
an integer `dataversion`; a breaking change bumps `VERSION` and adds `upcast_vN(data)` to the
class (a pure function, see `aigw.common.upcasts`), which readers apply before validation;
tests/common/unit/test_event_schemas.py fails on a payload change without a new version.
Each class names the field its envelope's `subject` comes from in `SUBJECT_FIELD`. Events never
carry a secret in plaintext: provider keys travel as AES-GCM ciphertexts, API keys only as
SHA-256 hashes.
"""

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from aigw.common import upcasts
from aigw.common.guardrails import Guardrails
from aigw.common.model_routing import ApiRouting
from aigw.common.response_cache import CacheOutcome, ResponseCache
from aigw.common.vendors import VendorSpec

KeyType = Literal["PRODUCTION", "SANDBOX"]


class Envelope(BaseModel):
    """CloudEvents 1.0 attributes plus the `actor` and `correlationid` extensions."""

    specversion: Literal["1.0"] = "1.0"
    id: str
    source: str
    type: str
    subject: str
    time: datetime
    actor: str
    correlationid: str
    datacontenttype: Literal["application/json"] = "application/json"
    dataversion: int = 1
    data: dict[str, Any]


class EventPayload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1
    # the field that holds the id of the entity the event is about (the envelope's `subject`)
    SUBJECT_FIELD: ClassVar[str]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        # an event type must name a subject field it has, unless it composes its subject
        custom = cls.subject_id is not EventPayload.subject_id
        if "TYPE" in cls.__dict__ and not custom:
            field = getattr(cls, "SUBJECT_FIELD", None)
            if field not in cls.model_fields:
                raise TypeError(f"{cls.__name__}: SUBJECT_FIELD {field!r} is not one of its fields")

    def subject_id(self) -> str:
        """The id of the entity the event is about (the envelope's `subject`)."""
        return str(getattr(self, self.SUBJECT_FIELD))

    @classmethod
    def from_envelope(cls, envelope: Envelope) -> Self:
        return cls.from_data(envelope.data, envelope.dataversion)

    @classmethod
    def from_data(cls, data: dict[str, Any], version: int) -> Self:
        """The payload from an envelope's `data` at data version `version` (upcast first)."""
        data = dict(data)
        while version < cls.VERSION:
            data = getattr(cls, f"upcast_v{version}")(data)
            version += 1
        return cls.model_validate(data)


def new_event(
    payload: EventPayload, *, source: str, actor: str, correlation_id: str | None = None
) -> Envelope:
    return Envelope(
        id=uuid.uuid4().hex,
        source=source,
        type=payload.TYPE,
        subject=payload.subject_id(),
        time=datetime.now(UTC),
        actor=actor,
        correlationid=correlation_id or uuid.uuid4().hex,
        dataversion=payload.VERSION,
        data=payload.model_dump(mode="json"),
    )


# --- AI APIs (publisher) -------------------------------------------------------------------


class VendorRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    version: str


class DeployedEndpoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    url: str
    api_key_ciphertext: str | None = None


class _ApiEvent(EventPayload):
    SUBJECT_FIELD = "api_id"
    api_id: str


class ApiCreated(_ApiEvent):
    TYPE = "aigw.api.created"
    name: str
    context: str
    version: str
    vendor: VendorRef
    lifecycle_status: str


class ApiUpdated(_ApiEvent):
    TYPE = "aigw.api.updated"
    name: str
    context: str
    version: str
    route_prefix: str = ""
    vendor: VendorRef
    description: str = ""
    lifecycle_status: str
    policies: list[str] = Field(default_factory=lambda: ["Unlimited"], description="plans offered")


class ApiDeleted(_ApiEvent):
    TYPE = "aigw.api.deleted"


class BackendThrottle(BaseModel):
    """Backend protection: the most requests per second the gateway sends to the provider,
    per key type, across all applications (None = unlimited)."""

    model_config = ConfigDict(frozen=True)

    production: int | None = None
    sandbox: int | None = None


class ApiDeployed(_ApiEvent):
    """A revision snapshot: everything the gateway needs to route the API.

    Version 2 carries the whole vendor definition (auth, default headers, metering), the
    API's additional endpoints and its routing policy; version 1 carried the vendor's auth
    header only."""

    TYPE = "aigw.api.deployed"
    VERSION = 2
    revision: int
    name: str
    version: str
    route_prefix: str = Field(description="resolved path prefix, e.g. 'mistralaiapi/0.0.2'")
    vendor: VendorSpec
    production: DeployedEndpoint | None = None
    sandbox: DeployedEndpoint | None = None
    endpoints: dict[str, DeployedEndpoint] = Field(
        default_factory=dict, description="additional endpoints, by name (routing targets)"
    )
    routing: ApiRouting = ApiRouting()
    backend_throttle: BackendThrottle = BackendThrottle()
    guardrails: Guardrails = Field(
        default_factory=list, description="guardrails and prompt transformations, in order"
    )
    cache: ResponseCache | None = Field(None, description="the response cache (null: none)")

    @staticmethod
    def upcast_v1(data: dict[str, Any]) -> dict[str, Any]:
        return upcasts.api_deployed_v1(data)


class ApiUndeployed(_ApiEvent):
    TYPE = "aigw.api.undeployed"
    revision: int = Field(0, description="the revision taken down; older deploys stay down")


class ApiPublished(_ApiEvent):
    """The API enters the developer portal's catalogue."""

    TYPE = "aigw.api.published"
    name: str
    context: str
    version: str
    route_prefix: str
    vendor: VendorRef
    description: str = ""
    lifecycle_status: Literal["PUBLISHED"] = "PUBLISHED"
    policies: list[str] = Field(default_factory=lambda: ["Unlimited"], description="plans offered")


class VendorChanged(EventPayload):
    """A custom AI vendor was created, updated or deleted (built-in vendors never change).
    APIs on it pick a change up at their next deploy."""

    TYPE = "aigw.vendor.changed"
    vendor: VendorSpec
    action: Literal["created", "updated", "deleted"]
    api_definition: dict[str, Any] | None = Field(
        None,
        description="the vendor's OpenAPI document, for the Developer Portal's Try Out "
        "(None in events emitted before it travelled)",
    )

    def subject_id(self) -> str:  # composed: a vendor is named by its name and version
        return f"{self.vendor.name}/{self.vendor.version}"


# --- applications and subscriptions (devportal) --------------------------------------------


class ApplicationCreated(EventPayload):
    TYPE = "aigw.application.created"
    SUBJECT_FIELD = "application_id"
    application_id: str
    name: str
    owner: str


class ApplicationDeleted(EventPayload):
    TYPE = "aigw.application.deleted"
    SUBJECT_FIELD = "application_id"
    application_id: str


class SubscriptionCreated(EventPayload):
    TYPE = "aigw.subscription.created"
    SUBJECT_FIELD = "subscription_id"
    subscription_id: str
    application_id: str
    api_id: str
    policy: str


class SubscriptionUpdated(EventPayload):
    """The subscription moved to another plan (business policy)."""

    TYPE = "aigw.subscription.updated"
    SUBJECT_FIELD = "subscription_id"
    subscription_id: str
    application_id: str
    api_id: str
    policy: str


class SubscriptionDeleted(EventPayload):
    TYPE = "aigw.subscription.deleted"
    SUBJECT_FIELD = "subscription_id"
    subscription_id: str
    application_id: str
    api_id: str


# --- credentials (keymanager) --------------------------------------------------------------


class KeyIssued(EventPayload):
    """An API key was issued. Only its SHA-256 hash leaves keymanager."""

    TYPE = "aigw.key.issued"
    SUBJECT_FIELD = "key_id"
    key_id: str
    key_hash: str
    application_id: str
    key_type: KeyType
    api_id: str | None = Field(None, description="set for test keys: valid for this API only")
    expires_at: datetime | None = None


class KeyRevoked(EventPayload):
    TYPE = "aigw.key.revoked"
    SUBJECT_FIELD = "key_id"
    key_id: str


class KeyRegenerated(EventPayload):
    """An API key was replaced: the old hash stops working, the new one starts at once."""

    TYPE = "aigw.key.regenerated"
    SUBJECT_FIELD = "key_id"
    key_id: str
    key_hash: str
    expires_at: datetime | None = None


# --- identity, signing keys and OAuth2 clients (keymanager) --------------------------------


class UserCreated(EventPayload):
    """Audit trail of accounts; never carries the password or its hash."""

    TYPE = "aigw.user.created"
    SUBJECT_FIELD = "username"
    username: str
    roles: list[str]


UserChange = Literal["roles", "disabled", "password"]


class UserUpdated(EventPayload):
    """An account changed (`changes` says what) by `actor`. Its state after the change, never
    the password or its hash. Management tokens carry the account's `token_version` (claim
    `ver`): one minted for an older version, or for a disabled account, no longer stands."""

    TYPE = "aigw.user.updated"
    SUBJECT_FIELD = "username"
    username: str
    roles: list[str]
    disabled: bool = False
    token_version: int = 0
    changes: list[UserChange] = Field(default_factory=list)


class UserDeleted(EventPayload):
    """An account was deleted: its tokens no longer stand and its name is never given out
    again (applications and APIs name their owner by username)."""

    TYPE = "aigw.user.deleted"
    SUBJECT_FIELD = "username"
    username: str


class SigningKeyRotated(EventPayload):
    """A new token signing key is in use (also emitted for the very first key). Verifiers keep
    the previous keys until `previous_valid_until`, so tokens they signed live out their life."""

    TYPE = "aigw.signingkey.rotated"
    SUBJECT_FIELD = "kid"
    kid: str
    jwk: dict[str, str] = Field(description="the public key as a JWK (OKP / Ed25519)")
    previous_kid: str | None = None
    previous_valid_until: datetime | None = None


class OAuthClientCreated(EventPayload):
    """OAuth2 client credentials (consumer key and secret) for one application and key type.
    The secret never leaves keymanager; gateways learn which client belongs to whom."""

    TYPE = "aigw.oauthclient.created"
    SUBJECT_FIELD = "client_id"
    client_id: str
    application_id: str
    key_type: KeyType


class OAuthClientRevoked(EventPayload):
    """The consumer secret was revoked: tokens already issued to the client stop working."""

    TYPE = "aigw.oauthclient.revoked"
    SUBJECT_FIELD = "client_id"
    client_id: str


class TokenRevoked(EventPayload):
    """One access token (`jti`) was revoked before its expiry."""

    TYPE = "aigw.token.revoked"
    SUBJECT_FIELD = "jti"
    jti: str
    client_id: str
    expires_at: datetime


# --- business plans and usage -------------------------------------------------------------

QuotaUnit = Literal["minute", "hour", "day"]


class QuotaLimit(BaseModel):
    """One window of a plan: any combination of the four counters (None = not limited)."""

    model_config = ConfigDict(frozen=True)

    unit: QuotaUnit
    requests: int | None = None
    total_tokens: int | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class PolicyUpdated(EventPayload):
    """A subscription policy (business plan) was created or changed; `deleted` retires it."""

    TYPE = "aigw.policy.updated"
    SUBJECT_FIELD = "name"
    name: str
    description: str = ""
    limits: list[QuotaLimit] = Field(default_factory=list)
    default_completion_tokens: int = Field(
        256, description="completion tokens reserved at admission when a call sets no max_tokens"
    )
    deleted: bool = False


class UsageRecord(BaseModel):
    """What one AI API call used, as the provider counted it.

    `record_id` is the gateway's own id of the record (the store's key: a redelivered batch is
    not counted twice); `request_id` is the call's `x-request-id`, the one its caller got
    back (the caller's own when it sent a valid one, so two records may share it)."""

    model_config = ConfigDict(frozen=True)

    record_id: str
    request_id: str | None = Field(
        None, description="the x-request-id the caller got (null: recorded before request ids)"
    )
    time: datetime
    api_id: str
    application_id: str
    subscriber: str = ""
    key_type: KeyType
    requested_model: str | None = None
    served_model: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    status: int
    stream: bool = False
    gateway_latency_ms: float = 0.0
    provider_latency_ms: float = 0.0
    time_to_first_token_ms: float | None = None
    target: str | None = Field(None, description="the endpoint that answered, when routed")
    remaining_tokens: int | None = Field(None, description="the provider's remaining tokens")
    estimated: bool = Field(False, description="counts estimated: the provider reported none")
    guardrail: str | None = Field(None, description="the guardrail that intervened, if one did")
    guardrail_direction: Literal["REQUEST", "RESPONSE"] | None = None
    cache: CacheOutcome | None = Field(
        None, description="the response cache's outcome (null: the API has no cache)"
    )
    cached: bool = Field(False, description="answered from the response cache")
    tokens_saved: int = Field(0, description="a cache hit: the tokens the cached answer cost")


class UsageRecorded(EventPayload):
    """A batch of usage records from one gateway process (batched so it never slows a call).

    Version 2 names each record's own id `record_id` and adds the call's `request_id`;
    version 1 called the record's id `request_id`."""

    TYPE = "aigw.usage.recorded"
    VERSION = 2
    SUBJECT_FIELD = "batch_id"
    batch_id: str
    gateway: str
    records: list[UsageRecord]

    @staticmethod
    def upcast_v1(data: dict[str, Any]) -> dict[str, Any]:
        return upcasts.usage_recorded_v1(data)


EVENT_TYPES: dict[str, type[EventPayload]] = {
    cls.TYPE: cls
    for cls in (
        ApiCreated,
        ApiUpdated,
        ApiDeleted,
        ApiDeployed,
        ApiUndeployed,
        ApiPublished,
        VendorChanged,
        ApplicationCreated,
        ApplicationDeleted,
        SubscriptionCreated,
        SubscriptionUpdated,
        SubscriptionDeleted,
        KeyIssued,
        KeyRevoked,
        KeyRegenerated,
        UserCreated,
        UserUpdated,
        UserDeleted,
        SigningKeyRotated,
        OAuthClientCreated,
        OAuthClientRevoked,
        TokenRevoked,
        PolicyUpdated,
        UsageRecorded,
    )
}


def parse_payload(envelope: Envelope) -> EventPayload | None:
    """The typed payload of an envelope, or None for a type this build does not know."""
    cls = EVENT_TYPES.get(envelope.type)
    return cls.from_envelope(envelope) if cls else None
