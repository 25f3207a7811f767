import pytest
from pydantic import ValidationError

from aigw.common.vendors import BUILT_IN_VENDORS, VendorDefinition
from aigw.publisher.vendors.catalog import KnownVendor, VendorCatalog
from aigw.publisher.vendors.schemas import VendorOut


def test_built_ins_are_openai_mistral_azure_and_anthropic():
    names = [v.name for v in BUILT_IN_VENDORS]
    assert names == ["OpenAI", "MistralAI", "AzureOpenAI", "Anthropic"]


async def test_a_catalogue_without_a_store_knows_the_built_ins_only():
    catalog = VendorCatalog()
    vendors = await catalog.all()
    assert [v.definition for v in vendors] == list(BUILT_IN_VENDORS)
    assert all(v.built_in for v in vendors)
    assert await catalog.find("OpenAI", "v9") is None
    assert await catalog.find("openai", "v1") is None  # names are exact
    assert "MistralAI v1" in await catalog.describe()


async def test_openai_style_vendors_send_a_bearer_authorization_header():
    catalog = VendorCatalog()
    for name in ("OpenAI", "MistralAI"):
        spec = await catalog.spec(name, "v1")
        assert spec is not None
        assert (spec.auth.type, spec.auth.name, spec.auth.value_prefix) == (
            "header",
            "Authorization",
            "Bearer ",
        )


async def test_azure_sends_the_bare_key_in_api_key():
    azure = next(v for v in BUILT_IN_VENDORS if v.name == "AzureOpenAI")
    spec = await VendorCatalog().spec(azure.name, azure.version)
    assert spec is not None
    assert (spec.auth.name, spec.auth.value_prefix) == ("api-key", "")


def test_vendor_json_is_camel_case_and_says_built_in():
    body = VendorOut.of(KnownVendor(BUILT_IN_VENDORS[0], built_in=True)).model_dump(by_alias=True)
    assert set(body) == {
        "name",
        "version",
        "description",
        "auth",
        "defaultHeaders",
        "callerHeaders",
        "metadata",
        "stream",
        "apiDefinition",
        "builtIn",
        "requestIdHeader",
    }
    assert body["builtIn"] is True
    assert body["requestIdHeader"] == "x-request-id"
    assert body["callerHeaders"] == ["OpenAI-Beta"]
    assert body["auth"] == {"type": "header", "name": "Authorization", "valuePrefix": "Bearer "}
    assert body["metadata"]["promptTokenCount"] == {
        "inputSource": "payload",
        "attributeIdentifier": "$.usage.prompt_tokens",
    }


def _definition(**overrides):
    body = {
        "name": "Acme",
        "version": "v1",
        "auth": {"type": "header", "name": "x-acme-key"},
        "metadata": {
            "promptTokenCount": {"inputSource": "payload", "attributeIdentifier": "$.usage.in"}
        },
    }
    return {**body, **overrides}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"metadata": {"responseModel": {"inputSource": "payload", "attributeIdentifier": "x"}}},
            "JSONPath",
        ),
        (
            {"metadata": {"requestModel": {"inputSource": "cookie", "attributeIdentifier": "m"}}},
            "inputSource",
        ),
        (
            {
                "metadata": {
                    "totalTokenCount": {
                        "inputSource": "queryParameter",
                        "attributeIdentifier": "t",
                    }
                }
            },
            "a response has no query parameters",
        ),
        ({"auth": {"type": "header", "name": "bad header"}}, "not a valid HTTP header name"),
        ({"defaultHeaders": {"Host": "x"}}, "reserved"),
        ({"name": "no spaces"}, "name"),
        ({"apiDefinition": {"paths": {}}}, "OpenAPI document"),
        ({"builtIn": True}, "Extra inputs are not permitted"),
    ],
)
def test_bad_definitions_are_refused_with_a_clear_message(overrides, message):
    with pytest.raises(ValidationError, match=message):
        VendorDefinition.model_validate(_definition(**overrides))
