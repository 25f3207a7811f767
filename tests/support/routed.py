"""An API deployed with several endpoints and a routing policy over them, on the mock
provider, whose endpoints misbehave on demand (fail, slow down, break a stream)."""

import collections
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from aigw.common.model_routing import ApiRouting, RouteTarget, RoutingPolicy
from tests.support.gateway import (
    CHAT,
    PATH,
    Deployed,
    Events,
    RunningGateway,
    bearer,
    deploy_with_keys,
)


@dataclass
class Routed:
    deployed: Deployed
    mock: httpx.AsyncClient
    segments: dict[str, str]  # endpoint name → the mock path segment that serves it

    async def call(self, client: httpx.AsyncClient, **body: Any) -> httpx.Response:
        return await client.post(
            f"/{self.deployed.prefix}{PATH}",
            json={**CHAT, **body},
            headers=bearer(self.deployed.production_key),
        )

    async def post(
        self, client: httpx.AsyncClient, content: bytes, content_type: str
    ) -> httpx.Response:
        """A call with a body as given (not necessarily JSON)."""
        headers = {**bearer(self.deployed.production_key), "content-type": content_type}
        return await client.post(f"/{self.deployed.prefix}{PATH}", content=content, headers=headers)

    async def misbehave(self, **per_endpoint: dict[str, Any]) -> None:
        """Make endpoints fail, slow down or break (mock settings per endpoint name)."""
        segments = {self.segments[name]: settings for name, settings in per_endpoint.items()}
        response = await self.mock.post("/_mock/config", json={"segments": segments})
        assert response.status_code == 200

    async def seen(self) -> collections.Counter[str]:
        """How many requests each endpoint received."""
        names = {segment: name for name, segment in self.segments.items()}
        requests = (await self.mock.get("/_mock/requests")).json()
        return collections.Counter(
            names[r["path"].split("/")[1]] for r in requests if r["path"].split("/")[1] in names
        )

    async def forwarded_models(self) -> list[tuple[str, str]]:
        names = {segment: name for name, segment in self.segments.items()}
        requests = (await self.mock.get("/_mock/requests")).json()
        return [
            (names[r["path"].split("/")[1]], r["json"]["model"])
            for r in requests
            if r["path"].split("/")[1] in names
        ]


async def routed_api(
    events: Events,
    gateway: RunningGateway,
    mock_provider: str,
    mock: httpx.AsyncClient,
    policy: RoutingPolicy,
    names: tuple[str, ...] = ("a", "b"),
    urls: dict[str, str] | None = None,
) -> Routed:
    unique = uuid.uuid4().hex[:8]
    segments = {name: f"{name}{unique}" for name in names}
    endpoints = {name: f"{mock_provider}/{segment}" for name, segment in segments.items()}
    endpoints.update(urls or {})
    deployed = await deploy_with_keys(
        events,
        gateway,
        mock_provider,
        unique,
        endpoints=endpoints,
        routing=ApiRouting(production=policy),
    )
    await mock.post("/_mock/config", json={"segments": {}})
    return Routed(deployed, mock, segments)


def target(endpoint: str, model: str | None = None, weight: int = 1) -> RouteTarget:
    return RouteTarget(endpoint=endpoint, model=model, weight=weight)
