"""The access log (GATEWAY_ACCESS_LOG): one JSON line per call with the call's request id and
outcome, written off the request path to a file or stdout; off writes nothing; no key, token
or prompt ever in it."""

import json
import uuid
from pathlib import Path

import pytest

from aigw.devtools.processes import free_port
from tests.support.gateway import CHAT, PATH, bearer, deploy_with_keys, run_gateway
from tests.support.guardrails import guardrail
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

FIELDS = {
    "time",
    "request_id",
    "api",
    "application",
    "key_type",
    "model",
    "target",
    "status",
    "input_tokens",
    "output_tokens",
    "latency_ms",
    "upstream_ms",
    "cache",
    "guardrail",
}
SECRET_PROMPT = "my-private-prompt-text"
DENY = guardrail("REGEX_GUARDRAIL", {"regex": "(?i)jailbreak", "invert": True}, name="no-jailbreak", flow="request")  # fmt: skip


def lines_of(path: Path) -> list[dict]:
    text = path.read_text("utf-8") if path.exists() else ""
    return [json.loads(line) for line in text.splitlines()]


async def test_each_call_is_one_line_with_its_request_id_and_outcome(
    gateway_settings, events, mock_provider, tmp_path
):
    path = tmp_path / "access.log"
    settings = gateway_settings.model_copy(update={"access_log": str(path)})
    async with run_gateway(settings) as gateway:
        d = await deploy_with_keys(
            events, gateway, mock_provider, uuid.uuid4().hex[:8], guardrails=[DENY]
        )
        ask = {**CHAT, "messages": [{"role": "user", "content": SECRET_PROMPT}]}
        url = f"/{d.prefix}{PATH}"
        async with gateway.client() as client:
            ok = await client.post(url, json=ask, headers={**bearer(d.production_key), "x-request-id": "log-ok"})  # fmt: skip
            bad_key = await client.post(url, json=ask, headers=bearer("sk-not-a-key-0123456789"))
            jailbreak = {**CHAT, "messages": [{"role": "user", "content": "a jailbreak"}]}
            stopped = await client.post(url, json=jailbreak, headers=bearer(d.sandbox_key))
        logged = await eventually(lambda: lines_of(path), lambda lines: len(lines) >= 3)
    assert (ok.status_code, bad_key.status_code, stopped.status_code) == (200, 401, 446)
    assert all(set(line) == FIELDS for line in logged)
    served, refused, intervened = logged
    assert served["request_id"] == "log-ok"
    assert served["api"] == d.label
    assert (served["application"], served["key_type"]) == (d.app_id, "PRODUCTION")
    assert (served["status"], served["model"], served["target"]) == (200, "mistral-small", "production")  # fmt: skip
    assert served["input_tokens"] > 0
    assert served["output_tokens"] > 0
    assert served["latency_ms"] >= served["upstream_ms"] > 0
    assert served["time"].endswith("Z")
    assert (served["cache"], served["guardrail"]) == (None, None)
    assert refused["request_id"] == bad_key.headers["x-request-id"]
    assert (refused["status"], refused["application"], refused["upstream_ms"]) == (401, None, None)
    assert intervened["guardrail"] == {"name": "no-jailbreak", "direction": "REQUEST"}
    assert (intervened["status"], intervened["key_type"]) == (446, "SANDBOX")
    text = path.read_text("utf-8")
    for secret in (d.production_key, d.sandbox_key, "sk-not-a-key", "mock-provider-key"):
        assert secret not in text
    assert SECRET_PROMPT not in text


@pytest.mark.parametrize("where", ["stdout", "off"])
async def test_stdout_gets_the_lines_and_off_writes_nothing(
    gateway_settings, events, mock_provider, capsys, where
):
    settings = gateway_settings.model_copy(update={"access_log": where, "port": free_port()})
    async with run_gateway(settings) as gateway:
        d = await deploy_with_keys(events, gateway, mock_provider, uuid.uuid4().hex[:8])
        async with gateway.client() as client:
            answer = await client.post(f"/{d.prefix}{PATH}", json=CHAT, headers=bearer(d.production_key))  # fmt: skip
        assert (gateway.app.invoker.settlement.access_log is None) == (where == "off")
    # the gateway has stopped: what was queued is written (nothing is, when off)
    out = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")
    ]
    if where == "off":
        assert out == []
    else:
        assert [line["request_id"] for line in out] == [answer.headers["x-request-id"]]
