"""Vendor profiles (key placement, default headers), vendor metering rules (built-in and custom,
JSON answers and streams) and the routing targets' round robin and suspension."""

import collections
import json

import pytest

from aigw.common.jsonpath import compile_path
from aigw.common.vendors import VendorSpec, builtin_spec
from aigw.gateway.errors import Refused
from aigw.gateway.metering.meter import Meter, count
from aigw.gateway.proxy.balancer import Balancer
from aigw.gateway.proxy.body import parse_json
from aigw.gateway.proxy.model_rewrite import with_model
from aigw.gateway.proxy.response_headers import response_headers
from aigw.gateway.routing.targets import Target, TargetPolicy
from aigw.gateway.routing.upstream import Upstream
from aigw.gateway.routing.vendor import VendorProfile
from tests.support.vendors import ACME_VENDOR

ACME = VendorSpec.model_validate(
    {
        **{k: v for k, v in ACME_VENDOR.items() if k not in ("description", "apiDefinition")},
        "defaultHeaders": {"x-acme-client": "aigw"},
        "metadata": {
            **ACME_VENDOR["metadata"],
            "completionTokenCount": {
                "inputSource": "payload",
                "attributeIdentifier": "$['billing']['tokens']['out']",
            },
            "totalTokenCount": None,
            "remainingTokenCount": {
                "inputSource": "header",
                "attributeIdentifier": "X-Acme-Tokens-Left",
            },
        },
    }
)


def spec(name: str, version: str) -> VendorSpec:
    found = builtin_spec(name, version)
    assert found is not None
    return found


def test_header_auth_replaces_nothing_the_caller_set_and_adds_default_headers():
    anthropic = VendorProfile.compile(spec("Anthropic", "2023-06-01"))
    headers = [("content-type", "application/json")]
    anthropic.add_headers(headers, "sk-provider")
    assert headers == [
        ("content-type", "application/json"),
        ("anthropic-version", "2023-06-01"),
        ("x-api-key", "sk-provider"),
    ]
    mine = [("anthropic-version", "2024-01-01")]
    anthropic.add_headers(mine, "sk-provider")
    assert ("anthropic-version", "2023-06-01") not in mine  # the caller's version is kept
    assert anthropic.auth_header_raw == b"x-api-key"


def test_query_auth_replaces_a_key_the_caller_sent():
    acme = VendorProfile.compile(ACME)
    assert acme.auth_header is None
    assert acme.query("", "p/k") == "key=p%2Fk"
    assert acme.query("key=callers&x=1", "pk") == "x=1&key=pk"
    assert acme.query("k%65y=callers&key=again", "pk") == "key=pk"  # encoded names too
    headers: list[tuple[str, str]] = []
    acme.add_headers(headers, "pk")
    assert headers == [("x-acme-client", "aigw")]  # no key in a header


def test_custom_vendor_metering_reads_unusual_places():
    meter = Meter(ACME.metadata, ACME.stream)
    body = {
        "output": {"text": "hi"},
        "meta": {"engine": "acme-large-2026"},
        "billing": {"tokens": {"in": 7, "out": 3, "sum": 10}},
    }
    usage = meter.answer(json.dumps(body).encode(), {"x-acme-tokens-left": "990"})
    assert usage.reported
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (7, 3, 10)
    assert usage.served_model == "acme-large-2026"
    assert usage.remaining_tokens == 990
    assert meter.requested_model({"engine": "acme-large"}, [], "") == "acme-large"


@pytest.mark.parametrize(
    ("source", "identifier", "headers", "query"),
    [
        ("header", "X-Model", [("x-model", "small")], ""),
        ("queryParameter", "model", [], "a=1&model=small"),
    ],
)
def test_request_model_from_a_header_or_query_parameter(source, identifier, headers, query):
    metadata = {"requestModel": {"inputSource": source, "attributeIdentifier": identifier}}
    vendor = VendorSpec.model_validate({**ACME.model_dump(by_alias=True), "metadata": metadata})
    meter = Meter(vendor.metadata, vendor.stream)
    assert meter.requested_model({"engine": "other"}, headers, query) == "small"


def test_anthropic_answer_without_total_adds_the_counts():
    anthropic = spec("Anthropic", "2023-06-01")
    body = {"model": "claude-x", "usage": {"input_tokens": 4, "output_tokens": 6}}
    usage = Meter(anthropic.metadata, anthropic.stream).answer(json.dumps(body).encode(), {})
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (4, 6, 10)


def test_a_large_answer_is_scanned_not_parsed():
    openai = spec("OpenAI", "v1")
    floats = [0.001 * i for i in range(60_000)]
    body = {"data": [{"embedding": floats}], "model": "emb-1", "usage": {"prompt_tokens": 8}}
    raw = json.dumps(body).encode()
    assert len(raw) > 262_144
    usage = Meter(openai.metadata, openai.stream).answer(raw, {})
    assert (usage.prompt_tokens, usage.total_tokens, usage.served_model) == (8, 8, "emb-1")


def test_with_model_copies_only_the_path():
    parsed = {"engine": "a", "options": {"x": 1}}
    assert with_model(parsed, compile_path("$.engine"), "b") == {"engine": "b", "options": {"x": 1}}
    nested = {"params": {"model": "a"}}
    rewritten = with_model(nested, compile_path("$.params.model"), "b")
    assert rewritten == {"params": {"model": "b"}}
    assert nested == {"params": {"model": "a"}}
    assert with_model(parsed, compile_path("$.list[0]"), "b") is None
    assert with_model(parsed, compile_path("$.options.x.deeper"), "b") is None
    assert with_model(["not", "an", "object"], compile_path("$.model"), "b") is None
    assert with_model({}, compile_path("$.model"), "b") == {"model": "b"}


def target(name: str, weight: int = 1) -> Target:
    return Target(name, Upstream(f"http://{name}"), f"model-{name}", weight)


def test_smooth_weighted_round_robin_is_exact_and_interleaved():
    balancer = Balancer(
        TargetPolicy((target("a", 5), target("b", 1), target("c", 1)), (), None, 30)
    )
    picks = [balancer.attempts(0.0)[0].endpoint for _ in range(70)]
    assert collections.Counter(picks) == {"a": 50, "b": 10, "c": 10}
    assert "aaaaaa" not in "".join(picks)  # smooth: never a run longer than the weight


def test_suspension_skips_a_target_until_it_expires():
    a, b, c = target("a"), target("b"), target("c")
    balancer = Balancer(TargetPolicy((a, b), (c,), None, suspend_seconds=10))
    balancer.failed(a, now=100.0)
    assert {balancer.attempts(105.0)[0].endpoint for _ in range(4)} == {"b"}
    assert [t.endpoint for t in balancer.attempts(105.0)] == ["b", "c"]
    balancer.failed(b, now=105.0)
    assert [t.endpoint for t in balancer.attempts(106.0)] == ["c"]  # only the fallback is up
    balancer.failed(c, now=106.0)
    everything = balancer.attempts(107.0)  # all suspended: try anyway
    assert everything[-1].endpoint == "c"
    assert {t.endpoint for t in everything[:1]} <= {"a", "b"}
    assert "a" in {balancer.attempts(111.0)[0].endpoint for _ in range(2)}  # a is back


@pytest.mark.parametrize(
    ("path", "document", "expected"),
    [
        ("$.a.b", {"a": {"b": 1}}, [1]),
        ("$.a[1]", {"a": [1, 2]}, [2]),
        ("$.a[-1]", {"a": [1, 2]}, [2]),
        ("$.a[*].t", {"a": [{"t": "x"}, {"u": 1}, {"t": "y"}]}, ["x", "y"]),
        ("$.*", {"a": 1, "b": 2}, [1, 2]),
        ("$['a-b']", {"a-b": 3}, [3]),
        ("$.missing", {"a": 1}, []),
        ("$.a.b", {"a": [1]}, []),
    ],
)
def test_jsonpath_subset(path, document, expected):
    assert list(compile_path(path).find(document)) == expected
    assert compile_path(path).first(document) == (expected[0] if expected else None)


def test_policies_compare_by_value_and_balancers_keep_their_state_apart():
    first = TargetPolicy((target("a", 2), target("b")), (target("c"),), 5.0, 30)
    second = TargetPolicy((target("a", 2), target("b")), (target("c"),), 5.0, 30)
    balancer = Balancer(first)
    balancer.failed(target("a", 2), 0.0)
    assert first == second  # a replayed table equals the live one
    assert first != TargetPolicy((target("a", 2),), (), 5.0, 30)
    assert Balancer(second).attempts(0.0)[0].endpoint == "a"  # its own counters, no suspension


@pytest.mark.parametrize("value", ["²", "9" * 5000, 10**30, 1e300, -1, True, "12a", float("nan")])
def test_hostile_token_counts_are_ignored(value):
    assert count(value) is None


def test_deeply_nested_json_never_breaks_metering():
    deep = b"[" * 100_000 + b"]" * 100_000
    openai = spec("OpenAI", "v1")
    meter = Meter(openai.metadata, openai.stream)
    assert not meter.answer(deep, {}).reported
    with pytest.raises(Refused) as refused:
        parse_json(deep, b"application/json")
    assert refused.value.status == 400


class _Answer:
    def __init__(self, headers: list[tuple[bytes, bytes]]) -> None:
        self.raw_headers = headers


def test_a_provider_key_in_the_query_is_blanked_from_answer_headers():
    answer = _Answer(
        [
            (b"Location", b"https://acme.example/v2/generate/?key=s3cr%2Ft&x=1"),
            (b"Content-Location", b"/generate?key=s3cr/t"),
            (b"X-Other", b"fine"),
        ]
    )
    out = dict(response_headers(answer, [], "s3cr/t"))  # type: ignore[arg-type]
    assert out[b"location"] == b"https://acme.example/v2/generate/?key=[provider-key]&x=1"
    assert out[b"content-location"] == b"/generate?key=[provider-key]"
    assert out[b"x-other"] == b"fine"
