"""Fresh resources of one owner, made through the real endpoints on first use. Each test gets
its own, so a delete in one test cannot break another."""

import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tests.support.access.rule import AUDIT, DP, KM, PUB
from tests.support.access.world import PASSWORD, Account, World, api_body, vendor_body
from tests.support.waiting import eventually

KEY = {"keyType": "PRODUCTION"}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def path_params(path: str) -> list[str]:
    return re.findall(r"{(\w+)}", path)


class Resources:
    def __init__(self, world: World, owner: Account) -> None:
        self.world = world
        self.owner = owner
        self._made: dict[str, Any] = {}

    async def param(self, service: str, path: str, name: str) -> str:
        """A value for path parameter `name` of `path` (a template) on `service`."""
        if service == "publisher" and "/subscription-policies/" in path:
            return await self.policy()
        if name == "rest":
            return "apis/some-page"  # any path under a portal is the portal's page
        if service == "publisher" and "/ai-vendors/" in path:
            # a custom vendor (made by the admin): built-in ones cannot be changed or deleted
            return str((await self.vendor())[name])
        makers: dict[tuple[str, str], Callable[[], Awaitable[str]]] = {
            ("publisher", "api_id"): self.publisher_api,
            ("devportal", "api_id"): self._published_api,
            ("devportal", "app_id"): self.application,
            ("devportal", "key_id"): self.portal_key,
            ("devportal", "consumer_key"): self.consumer_key,
            ("devportal", "sub_id"): self.subscription,
            ("keymanager", "key_id"): self.keymanager_key,
            ("keymanager", "client_id"): self.client_id,
            ("keymanager", "username"): self.user,
        }
        return await makers[(service, name)]()

    async def _once(self, name: str, make: Callable[[], Awaitable[Any]]) -> Any:
        if name not in self._made:
            self._made[name] = await make()
        return self._made[name]

    async def _post(
        self, service: str, path: str, json: Any, signed: bool = False, owner: Account | None = None
    ) -> Any:
        auth = self.world.signer if signed else httpx.USE_CLIENT_DEFAULT
        headers = (owner or self.owner).auth
        response = await self.world.http[service].post(path, json=json, headers=headers, auth=auth)
        assert response.status_code in (200, 201), f"setup {path}: {response.text}"
        return response.json()

    # --- publisher ----------------------------------------------------------------------

    async def publisher_api(self) -> str:
        made = await self._once("api", self._deployable_api)
        return str(made["id"])

    async def _deployable_api(self) -> Any:
        made = await self._post("publisher", f"{PUB}/apis", api_body())
        # production goes without a provider key (null): a deploy missing one is refused
        keyless = await self.world.http["publisher"].put(
            f"{PUB}/apis/{made['id']}/backend-security",
            json={"production": None},
            headers=self.owner.auth,
        )
        assert keyless.status_code == 200, f"setup backend-security: {keyless.text}"
        return made

    async def publisher_api_body(self) -> dict[str, Any]:
        await self.publisher_api()
        return {key: self._made["api"][key] for key in ("name", "context", "version")} | {
            "aiVendor": {"name": "MistralAI", "version": "v1"},
            "endpoints": {"production": "https://api.mistral.ai"},
            "description": "changed by the access matrix",
        }

    async def audited_api(self) -> str:
        """The owner's API, once the audit trail shows its creation to the owner."""
        api_id = await self.publisher_api()

        async def seen() -> int:
            response = await self.world.http["publisher"].get(
                f"{AUDIT}/events", params={"subject": api_id}, headers=self.owner.auth
            )
            return int(response.json().get("count", 0)) if response.status_code == 200 else 0

        await eventually(seen, what=f"API {api_id} in the audit trail")
        return api_id

    async def deployed_api(self) -> str:
        api_id = await self.publisher_api()
        await self._once(
            "deploy", lambda: self._post("publisher", f"{PUB}/apis/{api_id}/deploy", None)
        )
        return api_id

    async def vendor(self) -> dict[str, Any]:
        """Custom vendors are the admin's to write, whoever reads them."""
        admin = self.world.accounts["admin"]
        path = f"{PUB}/ai-vendors"
        made = await self._once(
            "vendor", lambda: self._post("publisher", path, vendor_body(), owner=admin)
        )
        return dict(made)

    async def policy(self) -> str:
        """Plans are the admin's to write, whoever reads them."""
        body = {"name": unique("plan"), "limits": [{"unit": "minute", "requests": 10}]}
        admin = self.world.accounts["admin"]
        path = f"{PUB}/subscription-policies"
        made = await self._once("policy", lambda: self._post("publisher", path, body, owner=admin))
        return str(made["name"])

    # --- devportal ----------------------------------------------------------------------

    async def _published_api(self) -> str:
        return self.world.published_api_id

    async def application(self) -> str:
        body = {"name": unique("app")}
        made = await self._once("app", lambda: self._post("devportal", f"{DP}/applications", body))
        return str(made["id"])

    async def portal_key(self) -> str:
        path = f"{DP}/applications/{await self.application()}/api-keys"
        return str((await self._once("key", lambda: self._post("devportal", path, KEY)))["id"])

    async def consumer_key(self) -> str:
        path = f"{DP}/applications/{await self.application()}/oauth-keys"
        made = await self._once("consumer", lambda: self._post("devportal", path, KEY))
        return str(made["consumerKey"])

    async def subscription(self) -> str:
        body = {
            "applicationId": await self.application(),
            "apiId": self.world.published_api_id,
            "policy": "Unlimited",
        }
        made = await self._once("sub", lambda: self._post("devportal", f"{DP}/subscriptions", body))
        return str(made["id"])

    # --- keymanager (straight, signed as devportal) -------------------------------------

    async def keymanager_key(self) -> str:
        body = {"applicationId": unique("app"), **KEY}
        made = await self._once(
            "km_key", lambda: self._post("keymanager", f"{KM}/api-keys", body, True)
        )
        return str(made["id"])

    async def user(self) -> str:
        """A fresh account, made by the admin (the one the admin-only routes change)."""
        return str((await self.account_like_owner())["username"])

    async def account_like_owner(self) -> dict[str, str]:
        """A fresh account with the owner's roles, logged in: its username and Authorization
        header. Routes that end the caller's tokens (a password change) run as it, so the
        world's own accounts keep theirs."""

        async def make() -> dict[str, str]:
            km = self.world.http["keymanager"]
            me = await km.get(f"{KM}/users/me", headers=self.owner.auth)
            username = unique("user")
            body = {**credentials(username), "roles": me.json()["roles"]}
            admin = self.world.accounts["admin"].auth
            assert (await km.post(f"{KM}/users", json=body, headers=admin)).status_code == 201
            token = (await km.post(f"{KM}/auth/login", json=credentials(username))).json()
            return {"username": username, "Authorization": f"Bearer {token['access_token']}"}

        made: dict[str, str] = await self._once("account", make)
        return made

    async def client(self) -> tuple[str, str]:
        body = {"applicationId": unique("app"), **KEY}
        path = f"{KM}/oauth-clients"
        made = await self._once("client", lambda: self._post("keymanager", path, body, True))
        return str(made["clientId"]), str(made["clientSecret"])

    async def client_id(self) -> str:
        return (await self.client())[0]

    async def access_token(self) -> str:
        response = await self.world.http["keymanager"].post(
            f"{KM}/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=httpx.BasicAuth(*await self.client()),
        )
        assert response.status_code == 200, response.text
        return str(response.json()["access_token"])


def credentials(username: str) -> dict[str, str]:
    return {"username": username, "password": PASSWORD}
