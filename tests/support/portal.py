"""The management and gateway calls a user makes with curl, as plain HTTP, against the e2e stack
(the four services as processes)."""

import uuid
from typing import Any

import httpx

from aigw.devtools.stack import Stack
from tests.support.keymanager import token_for
from tests.support.waiting import eventually_sync

CHAT_BODY = {
    "model": "mistral-small-latest",
    "messages": [{"role": "user", "content": "Who is the most renowned French painter?"}],
}


# the e2e stack (tests/e2e/conftest.py): the admin's password, the gateway's upstream timeout
ADMIN_PASSWORD = "e2e-admin-password"
UPSTREAM_TIMEOUT_SECONDS = 2.0


def devportal_url(stack: Stack) -> str:
    return f"{stack.url('devportal')}/devportal"


def user_client(stack: Stack, username: str, password: str) -> httpx.Client:
    """devportal's REST API as a signed-in user (to check what the UI did)."""
    token = token_for(stack.url("keymanager"), username, password)
    return httpx.Client(
        base_url=f"{stack.url('devportal')}/api/devportal/v1",
        headers={"Authorization": f"Bearer {token}"},
    )


class Portal:
    """The management calls a user makes with curl, as plain HTTP."""

    def __init__(self, stack: Stack, token: str) -> None:
        auth = {"Authorization": f"Bearer {token}"}
        self.pub = httpx.Client(base_url=f"{stack.url('publisher')}/api/publisher/v1", headers=auth)
        self.dev = httpx.Client(base_url=f"{stack.url('devportal')}/api/devportal/v1", headers=auth)
        self.gw = httpx.Client(base_url=stack.url("gateway"), timeout=10)
        self.mock = stack.url("mock_provider")

    def create_api(self, context: str, version: str = "0.0.2", **endpoints: str) -> dict[str, Any]:
        response = self.pub.post(
            "/apis",
            json={
                "name": f"MistralAIAPI-{uuid.uuid4().hex[:6]}",
                "context": context,
                "version": version,
                "aiVendor": {"name": "MistralAI", "version": "v1"},
                "endpoints": endpoints
                or {"production": f"{self.mock}/production", "sandbox": f"{self.mock}/sandbox"},
            },
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    def secure_deploy_publish(self, api_id: str) -> None:
        keys = {
            "production": {"apiKey": "mock-provider-key"},
            "sandbox": {"apiKey": "mock-sandbox-key"},
        }
        assert self.pub.put(f"/apis/{api_id}/backend-security", json=keys).status_code == 200
        assert self.pub.post(f"/apis/{api_id}/deploy").status_code in (200, 201)
        published = self.pub.post(f"/apis/{api_id}/lifecycle", json={"action": "publish"})
        assert published.json()["lifecycleStatus"] == "PUBLISHED"

    def subscribed_app(self, api_id: str) -> str:
        eventually_sync(lambda: self.dev.get(f"/apis/{api_id}").status_code, 200)
        app = self.dev.post("/applications", json={"name": f"app-{uuid.uuid4().hex[:6]}"})
        assert app.status_code == 201, app.text
        sub = self.dev.post(
            "/subscriptions",
            json={"applicationId": app.json()["id"], "apiId": api_id, "policy": "Unlimited"},
        )
        assert sub.status_code == 201, sub.text
        return str(app.json()["id"])

    def key(self, app_id: str, key_type: str) -> str:
        response = self.dev.post(f"/applications/{app_id}/api-keys", json={"keyType": key_type})
        assert response.status_code == 201, response.text
        assert response.json()["keyType"] == key_type
        return str(response.json()["apiKey"])

    def chat(self, path: str, key: str, body: Any = None, **headers: str) -> httpx.Response:
        return self.gw.post(
            path,
            json=CHAT_BODY if body is None else body,
            headers={"Authorization": f"Bearer {key}", **headers},
        )
