"""Custom AI vendors the tests define: `ACME_VENDOR`, the mock provider's "Acme" API
(`/acme/generate`), whose key is a query parameter and whose answer puts the counts under
`billing.tokens`; `vendor_body`, an in-house model server's definition as an admin posts it."""

from typing import Any

ACME_VENDOR: dict[str, Any] = {
    "name": "Acme",
    "version": "v2",
    "description": "Acme's text engine; counts under billing.tokens",
    "auth": {"type": "queryParameter", "name": "key"},
    "metadata": {
        "requestModel": {"inputSource": "payload", "attributeIdentifier": "$.engine"},
        "responseModel": {"inputSource": "payload", "attributeIdentifier": "$.meta.engine"},
        "promptTokenCount": {
            "inputSource": "payload",
            "attributeIdentifier": "$.billing.tokens.in",
        },
        "completionTokenCount": {
            "inputSource": "payload",
            "attributeIdentifier": "$.billing.tokens.out",
        },
        "totalTokenCount": {
            "inputSource": "payload",
            "attributeIdentifier": "$.billing.tokens.sum",
        },
        "remainingTokenCount": {
            "inputSource": "header",
            "attributeIdentifier": "x-acme-tokens-left",
        },
    },
    "stream": {"content": "$.delta.text"},
    "apiDefinition": {
        "openapi": "3.0.3",
        "info": {"title": "Acme", "version": "v2"},
        "paths": {"/acme/generate": {"post": {"responses": {"200": {"description": "OK"}}}}},
    },
}


def vendor_body(name: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "name": name,
        "version": "v1",
        "description": "An in-house model server",
        "auth": {"type": "header", "name": "x-acme-key"},
        "defaultHeaders": {"acme-version": "2025-01-01"},
        "metadata": {
            "requestModel": {"inputSource": "payload", "attributeIdentifier": "$.model"},
            "promptTokenCount": {"inputSource": "payload", "attributeIdentifier": "$.usage.in"},
            "completionTokenCount": {
                "inputSource": "payload",
                "attributeIdentifier": "$.usage.out",
            },
            "remainingTokenCount": {"inputSource": "header", "attributeIdentifier": "x-left"},
        },
        "stream": {"completionTokenCount": "$.usage.out", "content": "$.delta.text"},
        "apiDefinition": {"openapi": "3.0.3", "paths": {"/v1/generate": {"post": {}}}},
    }
    return {**body, **overrides}
