"""The operation matcher compiled per revision, the vendor profile's operations and caller
headers (revisions deployed before they travelled included), the header filter, and the
definitions and settings that would let a caller's credentials or identity through."""

import pytest
from pydantic import ValidationError

from aigw.common.crypto import generate_master_key
from aigw.common.vendors import VendorDefinition, VendorSpec, builtin_spec
from aigw.gateway.proxy.request_headers import filter_headers
from aigw.gateway.routing.operations import Operations
from aigw.gateway.routing.vendor import VendorProfile
from aigw.gateway.settings import Settings
from tests.support.offline import offline_bus_settings

BUS = offline_bus_settings("gateway")

OPERATIONS = Operations(
    {
        "/v1/models": ["GET"],
        "/v1/models/{model}": ["GET", "DELETE"],
        "/v1/models/{model}/versions/{version}": ["GET"],
        "/v1/models/count": ["POST"],
        "/openai/deployments/{deployment-id}/chat/completions": ["POST"],
    }
)


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/v1/models", {"GET"}),
        ("/v1/models/gpt-x", {"GET", "DELETE"}),
        ("/v1/models/count", {"POST"}),  # a literal segment wins over a parameter
        ("/v1/models/a/versions/2", {"GET"}),
        ("/openai/deployments/gpt4/chat/completions", {"POST"}),
        ("/openai/deployments/a/b/chat/completions", None),  # a parameter is one segment
        ("/openai/deployments/chat/completions", None),
        ("/openai/deployments//chat/completions", None),  # and never an empty one
        ("/v1/models/", None),
        ("/v1/models/a/versions", None),
        ("/v1/files", None),
        ("", None),
        ("v1/models", None),
    ],
)
def test_paths_match_their_templates_segment_by_segment(path, methods):
    found = OPERATIONS.methods(path)
    assert (None if found is None else set(found)) == methods


def _spec(**changes) -> VendorSpec:
    found = builtin_spec("OpenAI", "v1")
    assert found is not None
    return found.model_copy(update=changes)


def test_a_revision_without_operations_takes_the_builtins_and_a_custom_one_forwards_nothing():
    legacy_builtin = VendorProfile.compile(_spec(operations=None, caller_headers=[]))
    assert legacy_builtin.operations.methods("/v1/chat/completions") == {"POST"}
    assert legacy_builtin.caller_headers == {b"openai-beta"}
    custom = VendorProfile.compile(_spec(name="Custom", operations=None))
    assert not custom.operations
    assert custom.operations.methods("/v1/chat/completions") is None


def test_the_request_model_header_is_a_caller_header():
    spec = VendorSpec.model_validate(
        {
            "name": "Hdr",
            "version": "v1",
            "auth": {"type": "unsecured"},
            "metadata": {"requestModel": {"inputSource": "header", "attributeIdentifier": "X-M"}},
            "operations": {"/run": ["POST"]},
        }
    )
    assert VendorProfile.compile(spec).caller_headers == {b"x-m"}


def test_the_filter_keeps_allowed_headers_drops_the_rest_and_asks_for_identity():
    vendor = VendorProfile.compile(_spec())
    raw = [
        (b"host", b"gw"),
        (b"authorization", b"Bearer caller"),
        (b"content-type", b"application/json"),
        (b"x-stainless-retry-count", b"0"),
        (b"openai-beta", b"assistants=v2"),
        (b"openai-organization", b"org-1"),
        (b"cookie", b"a=b"),
        (b"x-forwarded-for", b"10.0.0.1"),
        (b"connection", b"x-request-id"),
        (b"connection", b"close, user-agent"),
        (b"x-request-id", b"r"),
        (b"user-agent", b"sdk"),
        (b"accept-encoding", b"gzip"),
        (b"x-mock-status", b"500"),
        (b"content-length", b"2"),
    ]
    headers, credentials, content_type = filter_headers(raw, vendor)
    assert headers == [
        ("content-type", "application/json"),
        ("x-stainless-retry-count", "0"),
        ("openai-beta", "assistants=v2"),
        ("accept-encoding", "identity"),
    ]
    assert credentials.authorization == b"Bearer caller"
    assert content_type == b"application/json"
    extra = frozenset({b"x-mock-status", b"content-type"})
    with_extra, _, _ = filter_headers(raw, vendor, extra)
    assert ("x-mock-status", "500") in with_extra


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"callerHeaders": ["Cookie"]}, "never forwarded from a caller"),
        ({"callerHeaders": ["x-forwarded-host"]}, "never forwarded from a caller"),
        ({"callerHeaders": ["Accept-Encoding"]}, "never forwarded from a caller"),
        ({"callerHeaders": ["Connection"]}, "reserved"),
        ({"callerHeaders": ["x-key"]}, "must not name the header that carries the key"),
        ({"apiDefinition": {"openapi": "3", "paths": {"v1/x": {}}}}, "must start with '/'"),
        ({"apiDefinition": {"openapi": "3", "paths": {"/x?y=1": {}}}}, "query"),
        ({"apiDefinition": {"openapi": "3", "paths": {"/a/{b}.json": {}}}}, "whole segment"),
        ({"apiDefinition": {"openapi": "3", "paths": {"/a": []}}}, "must be an object"),
    ],
)
def test_definitions_that_would_let_the_wrong_things_through_are_refused(change, message):
    body = {"name": "V", "version": "v1", "auth": {"type": "header", "name": "X-Key"}, **change}
    with pytest.raises(ValidationError, match=message):
        VendorDefinition.model_validate(body)


def test_operations_come_from_the_definitions_methods_only():
    definition = VendorDefinition.model_validate(
        {
            "name": "V",
            "version": "v1",
            "auth": {"type": "unsecured"},
            "apiDefinition": {
                "openapi": "3.0.3",
                "paths": {
                    "/a/{id}": {"get": {}, "delete": {}, "parameters": [], "summary": "s"},
                    "/ref": {"$ref": "#/x"},
                },
            },
        }
    )
    assert definition.spec().operations == {"/a/{id}": ["DELETE", "GET"]}


@pytest.mark.parametrize("name", ["cookie", "X-Forwarded-For", "authorization", "connection"])
def test_the_operator_cannot_forward_credentials_identity_or_hop_by_hop_headers(name):
    key = generate_master_key()
    with pytest.raises(ValidationError, match="never forwarded"):
        Settings(secret_key=key, forward_headers=f"x-trace,{name}", **BUS)
    allowed = Settings(secret_key=key, forward_headers="X-Trace, x-b3", **BUS)
    assert allowed.forward_header_names == {b"x-trace", b"x-b3"}
