"""Attempts to get past the gateway's checks with odd paths and headers. Paths are sent raw over
a socket, so no client normalises `..`, `//` or percent-encodings before the gateway sees them;
every refused request must also never reach the provider."""

import asyncio

import pytest

from aigw.common.crypto import sha256_hex
from aigw.common.events import KeyIssued, KeyRegenerated
from tests.support.gateway import deploy_event

pytestmark = pytest.mark.integration

CHAT = b'{"model":"m","messages":[{"role":"user","content":"hi"}]}'


async def raw_post(port: int, target: str, headers: dict[str, str]) -> int:
    """POST `target` exactly as written; the response status."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [f"POST {target} HTTP/1.1", "Host: gateway", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines += ["Content-Type: application/json", f"Content-Length: {len(CHAT)}", "", ""]
    writer.write("\r\n".join(lines).encode() + CHAT)
    await writer.drain()
    status_line = await reader.readline()
    writer.close()
    return int(status_line.split()[1])


async def provider_calls(mock, unique: str) -> int:
    return len([r for r in (await mock.get("/_mock/requests")).json() if unique in r["path"]])


async def refused_path(gateway, deployed_api, mock, target: str) -> int:
    key = {"Authorization": f"Bearer {deployed_api.production_key}"}
    status = await raw_post(gateway.settings.port, target, key)
    assert await provider_calls(mock, deployed_api.unique) == 0
    return status


async def test_the_raw_request_helper_reaches_the_provider(gateway, deployed_api, mock):
    """The control: the same helper with a clean path is forwarded (so refusals are real)."""
    target = f"/{deployed_api.prefix}/v1/chat/completions"
    key = {"Authorization": f"Bearer {deployed_api.production_key}"}
    assert await raw_post(gateway.settings.port, target, key) == 200
    assert await provider_calls(mock, deployed_api.unique) == 1


async def test_double_slash_is_refused(gateway, deployed_api, mock):
    target = f"/{deployed_api.prefix}//v1/chat/completions"
    assert await refused_path(gateway, deployed_api, mock, target) == 400


async def test_double_slash_before_the_context_is_refused(gateway, deployed_api, mock):
    target = f"//{deployed_api.prefix}/v1/chat/completions"
    assert await refused_path(gateway, deployed_api, mock, target) == 400


async def test_raw_dot_dot_is_refused(gateway, deployed_api, mock):
    target = f"/{deployed_api.prefix}/v1/../../admin/chat/completions"
    assert await refused_path(gateway, deployed_api, mock, target) == 400


async def test_encoded_dot_dot_is_refused(gateway, deployed_api, mock):
    target = f"/{deployed_api.prefix}/v1/%2e%2e/%2E%2E/chat/completions"
    assert await refused_path(gateway, deployed_api, mock, target) == 400


@pytest.mark.parametrize("slash", ["%2F", "%2f", "%5C"])
async def test_encoded_slash_is_refused(gateway, deployed_api, mock, slash):
    target = f"/{deployed_api.prefix}/v1{slash}chat/completions"
    assert await refused_path(gateway, deployed_api, mock, target) == 400


async def test_context_is_case_sensitive(gateway, deployed_api, mock):
    """`/CHATxyz/1.0` is not `/chatxyz/1.0`: contexts match exactly, as deployed."""
    target = f"/{deployed_api.prefix.upper()}/v1/chat/completions"
    assert await refused_path(gateway, deployed_api, mock, target) == 404


async def test_authorization_wins_over_apikey(gateway, deployed_api, mock):
    target = f"/{deployed_api.prefix}/v1/chat/completions"
    good, bad = deployed_api.production_key, "aigw_not-a-key"
    port = gateway.settings.port
    assert await raw_post(port, target, {"Authorization": f"Bearer {bad}", "ApiKey": good}) == 401
    assert await provider_calls(mock, deployed_api.unique) == 0
    assert await raw_post(port, target, {"Authorization": f"Bearer {good}", "ApiKey": bad}) == 200


async def test_key_for_one_api_is_403_on_another(gateway, deployed_api, events, mock_provider):
    unique = deployed_api.unique
    other = f"b{unique}/1.0"
    await events.publish(deploy_event(events, f"api-b-{unique}", other, mock_provider, unique))
    await gateway.wait_route(other)
    key = {"Authorization": f"Bearer {deployed_api.production_key}"}
    assert await raw_post(gateway.settings.port, f"/{other}/v1/chat/completions", key) == 403


async def test_regenerated_key_replaces_the_old_one(gateway, deployed_api, events):
    unique = deployed_api.unique
    old, new = f"old-{unique}", f"new-{unique}"
    await events.publish(
        KeyIssued(
            key_id=f"kr-{unique}",
            key_hash=sha256_hex(old),
            application_id=deployed_api.app_id,
            key_type="PRODUCTION",
        ),
        KeyRegenerated(key_id=f"kr-{unique}", key_hash=sha256_hex(new)),
    )
    await gateway.wait_until(lambda: sha256_hex(new) in gateway.app.state.table.keys)
    target = f"/{deployed_api.prefix}/v1/chat/completions"
    port = gateway.settings.port
    assert await raw_post(port, target, {"Authorization": f"Bearer {old}"}) == 401
    assert await raw_post(port, target, {"ApiKey": new}) == 200
