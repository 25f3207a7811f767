"""Checks on the management services' error answers, shared by every service's tests."""

import httpx


def assert_unknown(response: httpx.Response, *fields: str) -> None:
    """A 422 naming each of `fields` as unknown, in the description and in `fields`."""
    assert response.status_code == 422, response.text
    body = response.json()
    assert body.keys() == {"code", "message", "description", "fields"}
    for field in fields:
        assert f"{field}: unknown field" in body["description"], body
        assert "unknown field" in body["fields"][field], body
