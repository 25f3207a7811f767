"""How to call each route with a minimal valid request: its path filled with the owner's fresh
resources, and the body, form or client credentials it needs. A route not listed in EXTRAS is
called with its path alone."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from tests.support.access.resources import KEY, Resources, credentials, path_params, unique
from tests.support.access.rule import RouteKey, audit, dp, km, pub
from tests.support.access.world import PASSWORD, api_body, vendor_body


@dataclass
class Extra:
    json: Any = None
    data: dict[str, str] | None = None
    client: tuple[str, str] | None = None  # OAuth2 client credentials (HTTP Basic)
    marker: str | None = None  # the owner's item a list must hide from others
    headers: dict[str, str] | None = None  # a signed-in caller's stand-in (see Resources)


Build = Callable[[Resources], Awaitable[Extra]]


async def _new_api(res: Resources) -> Extra:
    return Extra(json=api_body())


async def _apis(res: Resources) -> Extra:
    return Extra(marker=await res.publisher_api())


async def _api_update(res: Resources) -> Extra:
    return Extra(json=await res.publisher_api_body())


async def _api_patch(res: Resources) -> Extra:
    return Extra(json={"description": "patched by the access matrix"})


async def _backend_security(res: Resources) -> Extra:
    return Extra(json={"production": {"apiKey": "access-matrix-provider-key"}})


async def _undeploy(res: Resources) -> Extra:
    await res.deployed_api()  # only a deployed API can be undeployed
    return Extra()


async def _publish(res: Resources) -> Extra:
    await res.deployed_api()  # only a deployed API can be published
    return Extra(json={"action": "publish"})


async def _new_vendor(res: Resources) -> Extra:
    return Extra(json=vendor_body())


async def _vendor_change(res: Resources) -> Extra:
    vendor = await res.vendor()
    fields = ("name", "version", "auth", "apiDefinition")
    return Extra(json={key: vendor[key] for key in fields} | {"description": "changed"})


async def _new_policy(res: Resources) -> Extra:
    return Extra(json={"name": unique("plan"), "limits": [{"unit": "hour", "requests": 100}]})


async def _policy_change(res: Resources) -> Extra:
    return Extra(json={"description": "changed by the access matrix"})


async def _new_account(res: Resources) -> Extra:
    return Extra(json=credentials(unique("user")))


async def _new_user(res: Resources) -> Extra:
    return Extra(json={**credentials(unique("user")), "roles": ["publisher"]})


async def _role_change(res: Resources) -> Extra:
    return Extra(json={"roles": ["subscriber"]})


async def _password_reset(res: Resources) -> Extra:
    return Extra(json={"password": "a-new-access-matrix-password"})


async def _own_password(res: Resources) -> Extra:
    """As a fresh account of the caller's roles: the change ends the caller's tokens."""
    account = await res.account_like_owner()
    body = {"currentPassword": PASSWORD, "newPassword": "a-new-access-matrix-password"}
    return Extra(json=body, headers={"Authorization": account["Authorization"]})


async def _login(res: Resources) -> Extra:
    return Extra(json=credentials("alice"))


async def _new_application(res: Resources) -> Extra:
    return Extra(json={"name": unique("app")})


async def _applications(res: Resources) -> Extra:
    return Extra(marker=await res.application())


async def _key_type(res: Resources) -> Extra:
    return Extra(json=KEY)


async def _new_subscription(res: Resources) -> Extra:
    app_id = await res.application()
    body = {"applicationId": app_id, "apiId": res.world.published_api_id, "policy": "Unlimited"}
    return Extra(json=body)


async def _plan_change(res: Resources) -> Extra:
    return Extra(json={"policy": "Unlimited"})


async def _subscriptions(res: Resources) -> Extra:
    return Extra(marker=await res.subscription())


async def _keymanager_credential(res: Resources) -> Extra:
    return Extra(json={"applicationId": unique("app"), **KEY})


async def _keymanager_keys(res: Resources) -> Extra:
    return Extra(marker=await res.keymanager_key())


async def _keymanager_clients(res: Resources) -> Extra:
    return Extra(marker=await res.client_id())


async def _token(res: Resources) -> Extra:
    return Extra(data={"grant_type": "client_credentials"}, client=await res.client())


async def _revoke_token(res: Resources) -> Extra:
    return Extra(data={"token": await res.access_token()}, client=await res.client())


async def _audit_trail(res: Resources) -> Extra:
    """A publisher owner's API, once its creation is in the owner's own view of the trail."""
    return Extra(marker=await res.audited_api()) if res.owner.username == "publisher" else Extra()


EXTRAS: dict[RouteKey, Build] = {
    audit("GET", "/events"): _audit_trail,
    pub("POST", "/ai-vendors"): _new_vendor,
    pub("PUT", "/ai-vendors/{name}/{version}"): _vendor_change,
    pub("POST", "/apis"): _new_api,
    pub("GET", "/apis"): _apis,
    pub("PUT", "/apis/{api_id}"): _api_update,
    pub("PATCH", "/apis/{api_id}"): _api_patch,
    pub("PUT", "/apis/{api_id}/backend-security"): _backend_security,
    pub("POST", "/apis/{api_id}/undeploy"): _undeploy,
    pub("POST", "/apis/{api_id}/lifecycle"): _publish,
    pub("POST", "/subscription-policies"): _new_policy,
    pub("PUT", "/subscription-policies/{name}"): _policy_change,
    dp("POST", "/signup"): _new_account,
    dp("POST", "/applications"): _new_application,
    dp("GET", "/applications"): _applications,
    dp("POST", "/applications/{app_id}/api-keys"): _key_type,
    dp("POST", "/applications/{app_id}/oauth-keys"): _key_type,
    dp("POST", "/subscriptions"): _new_subscription,
    dp("GET", "/subscriptions"): _subscriptions,
    dp("PUT", "/subscriptions/{sub_id}"): _plan_change,
    km("POST", "/auth/login"): _login,
    km("POST", "/users"): _new_user,
    km("POST", "/users/signup"): _new_account,
    km("PATCH", "/users/{username}"): _role_change,
    km("POST", "/users/{username}/password"): _password_reset,
    km("PUT", "/users/me/password"): _own_password,
    km("POST", "/api-keys"): _keymanager_credential,
    km("GET", "/api-keys"): _keymanager_keys,
    km("POST", "/oauth-clients"): _keymanager_credential,
    km("GET", "/oauth-clients"): _keymanager_clients,
    km("POST", "/oauth2/token"): _token,
    km("POST", "/oauth2/revoke"): _revoke_token,
}


async def _nothing(res: Resources) -> Extra:
    return Extra()


async def prepare(key: RouteKey, res: Resources) -> tuple[str, Extra]:
    """The concrete path (the owner's resources filled in) and what else the request needs."""
    service, _, path = key
    for name in path_params(path):
        path = path.replace(f"{{{name}}}", await res.param(service, key[2], name))
    return path, await EXTRAS.get(key, _nothing)(res)
