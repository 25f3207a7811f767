"""The API's Policies page in the Publisher Portal: a guardrail and a response cache set there
are stored (checked through the REST API); an invalid regex shows the API's error next to the
editor, naming the field, and changes nothing. The Usage page shows the cache's and the
guardrails' counters."""

import asyncio
import json
import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from aigw.devtools.stack import Stack
from tests.support.browser import Shots, assert_accessible, sign_in
from tests.support.usage import batch, publish_batch, record
from tests.support.waiting import eventually_sync

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

GUARDRAIL = {
    "type": "REGEX_GUARDRAIL",
    "name": "no-card-numbers",
    "flow": "both",
    "params": {"regex": r"\b(?:\d[ -]?){13,16}\b", "invert": True},
}


@pytest.fixture
def rest(stack: Stack, users: dict[str, tuple[str, str]]) -> Iterator[httpx.Client]:
    """The publisher API as the publisher user, to check what the UI did."""
    username, password = users["publisher"]
    login = httpx.post(
        f"{stack.url('keymanager')}/api/keymanager/v1/auth/login",
        json={"username": username, "password": password},
    )
    assert login.status_code == 200, login.text
    with httpx.Client(
        base_url=f"{stack.url('publisher')}/api/publisher/v1",
        headers={"Authorization": f"Bearer {login.json()['access_token']}"},
    ) as client:
        yield client


@pytest.fixture
def api(rest: httpx.Client, stack: Stack) -> dict[str, Any]:
    context = f"guarded{uuid.uuid4().hex[:8]}"
    mock = stack.url("mock_provider")
    response = rest.post(
        "/apis",
        json={
            "name": f"Guarded {context}",
            "context": context,
            "version": "0.0.2",
            "aiVendor": {"name": "MistralAI", "version": "v1"},
            "endpoints": {"production": f"{mock}/production"},
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def open_policies(page: Page, stack: Stack, users: Any, api: dict[str, Any]) -> None:
    url = f"{stack.url('publisher')}/publisher/apis/{api['id']}/policies"
    sign_in(page, url, *users["publisher"])
    expect(page.get_by_role("heading", name="Guardrails")).to_be_visible()


def test_a_guardrail_and_a_cache_set_in_the_portal_are_stored(
    page: Page, stack: Stack, users: Any, rest: httpx.Client, api: dict[str, Any], shots: Shots
) -> None:
    open_policies(page, stack, users, api)
    editor = page.get_by_label("Guardrails (JSON)")
    expect(editor).to_have_value("[]")
    editor.fill(json.dumps([GUARDRAIL], indent=2))
    page.get_by_role("button", name="Save guardrails").click()
    guardrails = page.get_by_role("form", name="Guardrails")
    expect(guardrails.get_by_text("Saved.")).to_be_visible()
    stored = rest.get(f"/apis/{api['id']}").json()
    assert [(g["name"], g["params"]["regex"]) for g in stored["guardrails"]] == [
        (GUARDRAIL["name"], GUARDRAIL["params"]["regex"])
    ]
    expect(editor).to_have_value(re.compile('"showAssessment": false'))  # as the API answers

    cache = page.get_by_role("form", name="Response cache")
    expect(cache.get_by_label("Mode")).to_have_value("none")
    expect(cache.get_by_label("TTL seconds")).to_have_count(0)
    cache.get_by_label("Mode").select_option("semantic")
    cache.get_by_label("TTL seconds").fill("600")
    cache.get_by_label("Threshold").fill("0.92")
    cache.get_by_label("Scope").select_option("api")
    assert_accessible(page)
    shots.take(page, "guardrails-and-cache")
    cache.get_by_role("button", name="Save cache").click()
    expect(cache.get_by_text("Saved.")).to_be_visible()
    assert rest.get(f"/apis/{api['id']}").json()["cache"] == {
        "mode": "semantic",
        "ttlSeconds": 600,
        "threshold": 0.92,
        "scope": "api",
    }

    # exact mode has no threshold: the stored one goes with the switch
    cache.get_by_label("Mode").select_option("exact")
    expect(cache.get_by_label("Threshold")).to_have_count(0)
    cache.get_by_role("button", name="Save cache").click()
    expect(cache.get_by_text("Saved.")).to_be_visible()
    saved = rest.get(f"/apis/{api['id']}").json()
    assert saved["cache"]["mode"] == "exact"
    assert saved["cache"]["threshold"] is None
    assert [g["name"] for g in saved["guardrails"]] == [GUARDRAIL["name"]]  # left as it was

    # and the page shows what is stored when opened again
    page.reload()
    expect(page.get_by_role("form", name="Response cache").get_by_label("Mode")).to_have_value(
        "exact"
    )
    expect(page.get_by_label("Guardrails (JSON)")).to_have_value(re.compile("no-card-numbers"))


def test_an_invalid_regex_shows_the_apis_error_next_to_the_editor(
    page: Page, stack: Stack, users: Any, rest: httpx.Client, api: dict[str, Any], shots: Shots
) -> None:
    open_policies(page, stack, users, api)
    editor = page.get_by_label("Guardrails (JSON)")
    editor.fill(json.dumps([{**GUARDRAIL, "params": {"regex": "([0-9]+"}}]))
    page.get_by_role("button", name="Save guardrails").click()

    expect(editor).to_have_attribute("aria-invalid", "true")
    expect(editor).to_have_accessible_description(
        re.compile(r"guardrails\.0\.params\.regex: .*not a valid regex")
    )
    assert_accessible(page)
    shots.take(page, "guardrails-invalid-regex")
    assert rest.get(f"/apis/{api['id']}").json()["guardrails"] == []

    # JSON that does not parse is said at once, before anything is sent
    editor.fill('[{"type": ')
    page.get_by_role("button", name="Save guardrails").click()
    expect(editor).to_have_accessible_description(re.compile("Not valid JSON"))


def test_the_usage_page_shows_cache_hits_tokens_saved_and_interventions(
    page: Page, stack: Stack, users: Any, rest: httpx.Client, api: dict[str, Any]
) -> None:
    records = [
        record(api["id"], "app", cache="hit", cached=True, tokens_saved=1234),
        record(api["id"], "app", cache="miss", prompt_tokens=1000, completion_tokens=234),
        record(api["id"], "app", status=446, guardrail="g", guardrail_direction="REQUEST"),
    ]
    # the usage batch as a gateway publishes it, from a thread: Playwright's loop runs here
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, publish_batch(stack.config.nats_url, batch(*records))).result()
    eventually_sync(
        lambda: rest.get(f"/apis/{api['id']}/usage").json()["totals"]["requests"], 3, timeout=10
    )

    sign_in(page, f"{stack.url('publisher')}/publisher/apis/{api['id']}/usage", *users["publisher"])
    shown = page.get_by_role("list", name="Cache and guardrails")
    for text in (
        "1 cache hits",
        "1 cache misses",
        "1,234 tokens saved",
        "1 guardrail interventions",
    ):
        expect(shown.get_by_role("listitem").filter(has_text=text.partition(" ")[2])).to_have_text(
            re.compile(rf"^\s*{re.escape(text.partition(' ')[0])}\s+{text.partition(' ')[2]}\s*$")
        )
    assert_accessible(page)
