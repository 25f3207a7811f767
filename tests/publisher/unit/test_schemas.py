import pytest
from pydantic import ValidationError

from aigw.common.crypto import mask_secret
from aigw.publisher.apis.schemas import (
    ApiIn,
    BackendSecurityIn,
    BackendSecurityOut,
    dev_only_endpoint,
)


def _body(**overrides):
    body = {
        "name": "MistralAIAPI",
        "context": "mistralaiapi",
        "version": "0.0.2",
        "aiVendor": {"name": "MistralAI", "version": "v1"},
        "endpoints": {"production": "https://api.mistral.ai/"},
    }
    return {**body, **overrides}


def test_api_body_normalises_context_and_endpoint():
    api = ApiIn.model_validate(_body(context="/mistralaiapi"))
    assert api.context == "mistralaiapi"
    assert api.endpoints.production == "https://api.mistral.ai"
    assert api.endpoints.sandbox is None


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": ""}, "at least 1 character"),
        ({"name": "x" * 101}, "at most 100 characters"),
        ({"context": "a/../b"}, "'..'"),
        ({"version": "0 1"}, "version must be"),
        ({"endpoints": {}}, "at least one of the production and sandbox"),
        ({"endpoints": {"production": "ftp://x.example"}}, "http:// or https://"),
        ({"endpoints": {"sandbox": "api.mistral.ai"}}, "http:// or https://"),
        ({"endpoints": {"sandbox": "https://"}}, "http:// or https://"),
        ({"context": "health"}, "reserved"),
        ({"context": "{version}/api", "version": "redoc"}, "reserved"),
    ],
)
def test_api_body_rejects_bad_fields(overrides, message):
    with pytest.raises(ValidationError, match=message):
        ApiIn.model_validate(_body(**overrides))


def test_backend_security_needs_a_key():
    with pytest.raises(ValidationError, match="at least one"):
        BackendSecurityIn.model_validate({})
    with pytest.raises(ValidationError, match="at least 1 character"):
        BackendSecurityIn.model_validate({"production": {"apiKey": ""}})


def test_backend_security_out_shows_only_the_masks():
    key = "sk-live-0123456789abcdef"
    doc = {"backend_security": {"production": {"ciphertext": "v1.x.y", "masked": mask_secret(key)}}}
    body = BackendSecurityOut.from_doc(doc).model_dump(by_alias=True)
    assert body == {"production": {"apiKey": "****cdef"}, "sandbox": None}
    assert key not in str(body)


def test_short_secrets_are_fully_masked():
    assert mask_secret("short-key") == "****"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://api.mistral.ai", "plain http"),
        ("https://localhost:8443", "localhost"),
        ("https://api.localhost", "localhost"),
        ("https://127.0.0.2", "loopback"),
        ("https://0.0.0.0", "loopback"),
        ("https://[::1]", "loopback"),
        ("https://[::ffff:127.0.0.1]", "loopback"),
        ("https://169.254.169.254", "link-local"),
        ("https://[fe80::1]", "link-local"),
        ("https://10.1.2.3", "private"),
        ("https://172.31.0.1", "private"),
        ("https://192.168.0.1", "private"),
        ("https://[fd00::1]", "private"),
    ],
)
def test_local_or_plain_http_endpoints_are_dev_only(url, reason):
    found = dev_only_endpoint(url)
    assert found is not None
    assert reason in found


@pytest.mark.parametrize(
    "url",
    [
        "https://api.mistral.ai",
        "https://8.8.8.8",
        "https://[2001:4860::8888]:443/v1",
        "https://bücher.example/v1",  # a non-ASCII name that is a name
        "https://api-2.example.com",
        "https://cafe.be",  # hex-looking labels, but a real top-level domain
        "https://[64:ff9b::808:808]",  # NAT64 of a public address
    ],
)
def test_public_https_endpoints_are_fine_anywhere(url):
    assert dev_only_endpoint(url) is None


# Spellings of 127.0.0.1 and 169.254.169.254 that resolvers (inet_aton) and browsers (WHATWG
# URL) accept, and that ipaddress does not: only canonical dotted quads and bracketed IPv6
# literals are judged by address, so every other numeric host is refused outside dev mode.
NUMERIC_SPELLINGS = [
    "https://2130706433",  # 127.0.0.1 as one decimal number
    "https://0x7f000001",  # ... in hex
    "https://0X7F000001:8443/v1",
    "https://017700000001",  # ... in octal
    "https://0177.0.0.1",  # octal octet
    "https://0x7f.0.0.1",  # hex octet
    "https://127.0.0.01",  # a leading zero
    "https://127.1",  # short forms
    "https://127.0.1",
    "https://0",  # 0.0.0.0
    "https://2852039166",  # 169.254.169.254
    "https://0xa9fea9fe",
    "https://169.254.43518",
    "https://7f000001",  # hex-looking without the prefix
    "https://2130706433.",  # with the root's dot
    "https://foo.0x7f000001",  # a name whose last label is a number is an IPv4 address to URL parsers
]

IDNA_SPELLINGS = [
    "https://１２７.０.０.１",  # fullwidth digits: IDNA maps them to 127.0.0.1
    "https://１２７．０．０．１",  # ... and fullwidth dots
    "https://１２７。０。０。１",  # ... ideographic full stops
    "https://２１３０７０６４３３",  # fullwidth 2130706433
    "https://１６９.２５４.１６９.２５４",
    "https://ｌｏｃａｌｈｏｓｔ",  # fullwidth localhost
    "https://①②⑦.0.0.1",  # circled digits (NFKC) too
]


@pytest.mark.parametrize("url", NUMERIC_SPELLINGS + IDNA_SPELLINGS)
def test_numeric_and_idna_spellings_of_addresses_are_dev_only(url):
    found = dev_only_endpoint(url)
    assert found is not None, url
    assert any(word in found for word in ("numeric", "loopback", "link-local", "localhost"))


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://１２７.０.０.１", "loopback"),
        ("https://１６９.２５４.１６９.２５４", "link-local"),
        ("https://２１３０７０６４３３", "numeric"),
        ("https://2852039166", "numeric"),
        ("https://ｌｏｃａｌｈｏｓｔ", "localhost"),
    ],
)
def test_the_reason_names_what_the_spelling_is(url, reason):
    found = dev_only_endpoint(url)
    assert found is not None
    assert reason in found


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://[64:ff9b::7f00:1]", "loopback"),  # NAT64 of 127.0.0.1
        ("https://[64:ff9b::a9fe:a9fe]", "link-local"),  # NAT64 of 169.254.169.254
        ("https://[2002:7f00:1::]", "loopback"),  # 6to4 of 127.0.0.1
        ("https://[::ffff:a9fe:a9fe]", "link-local"),  # IPv4-mapped, hex spelling
        ("https://[::127.0.0.1]", "reserved"),  # IPv4-compatible (deprecated)
        ("https://[ff02::1]", "multicast"),
        ("https://224.0.0.1", "multicast"),
        ("https://100.64.0.1", "reserved"),  # carrier-grade NAT
        ("https://255.255.255.255", "reserved"),
        ("https://[::]", "loopback"),
        ("https://[fe80::1%25eth0]", "link-local"),
    ],
)
def test_other_non_public_literal_addresses_are_dev_only(url, reason):
    found = dev_only_endpoint(url)
    assert found is not None, url
    assert reason in found


def test_a_host_idna_cannot_encode_is_dev_only():
    found = dev_only_endpoint("https://" + "ü" * 70 + ".example")  # a label over 63 octets
    assert found is not None
    assert "not a valid host name" in found


# --- additional endpoints and routing ------------------------------------------------------

BACKUP = "https://backup.example.com/"


def _policy(*endpoints: str, fallbacks: tuple[str, ...] = ()) -> dict[str, object]:
    return {
        "targets": [{"endpoint": e, "model": "m"} for e in endpoints],
        "fallbacks": [{"endpoint": e} for e in fallbacks],
    }


def test_an_api_has_no_additional_endpoints_and_no_routing_by_default():
    api = ApiIn.model_validate(_body())
    assert api.additional_endpoints == {}
    assert api.routing.production is None
    assert api.routing.sandbox is None


def test_additional_endpoints_and_routing_over_them():
    api = ApiIn.model_validate(
        _body(
            additionalEndpoints={"backup": BACKUP, "eu-2": "https://eu.example.com"},
            routing={"production": _policy("production", "backup", fallbacks=("eu-2",))},
        )
    )
    assert api.additional_endpoints == {
        "backup": BACKUP.rstrip("/"),
        "eu-2": "https://eu.example.com",
    }
    assert api.routing.production is not None
    assert api.routing.production.endpoints() == {"production", "backup", "eu-2"}
    assert api.endpoint_names() == ["production", "backup", "eu-2"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"additionalEndpoints": {"production": BACKUP}}, "must not be named 'production'"),
        ({"additionalEndpoints": {"sandbox": BACKUP}}, "must not be named 'sandbox'"),
        ({"additionalEndpoints": {"Backup": BACKUP}}, "should match pattern"),
        ({"additionalEndpoints": {"backup": "ftp://x.example"}}, "http:// or https://"),
        (
            {"additionalEndpoints": {f"e{i}": BACKUP for i in range(17)}},
            "at most 16 items",
        ),
        (
            {"routing": {"production": _policy("backup")}},
            "routing.production names endpoints the API does not have: 'backup'",
        ),
        (  # sandbox is not set in _body()
            {"routing": {"sandbox": _policy("sandbox")}},
            r"'sandbox' \(its endpoints: production\)",
        ),
        (
            {"routing": {"sandbox": _policy("production")}},
            "routing.sandbox must not route to the production endpoint",
        ),
        ({"routing": {"production": {"targets": []}}}, "at least 1 item"),
        ({"routing": {"production": _policy("production", "production")}}, "twice"),
    ],
)
def test_bad_additional_endpoints_or_routing_are_refused(overrides, message):
    with pytest.raises(ValidationError, match=message):
        ApiIn.model_validate(_body(**overrides))


def test_backend_security_takes_keys_by_endpoint_name():
    body = BackendSecurityIn.model_validate(
        {"production": {"apiKey": "p-key"}, "backup": {"apiKey": "b-key"}}
    )
    assert {name: key.api_key for name, key in body.root.items()} == {
        "production": "p-key",
        "backup": "b-key",
    }
    with pytest.raises(ValidationError, match="should match pattern"):
        BackendSecurityIn.model_validate({"Not A Name": {"apiKey": "k"}})


def test_backend_security_out_lists_every_endpoint_of_the_api():
    key = "sk-backup-0123456789wxyz"
    doc = {
        "additional_endpoints": {"backup": BACKUP},
        "backend_security": {"backup": {"ciphertext": "v1.x.y", "masked": mask_secret(key)}},
    }
    body = BackendSecurityOut.from_doc(doc).model_dump(by_alias=True)
    assert body == {"production": None, "sandbox": None, "backup": {"apiKey": "****wxyz"}}
