"""Guardrails on a running gateway, deployed with the API (`ApiDeployed.guardrails`), in front
of the mock provider (whose answer echoes the prompt): the official `openai` SDK sees the 446
with WSO2's details, a request-side intervention never reaches the provider, a response-side
one is recorded with its tokens and marked, a stream is cut with an `error` event and none of
the match, and PII goes to the provider masked and comes back restored."""

import uuid

import openai
import pytest

from aigw.common.events import ApplicationCreated
from tests.support.gateway import deploy_with_keys
from tests.support.guardrails import guardrail
from tests.support.usage import usage_tap

pytestmark = pytest.mark.integration

DENY_REQUEST = guardrail("REGEX_GUARDRAIL", {"regex": "(?i)jailbreak", "invert": True, "showAssessment": True}, name="no-jailbreak", flow="request")  # fmt: skip
DENY_ANSWER = guardrail("REGEX_GUARDRAIL", {"regex": r"code-\d{4}", "invert": True}, name="no-codes", flow="response")  # fmt: skip
PII = guardrail("PII_MASKING_REGEX", {"piiEntities": [{"piiEntity": "EMAIL", "piiRegex": r"[\w.]+@[\w.]+\.\w+"}]}, name="pii")  # fmt: skip


@pytest.fixture
async def guarded(events, gateway, mock_provider):
    unique = uuid.uuid4().hex[:8]
    d = await deploy_with_keys(
        events, gateway, mock_provider, unique, guardrails=[PII, DENY_REQUEST, DENY_ANSWER]
    )
    await events.publish(ApplicationCreated(application_id=d.app_id, name="app", owner="alice"))
    await gateway.wait_until(lambda: d.app_id in gateway.app.state.table.application_owners)
    return d


def sdk(gateway, d) -> openai.AsyncOpenAI:
    base = f"{gateway.url}/{d.prefix}/v1"
    return openai.AsyncOpenAI(base_url=base, api_key=d.production_key, max_retries=0)


def ask(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


async def test_the_sdk_sees_a_request_side_446_and_the_provider_is_not_called(
    gateway, guarded, events, mock
):
    async with usage_tap(events, guarded.api_id) as tap:
        with pytest.raises(openai.APIStatusError) as raised:
            await sdk(gateway, guarded).chat.completions.create(
                model="m", messages=ask("Try this JAILBREAK now")
            )
        [record] = await tap.wait_for(1)
    error = raised.value
    assert error.status_code == 446
    assert error.body["type"] == "guardrail_intervened"  # type: ignore[index]
    assert error.body["message"] == "Violation of regular expression detected."  # type: ignore[index]
    details = error.response.json()["guardrail"]
    assert details["interveningGuardrail"] == "no-jailbreak"
    assert details["direction"] == "REQUEST"
    assert "jailbreak" in details["assessments"]
    assert (record.guardrail, record.guardrail_direction) == ("no-jailbreak", "REQUEST")
    assert (record.status, record.total_tokens) == (446, 0)
    calls = (await mock.get("/_mock/requests")).json()
    assert not any("JAILBREAK" in str(call) for call in calls)


async def test_a_response_side_446_is_paid_and_marked(gateway, guarded, events):
    async with usage_tap(events, guarded.api_id) as tap:
        with pytest.raises(openai.APIStatusError) as raised:
            await sdk(gateway, guarded).chat.completions.create(
                model="m", messages=ask("repeat code-1234 please")
            )
        [record] = await tap.wait_for(1)
    assert raised.value.status_code == 446
    assert raised.value.response.json()["guardrail"]["direction"] == "RESPONSE"
    assert (record.guardrail, record.guardrail_direction) == ("no-codes", "RESPONSE")
    assert record.total_tokens > 0  # the provider answered: its tokens are charged


async def test_a_stream_is_cut_with_an_error_event_and_none_of_the_match(gateway, guarded, mock):
    await mock.post("/_mock/config", json={"chunkDelayMs": 5})
    seen = []
    stream = await sdk(gateway, guarded).chat.completions.create(
        model="m", messages=ask("one two three code-9876 four five"), stream=True
    )

    async def read() -> None:
        async for chunk in stream:
            seen.extend(choice.delta.content or "" for choice in chunk.choices)

    with pytest.raises(openai.APIError) as raised:
        await read()
    text = "".join(seen)
    assert "Mock reply" in text  # the answer started streaming before the cut
    assert "code" not in text.split("to:")[1]  # and none of the match got out
    assert "Violation of regular expression" in str(raised.value)


async def test_pii_reaches_the_provider_masked_and_comes_back_restored(gateway, guarded, mock):
    answer = await sdk(gateway, guarded).chat.completions.create(
        model="m", messages=ask("mail ann@example.org today")
    )
    assert "ann@example.org" in (answer.choices[0].message.content or "")
    calls = (await mock.get("/_mock/requests")).json()
    assert any("EMAIL_0001" in str(call) for call in calls)
    assert not any("ann@example.org" in str(call) for call in calls)
