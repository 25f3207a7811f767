from aigw.common.events import VendorWire
from aigw.publisher.vendors.catalog import BUILT_IN_VENDORS, VendorCatalog


def test_built_ins_are_openai_mistral_and_azure():
    names = [v.name for v in BUILT_IN_VENDORS]
    assert names == ["OpenAI", "MistralAI", "AzureOpenAI"]


def test_openai_style_vendors_send_a_bearer_authorization_header():
    catalog = VendorCatalog()
    for name in ("OpenAI", "MistralAI"):
        vendor = catalog.find(name, "v1")
        assert vendor is not None
        assert vendor.wire() == VendorWire(
            name=name, version="v1", auth_header="Authorization", auth_prefix="Bearer "
        )
        assert "/v1/chat/completions" in vendor.paths
    mistral = catalog.find("MistralAI", "v1")
    assert mistral is not None
    assert mistral.endpoint_example == "https://api.mistral.ai"


def test_azure_sends_the_bare_key_in_api_key_and_names_the_deployment():
    azure = next(v for v in BUILT_IN_VENDORS if v.name == "AzureOpenAI")
    assert azure.wire().auth_header == "api-key"
    assert azure.wire().auth_prefix == ""
    assert azure.paths[0].startswith("/openai/deployments/{deployment}/chat/completions")
    assert f"api-version={azure.version}" in azure.paths[0]


def test_vendor_json_is_camel_case():
    body = BUILT_IN_VENDORS[0].model_dump(by_alias=True)
    assert set(body) == {"name", "version", "description", "auth", "endpointExample", "paths"}
    assert body["auth"] == {"header": "Authorization", "valuePrefix": "Bearer "}


def test_unknown_vendor_is_not_found_and_the_known_ones_are_described():
    catalog = VendorCatalog()
    assert catalog.find("OpenAI", "v9") is None
    assert catalog.find("openai", "v1") is None
    assert "MistralAI v1" in catalog.describe()
