"""The AI vendors' API definitions (OpenAPI documents) for the Developer Portal's Try Out:
built-in vendors from the product, custom ones from publisher's aigw.vendor.changed events."""
