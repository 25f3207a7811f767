"""The guardrails that change a call or look outside it: PII masking (placeholders out,
originals back, across chunk boundaries; redact), the prompt decorator and templates, and
the URL guardrail against real sockets (DNS only or a connection, remembered briefly)."""

import asyncio
import json

import pytest

from aigw.devtools.processes import free_port
from aigw.gateway.client import ANY_ADDRESS
from aigw.gateway.errors import Refused
from tests.support.guardrails import (
    answer,
    answered,
    anthropic_stream,
    body_of,
    call_for,
    chat,
    guardrail,
    openai_stream,
    policies,
    requested,
    streamed_text,
)
from tests.support.relay import ProviderStub
from tests.support.waiting import eventually

PII = {"piiEntities": [{"piiEntity": "EMAIL", "piiRegex": r"[\w.]+@[\w.]+\.\w+"}, {"piiEntity": "PHONE", "piiRegex": r"\+\d{6,}"}]}  # fmt: skip


async def test_pii_is_masked_for_the_provider_and_restored_in_a_json_answer():
    (policy,) = policies([guardrail("PII_MASKING_REGEX", PII)])
    call = call_for(chat("mail ann@x.org or +3312345, again ann@x.org"))
    runs = await requested(call, [policy])
    sent = json.loads(call.body)["messages"][0]["content"]
    assert sent == "mail EMAIL_0001 or PHONE_0002, again EMAIL_0001"
    reply = answer("Writing to EMAIL_0001 and PHONE_0002.")
    _, out = await answered(call, runs, [reply], "application/json")
    content = json.loads(body_of(out))["choices"][0]["message"]["content"]
    assert content == "Writing to ann@x.org and +3312345."


@pytest.mark.parametrize("vendor", ["openai", "anthropic"])
@pytest.mark.parametrize("size", [None, 1, 4])
async def test_a_placeholder_split_across_stream_chunks_is_restored(vendor, size):
    (policy,) = policies([guardrail("PII_MASKING_REGEX", PII)], vendor)
    call = call_for({**chat("I am ann@x.org"), "stream": True}, vendor)
    runs = await requested(call, [policy])
    texts = ["Hi EMA", "IL_", "00", "01! EMAIL", "_0001", " bye EMAIL_00"]  # the last is not one
    events = (anthropic_stream if vendor == "anthropic" else openai_stream)(*texts)
    raw = b"".join(events)
    chunks = [raw[i : i + size] for i in range(0, len(raw), size)] if size else events
    _, sent = await answered(call, runs, chunks)
    assert streamed_text(body_of(sent)) == "Hi ann@x.org! ann@x.org bye EMAIL_00"


async def test_redact_replaces_for_good():
    (policy,) = policies([guardrail("PII_MASKING_REGEX", {**PII, "redact": True})])
    call = call_for(chat("ann@x.org"))
    runs = await requested(call, [policy])
    assert json.loads(call.body)["messages"][0]["content"] == "*****"
    assert runs[0].on_response(call, answered_head()) is False  # nothing to restore


async def test_pii_on_the_response_flow_redacts_the_answer():
    (policy,) = policies([guardrail("PII_MASKING_REGEX", PII, flow="response")])
    call = call_for(chat("ann@x.org"))
    runs = await requested(call, [policy])
    assert json.loads(call.body)["messages"][0]["content"] == "ann@x.org"
    _, out = await answered(call, runs, [answer("reach bob@y.io")], "application/json")
    assert json.loads(body_of(out))["choices"][0]["message"]["content"] == "reach EMAIL_0001"


@pytest.mark.parametrize("size", [None, 1, 3])
async def test_pii_on_the_response_flow_redacts_a_stream_even_across_chunks(size):
    (policy,) = policies([guardrail("PII_MASKING_REGEX", PII, flow="response")])
    call = call_for({**chat("q"), "stream": True})
    runs = await requested(call, [policy])
    raw = b"".join(openai_stream("mail bo", "b@y.", "io or +33", "1234567 or bob@y.io", " now"))
    chunks = [raw[i : i + size] for i in range(0, len(raw), size)] if size else [raw]
    _, sent = await answered(call, runs, chunks)
    seen = streamed_text(body_of(sent))
    assert seen == "mail EMAIL_0001 or PHONE_0002 or EMAIL_0001 now"


def answered_head():
    return ProviderStub([], "application/json")


@pytest.mark.parametrize("append", [False, True])
async def test_a_decorator_adds_its_messages_before_or_after(append):
    params = {"decoration": [{"role": "system", "content": "Be brief."}], "append": append}
    (policy,) = policies([guardrail("PROMPT_DECORATOR", params, flow="request")])
    call = call_for(chat("hi"))
    await requested(call, [policy])
    roles = [m["role"] for m in json.loads(call.body)["messages"]]
    assert roles == (["user", "system"] if append else ["system", "user"])


async def test_a_decorator_on_an_anthropic_api_extends_its_system_prompt():
    params = {
        "decoration": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Context."},
        ]
    }
    (policy,) = policies([guardrail("PROMPT_DECORATOR", params, flow="request")], "anthropic")
    call = call_for(
        {"model": "c", "system": "You help.", "messages": [{"role": "user", "content": "hi"}]},
        "anthropic",
    )
    await requested(call, [policy])
    sent = json.loads(call.body)
    assert sent["system"] == "Be brief.\nYou help."
    assert [m["content"] for m in sent["messages"]] == ["Context.", "hi"]


TEMPLATES = {
    "templates": [{"name": "translate", "prompt": "Translate from [[from]] to [[to]]: [[text]]"}]
}


async def test_a_template_is_filled_from_the_reference():
    (policy,) = policies([guardrail("PROMPT_TEMPLATE", TEMPLATES, flow="request")])
    call = call_for(chat("template://translate?from=English&to=French&text=Good%20morning"))
    await requested(call, [policy])
    content = json.loads(call.body)["messages"][0]["content"]
    assert content == "Translate from English to French: Good morning"
    plain = call_for(chat("no template here"))
    await requested(plain, [policy])
    assert json.loads(plain.body)["messages"][0]["content"] == "no template here"


@pytest.mark.parametrize(
    ("reference", "code"),
    [("template://summarise?text=x", "unknown_prompt_template"), ("template://translate?from=en", "prompt_template_parameter_missing")],
)  # fmt: skip
async def test_an_unknown_template_or_a_missing_value_is_a_400(reference, code):
    (policy,) = policies([guardrail("PROMPT_TEMPLATE", TEMPLATES, flow="request")])
    with pytest.raises(Refused) as refused:
        await requested(call_for(chat(reference)), [policy])
    assert (refused.value.status, refused.value.code) == (400, code)


@pytest.fixture
async def listening():
    port, accepted = free_port(), []

    async def accept(reader, writer):
        accepted.append(1)
        writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", port)
    yield port, accepted
    server.close()
    await server.wait_closed()


async def test_a_url_must_accept_a_connection_and_is_remembered(listening):
    port, accepted = listening
    url_guardrail = guardrail("URL_GUARDRAIL", {"timeout": 500, "showAssessment": True})
    (policy,) = policies([url_guardrail], addresses=ANY_ADDRESS)  # dev mode: loopback allowed
    good = f"see http://127.0.0.1:{port}/docs."
    await requested(call_for(chat(good)), [policy])
    await eventually(lambda: len(accepted), until=1)
    await requested(call_for(chat(good + " again")), [policy])
    assert len(accepted) == 1  # the second call used the remembered answer, it did not dial
    closed = free_port()
    with pytest.raises(Refused) as refused:
        await requested(call_for(chat(f"{good} and http://127.0.0.1:{closed}/x")), [policy])
    details = json.loads(refused.value.body())["guardrail"]
    assert details["assessments"] == {"invalidUrls": [f"http://127.0.0.1:{closed}/x"]}


async def test_a_dns_only_url_check_looks_the_name_up_without_connecting(listening):
    _, accepted = listening
    url_guardrail = guardrail("URL_GUARDRAIL", {"onlyDNS": True, "timeout": 500})
    (policy,) = policies([url_guardrail], addresses=ANY_ADDRESS)
    await requested(call_for(chat("http://localhost:1/")), [policy])  # resolves; never dialled
    with pytest.raises(Refused):
        await requested(call_for(chat("http://no-such-host.invalid/")), [policy])
    assert accepted == []


@pytest.mark.parametrize("only_dns", [False, True])
async def test_a_url_to_an_internal_address_is_invalid_and_never_dialled(listening, only_dns):
    """Outside dev mode the check keeps to the providers' address policy: a caller's text
    cannot make the gateway probe its own network (loopback, private, link-local)."""
    port, accepted = listening
    params = {"onlyDNS": only_dns, "timeout": 500, "showAssessment": True}
    (policy,) = policies([guardrail("URL_GUARDRAIL", params)])  # PUBLIC_ONLY by default
    for url in (
        f"http://127.0.0.1:{port}/",
        f"http://localhost:{port}/",
        "http://169.254.169.254/",
    ):
        with pytest.raises(Refused) as refused:
            await requested(call_for(chat(f"see {url}")), [policy])
        assert json.loads(refused.value.body())["guardrail"]["assessments"] == {
            "invalidUrls": [url]
        }
    assert accepted == []


async def test_a_url_check_on_a_stream_holds_the_answer_and_refuses_before_any_byte():
    (policy,) = policies(
        [guardrail("URL_GUARDRAIL", {"onlyDNS": True, "timeout": 500}, flow="response")]
    )
    call = call_for({**chat("q"), "stream": True})
    runs = await requested(call, [policy])
    status, sent = await answered(
        call, runs, openai_stream("go to http://", "no-such-host.invalid/")
    )
    assert status == 446
    assert b"no-such-host" not in body_of(sent)


async def test_pii_in_an_embeddings_input_and_a_tool_result_is_masked():
    (policy,) = policies([guardrail("PII_MASKING_REGEX", PII)])
    call = call_for({"model": "m", "input": ["mail ann@example.com", "no pii"]})
    await requested(call, [policy])
    assert call.parsed["input"] == ["mail EMAIL_0001", "no pii"]
    (anthropic,) = policies([guardrail("PII_MASKING_REGEX", PII)], "anthropic")
    result = {"type": "tool_result", "tool_use_id": "t1", "content": "ann@example.com"}
    body = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [result]}]}
    call = call_for(body, "anthropic")
    await requested(call, [anthropic])
    assert call.parsed["messages"][0]["content"][0]["content"] == "EMAIL_0001"
