"""Vendor definitions: the built-ins load, and what the gateway could not use is refused with a
message that says why."""

import pytest
from pydantic import ValidationError

from aigw.common.events import ApiDeployed, Envelope, parse_payload
from aigw.common.jsonpath import JsonPathError, compile_path
from aigw.common.vendors import BUILT_IN_VENDORS, VendorDefinition

VALID = {
    "name": "Acme",
    "version": "v2",
    "auth": {"type": "header", "name": "X-Acme-Key"},
    "metadata": {
        "promptTokenCount": {"inputSource": "payload", "attributeIdentifier": "$.b.in"},
    },
}


def test_builtins_are_the_four_vendors_with_api_definitions():
    assert [(v.name, v.version) for v in BUILT_IN_VENDORS] == [
        ("OpenAI", "v1"),
        ("MistralAI", "v1"),
        ("AzureOpenAI", "2024-10-21"),
        ("Anthropic", "2023-06-01"),
    ]
    assert all(v.api_definition and v.api_definition["paths"] for v in BUILT_IN_VENDORS)
    assert {v.name: v.stream.usage_option for v in BUILT_IN_VENDORS}["MistralAI"] == "none"


def test_a_valid_custom_vendor_is_accepted():
    vendor = VendorDefinition.model_validate(VALID)
    assert vendor.spec().auth.name == "X-Acme-Key"
    assert "description" not in vendor.spec().model_dump()


def test_the_request_id_header_defaults_to_x_request_id_and_may_be_renamed_or_null():
    assert VendorDefinition.model_validate(VALID).spec().request_id_header == "x-request-id"
    renamed = VendorDefinition.model_validate({**VALID, "requestIdHeader": "X-Acme-Request"})
    assert renamed.spec().request_id_header == "X-Acme-Request"
    unsent = VendorDefinition.model_validate({**VALID, "requestIdHeader": None})
    assert unsent.spec().request_id_header is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {
                "metadata": {
                    "promptTokenCount": {"inputSource": "payload", "attributeIdentifier": "usage.x"}
                }
            },
            "must start with '$'",
        ),
        (
            {
                "metadata": {
                    "promptTokenCount": {"inputSource": "payload", "attributeIdentifier": "$..x"}
                }
            },
            "recursive descent",
        ),
        (
            {
                "metadata": {
                    "promptTokenCount": {
                        "inputSource": "payload",
                        "attributeIdentifier": "$.a[?(@.x)]",
                    }
                }
            },
            "not supported",
        ),
        (
            {
                "metadata": {
                    "promptTokenCount": {"inputSource": "cookie", "attributeIdentifier": "x"}
                }
            },
            "inputSource",
        ),
        (
            {
                "metadata": {
                    "promptTokenCount": {
                        "inputSource": "queryParameter",
                        "attributeIdentifier": "x",
                    }
                }
            },
            "no query parameters",
        ),
        (
            {
                "metadata": {
                    "promptTokenCount": {"inputSource": "header", "attributeIdentifier": "a b"}
                }
            },
            "not a valid HTTP header",
        ),
        ({"auth": {"type": "header", "name": "Host"}}, "reserved"),
        (
            {"auth": {"type": "queryParameter", "name": "k", "valuePrefix": "B "}},
            "header authentication only",
        ),
        ({"auth": {"type": "basic"}}, "auth.type"),
        ({"defaultHeaders": {"x-acme-key": "v"}}, "must not set the header that carries the key"),
        ({"defaultHeaders": {"content-length": "1"}}, "reserved"),
        ({"stream": {"content": "$.x["}}, "not closed"),
        ({"name": "bad/name"}, "name"),
        ({"apiDefinition": {"paths": {}}}, "OpenAPI document"),
        ({"unknownField": 1}, "unknownField"),
        ({"requestIdHeader": "X-Acme-Key"}, "must not be the header that carries the key"),
        ({"requestIdHeader": "Authorization"}, "never forwarded"),
        ({"requestIdHeader": "Host"}, "reserved"),
        ({"requestIdHeader": "a b"}, "not a valid HTTP header"),
        (
            {"requestIdHeader": "x-trace", "callerHeaders": ["X-Trace"]},
            "must not be in defaultHeaders or callerHeaders",
        ),
    ],
)
def test_unusable_definitions_are_refused_with_a_reason(change, message):
    with pytest.raises(ValidationError) as error:
        VendorDefinition.model_validate({**VALID, **change})
    assert message in str(error.value)


def test_jsonpath_errors_name_the_problem():
    with pytest.raises(JsonPathError, match="expected a name"):
        compile_path("$.")
    assert compile_path("$['a'][0][*]").steps[:2] == ("a", 0)


def test_a_version_1_deploy_event_is_upcast_to_the_v1_era_builtin_definition():
    envelope = Envelope(
        id="1",
        source="publisher",
        type=ApiDeployed.TYPE,
        subject="api-1",
        time="2026-01-01T00:00:00Z",
        actor="alice",
        correlationid="c",
        dataversion=1,
        data={
            "api_id": "api-1",
            "revision": 1,
            "name": "n",
            "version": "1.0",
            "route_prefix": "m/1.0",
            "vendor": {
                "name": "MistralAI",
                "version": "v1",
                "auth_header": "Authorization",
                "auth_prefix": "Bearer ",
            },
            "production": {"url": "http://p"},
        },
    )
    event = parse_payload(envelope)
    assert isinstance(event, ApiDeployed)
    assert event.vendor.auth.name == "Authorization"
    assert event.vendor.stream.usage_option == "none"
    assert event.vendor.metadata.prompt_token_count is not None
    assert event.routing.production is None
