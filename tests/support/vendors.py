"""The custom vendor the tests define: the mock provider's "Acme" API (`/acme/generate`), whose
key is a query parameter and whose answer puts the counts under `billing.tokens`."""

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
