"""The events an API document makes, each built in one place from the document as written
(or as it will be written), so what the stream says of an API is what the store holds."""

from aigw.common.events import (
    ApiCreated,
    ApiDeployed,
    ApiPublished,
    ApiUpdated,
    BackendThrottle,
    DeployedEndpoint,
)
from aigw.common.vendors import VendorSpec
from aigw.publisher.apis.lifecycle import PUBLISHED
from aigw.publisher.apis.repository import ApiDoc
from aigw.publisher.apis.schemas import (
    additional_endpoints,
    guardrails,
    offered_policies,
    response_cache,
    routing,
    sealed_key,
)


def described[E: (ApiCreated, ApiUpdated, ApiPublished)](kind: type[E], api: ApiDoc) -> E:
    """The API as the catalogue describes it, as event `kind` carries it: each of the three
    takes the fields it declares (creation: identity, vendor and status; an update: the
    whole definition as the developer portal shows it; publishing: the same, published)."""
    return kind.model_validate(
        {
            "api_id": api["_id"],
            "name": api["name"],
            "context": api["context"],
            "version": api["version"],
            "route_prefix": api["route_prefix"],
            "vendor": api["vendor"],
            "description": api["description"],
            "lifecycle_status": api["lifecycle_status"],
            "policies": offered_policies(api),
        }
    )


def status_event(api: ApiDoc) -> ApiUpdated | ApiPublished:
    """What a change of lifecycle status announces: a published API enters the catalogue (or
    is announced again), any other status is an update."""
    if api["lifecycle_status"] == PUBLISHED:
        return described(ApiPublished, api)
    return described(ApiUpdated, api)


def deployed(api: ApiDoc, revision: int, vendor: VendorSpec) -> ApiDeployed:
    """Revision `revision` of the API as the gateway gets it, on `vendor` as defined now."""
    endpoints = api["endpoints"]
    return ApiDeployed(
        api_id=api["_id"],
        revision=revision,
        name=api["name"],
        version=api["version"],
        route_prefix=api["route_prefix"],
        vendor=vendor,
        production=_deployed_endpoint(api, "production", endpoints.get("production")),
        sandbox=_deployed_endpoint(api, "sandbox", endpoints.get("sandbox")),
        endpoints={
            name: _sealed_endpoint(api, name, url)
            for name, url in sorted(additional_endpoints(api).items())
        },
        routing=routing(api),
        backend_throttle=BackendThrottle.model_validate(api.get("backend_throttle") or {}),
        guardrails=guardrails(api),
        cache=response_cache(api),
    )


def _deployed_endpoint(api: ApiDoc, name: str, url: str | None) -> DeployedEndpoint | None:
    return None if url is None else _sealed_endpoint(api, name, url)


def _sealed_endpoint(api: ApiDoc, name: str, url: str) -> DeployedEndpoint:
    """The endpoint as the gateway gets it: the provider key stays a ciphertext, which the
    gateway opens with the same associated data (API id, endpoint name, the URL's origin)."""
    sealed = sealed_key(api, name) or {}
    return DeployedEndpoint(url=url, api_key_ciphertext=sealed.get("ciphertext"))
