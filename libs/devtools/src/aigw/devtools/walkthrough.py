"""The README walkthrough as code: log in, create and secure an AI API, deploy, publish,
subscribe and get keys. Used by the benchmark to provision what it measures."""

import time
from dataclasses import dataclass
from typing import Any

import httpx

from aigw.devtools.stack import Stack

# The README's chat request (the body the benchmark sends too).
README_BODY = (
    b'{"model":"mistral-small-latest","messages":[{"role":"user",'
    b'"content":"Who is the most renowned French painter?"}]}'
)


@dataclass(frozen=True)
class Provisioned:
    api_id: str
    route_prefix: str
    production_key: str
    sandbox_key: str
    application_id: str = ""
    subscription_id: str = ""


def _ok(response: httpx.Response) -> Any:
    if response.status_code >= 300:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.text}")
    return response.json() if response.content else None


def login(stack: Stack, password: str) -> dict[str, str]:
    body = {"username": "admin", "password": password}
    token = _ok(httpx.post(f"{stack.url('keymanager')}/api/keymanager/v1/auth/login", json=body))
    return {"Authorization": f"Bearer {token['access_token']}"}


def provision(
    stack: Stack,
    password: str,
    context: str,
    version: str = "1.0.0",
    *,
    options: dict[str, Any] | None = None,
    provider_keys: dict[str, str] | None = None,
) -> Provisioned:
    """The walkthrough for one API; `options` adds to the API definition (e.g. additional
    endpoints and a routing policy) and `provider_keys` to its backend security."""
    auth = login(stack, password)
    pub = httpx.Client(base_url=f"{stack.url('publisher')}/api/publisher/v1", headers=auth)
    dev = httpx.Client(base_url=f"{stack.url('devportal')}/api/devportal/v1", headers=auth)
    mock = stack.url("mock_provider")
    api = _ok(
        pub.post(
            "/apis",
            json={
                "name": context,
                "context": context,
                "version": version,
                "aiVendor": {"name": "MistralAI", "version": "v1"},
                "endpoints": {"production": f"{mock}/production", "sandbox": f"{mock}/sandbox"},
                **(options or {}),
            },
        )
    )
    keys = {
        "production": {"apiKey": "mock-provider-key"},
        "sandbox": {"apiKey": "mock-sandbox-key"},
        **{name: {"apiKey": key} for name, key in (provider_keys or {}).items()},
    }
    _ok(pub.put(f"/apis/{api['id']}/backend-security", json=keys))
    _ok(pub.post(f"/apis/{api['id']}/deploy"))
    _ok(pub.post(f"/apis/{api['id']}/lifecycle", json={"action": "publish"}))
    _wait(lambda: dev.get(f"/apis/{api['id']}").status_code == 200)
    app = _ok(dev.post("/applications", json={"name": f"{context}-app"}))
    subscription = _ok(
        dev.post(
            "/subscriptions",
            json={"applicationId": app["id"], "apiId": api["id"], "policy": "Unlimited"},
        )
    )
    prod = _ok(dev.post(f"/applications/{app['id']}/api-keys", json={"keyType": "PRODUCTION"}))
    sandbox = _ok(dev.post(f"/applications/{app['id']}/api-keys", json={"keyType": "SANDBOX"}))
    prefix = f"{context}/{version}"
    wait_until_served(stack, prefix, prod["apiKey"])
    return Provisioned(
        api["id"], prefix, prod["apiKey"], sandbox["apiKey"], app["id"], subscription["id"]
    )


def wait_until_served(stack: Stack, prefix: str, key: str, timeout: float = 10.0) -> None:
    """Poll the gateway with the README request until it answers 200: the gateway learns the
    route, the subscription and the key from events, a moment after the portal returned."""
    url = f"{stack.url('gateway')}/{prefix}/v1/chat/completions"
    headers = {"Authorization": f"Bearer {key}", "content-type": "application/json"}
    last = ""

    def served() -> bool:
        nonlocal last
        try:
            response = httpx.post(url, content=README_BODY, headers=headers, timeout=5)
        except httpx.HTTPError as exc:
            last = repr(exc)
            return False
        last = f"{response.status_code} {response.text[:200]}"
        return response.status_code == 200

    try:
        _wait(served, timeout)
    except TimeoutError:
        raise TimeoutError(f"the gateway does not serve {url} yet; last answer: {last}") from None


def _wait(check: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        time.sleep(0.05)
