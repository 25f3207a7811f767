"""The seed's publisher walkthrough in the Publisher Portal, checked step by step through the
REST APIs and finished in the Developer Portal's Try Out on the API it made; the XSS attempt,
field errors, a failing service and a phone-sized screen."""

import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, Route, expect

from aigw.devtools.stack import Stack
from tests.support.browser import (
    WATCH_SCRIPT,
    Shots,
    assert_accessible,
    csp_violations,
    exact,
    execute,
    no_horizontal_scroll,
    operation,
    sign_in,
)
from tests.support.portal import CHAT_BODY, Portal
from tests.support.waiting import eventually_sync

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

XSS = "<img src=x onerror=alert(1)>"


def publisher_url(stack: Stack, path: str = "") -> str:
    return f"{stack.url('publisher')}/publisher{path}"


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


def unique_context() -> str:
    return f"mistralaiapi{uuid.uuid4().hex[:8]}"


def create_via_rest(rest: httpx.Client, stack: Stack, name: str, context: str) -> dict[str, Any]:
    mock = stack.url("mock_provider")
    response = rest.post(
        "/apis",
        json={
            "name": name,
            "context": context,
            "version": "0.0.2",
            "aiVendor": {"name": "MistralAI", "version": "v1"},
            "endpoints": {"production": f"{mock}/production", "sandbox": f"{mock}/sandbox"},
        },
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def open_tab(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="API").get_by_role("link", name=exact(name)).click()
    expect(
        page.get_by_role("navigation", name="API").get_by_role("link", name=exact(name))
    ).to_have_attribute("aria-current", "page")


def the_api(rest: httpx.Client, context: str) -> dict[str, Any]:
    listed = [api for api in rest.get("/apis").json()["list"] if api["context"] == context]
    assert len(listed) == 1, listed
    return dict(listed[0])


def set_endpoint(page: Page, section: str, url: str, key: str) -> None:
    group = page.get_by_role("group", name=section)
    expect(group.get_by_text("API Key Required")).to_be_visible()
    group.get_by_label("Endpoint URL").fill(url)
    group.get_by_label("API Key").fill(key)
    group.get_by_role("button", name="Save").click()
    expect(group.get_by_text("Saved.")).to_be_visible()
    expect(group.get_by_text("API Key Required")).to_have_count(0)


def test_the_seed_walkthrough_in_the_publisher_portal(
    page: Page, stack: Stack, users, shots: Shots, rest: httpx.Client, portal: Portal
) -> None:
    context = unique_context()
    name = f"MistralAIAPI-{context[-8:]}"
    mock = stack.url("mock_provider")

    sign_in(page, publisher_url(stack), *users["publisher"])
    expect(page.get_by_role("heading", name="APIs")).to_be_visible()
    expect(page.get_by_role("button", name="Create AI/LLM API")).to_be_visible()
    assert_accessible(page)
    shots.take(page, "02-publisher-apis")

    page.get_by_role("button", name="Create AI/LLM API").click()
    provider = page.get_by_label("AI Service Provider")
    expect(provider).to_be_visible()
    assert_accessible(page)
    shots.take(page, "03-create-choose-provider")
    provider.select_option("MistralAI")
    page.get_by_label("Version").select_option("v1")
    assert_accessible(page)
    shots.take(page, "04-create-mistralai-v1")
    page.get_by_role("button", name="Next").click()

    page.get_by_label("Name").fill(name)
    page.get_by_label("Context").fill(context)
    page.get_by_label("Version").fill("0.0.2")
    expect(page.get_by_text("{version}/mistralaiapi").first).to_be_visible()  # the hint
    assert_accessible(page)
    shots.take(page, "05-create-api-details")
    page.get_by_role("button", name="Create").click()

    expect(page.get_by_role("heading", name=re.compile(re.escape(name)))).to_be_visible()
    expect(page).to_have_url(re.compile(r"/publisher/apis/[^/]+/overview$"))
    api = the_api(rest, context)
    assert api["name"] == name
    assert api["version"] == "0.0.2"
    assert api["aiVendor"] == {"name": "MistralAI", "version": "v1"}
    assert api["lifecycleStatus"] == "CREATED"
    expect(page.get_by_text(f"{stack.url('gateway')}/{context}/0.0.2")).to_be_visible()
    assert_accessible(page)
    shots.take(page, "06-api-overview")

    open_tab(page, "Endpoints")
    expect(page.get_by_role("group", name="Production")).to_be_visible()
    expect(page.get_by_role("group", name="Sandbox")).to_be_visible()
    assert_accessible(page)
    shots.take(page, "07-endpoints-api-key-required")
    set_endpoint(page, "Production", f"{mock}/production", "mock-provider-key")
    set_endpoint(page, "Sandbox", f"{mock}/sandbox", "mock-sandbox-key")
    production = page.get_by_role("group", name="Production")
    expect(production.get_by_text("****")).to_be_visible()
    expect(production.get_by_label("API Key")).to_have_value("")
    assert "mock-provider-key" not in page.content()
    assert_accessible(page)
    shots.take(page, "08-endpoints-keys-saved")
    security = rest.get(f"/apis/{api['id']}/backend-security").json()
    assert security["production"]["apiKey"].startswith("****")
    assert security["sandbox"]["apiKey"].startswith("****")
    assert "mock-provider-key" not in str(security)
    endpoints = rest.get(f"/apis/{api['id']}").json()["endpoints"]
    assert endpoints == {"production": f"{mock}/production", "sandbox": f"{mock}/sandbox"}

    open_tab(page, "Policies")
    expect(page.get_by_role("checkbox", name="Unlimited", exact=True)).to_be_checked()
    page.get_by_role("checkbox", name="Gold", exact=True).check()
    assert_accessible(page)
    shots.take(page, "09-policies")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    assert rest.get(f"/apis/{api['id']}").json()["policies"] == ["Unlimited", "Gold"]
    shots.take(page, "10-policies-saved")

    open_tab(page, "Routing")
    expect(page.get_by_label("Routing (JSON)")).to_be_visible()
    expect(page.get_by_text("No routing policy").first).to_be_visible()
    assert_accessible(page)
    shots.take(page, "11-routing")

    open_tab(page, "Deployments")
    expect(page.get_by_text("Not deployed")).to_be_visible()
    assert_accessible(page)
    shots.take(page, "12-deployments")
    page.get_by_role("button", name="Deploy", exact=True).click()
    expect(page.get_by_role("cell", name="Revision 1")).to_be_visible()
    assert rest.get(f"/apis/{api['id']}").json()["deployedRevision"] == 1
    assert_accessible(page)
    shots.take(page, "13-deployed")

    open_tab(page, "Lifecycle")
    expect(page.get_by_text("CREATED").first).to_be_visible()
    assert_accessible(page)
    shots.take(page, "14-lifecycle")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("main").get_by_text("PUBLISHED").first).to_be_visible()
    assert rest.get(f"/apis/{api['id']}").json()["lifecycleStatus"] == "PUBLISHED"
    assert_accessible(page)
    shots.take(page, "15-published")

    open_tab(page, "Usage")
    expect(page.get_by_role("heading", name="Usage")).to_be_visible()
    assert_accessible(page)
    shots.take(page, "16-usage")

    open_tab(page, "Overview")
    expect(page.get_by_text("Revision 1").or_(page.get_by_text("1", exact=True))).to_be_visible()
    shots.take(page, "17-overview-published")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="APIs").click()
    row = page.get_by_role("row").filter(has_text=name)
    expect(row.get_by_text("PUBLISHED")).to_be_visible()
    page.get_by_label("Search").fill(context)
    expect(page.get_by_role("row")).to_have_count(2)  # the header and this API
    assert_accessible(page)
    shots.take(page, "18-apis-published")

    # a subscriber's key works at the gateway: the provider key set in the UI reaches it
    app_id = portal.subscribed_app(api["id"])
    key = portal.key(app_id, "PRODUCTION")
    path = f"/{context}/0.0.2/v1/chat/completions"
    eventually_sync(lambda: portal.chat(path, key).status_code, 200)
    answer = portal.chat(path, key)
    assert answer.json()["choices"][0]["message"]["content"]
    page.reload()
    expect(page.get_by_role("row").filter(has_text=name)).to_be_visible()
    shots.take(page, "19-walkthrough-done")

    # the seed's second half, on the API this walkthrough made: in the Developer Portal, open
    # it, Try Out, Get Test Key, POST /v1/chat/completions, Try it out, Execute
    developer = page.context.browser.new_context(viewport={"width": 1280, "height": 860})
    developer.add_init_script(WATCH_SCRIPT)
    dev = developer.new_page()
    sign_in(dev, f"{stack.url('devportal')}/devportal", *users["subscriber"])
    dev.get_by_label("Search").fill(name)
    dev.get_by_role("link", name=name).click()
    dev.get_by_role("link", name="Try Out").click()
    dev.get_by_role("button", name="Get Test Key").click()
    expect(dev.get_by_label("API Key")).to_have_value(re.compile(r".{20,}"))
    operation(dev, "POST", "/v1/chat/completions").click()
    dev.get_by_role("button", name="Try it out").click()
    execute(dev, CHAT_BODY)
    console = dev.get_by_test_id("swagger-ui")
    expect(console.get_by_text("[production] Mock reply").first).to_be_visible()
    expect(console.get_by_role("cell", name="200", exact=True).first).to_be_visible()
    assert not csp_violations(dev)
    developer.close()


def test_an_api_named_like_markup_is_shown_as_text(
    page: Page, stack: Stack, users, rest: httpx.Client
) -> None:
    context = unique_context()
    api = create_via_rest(rest, stack, XSS, context)
    sign_in(page, publisher_url(stack), *users["publisher"])
    page.get_by_label("Search").fill(context)
    expect(page.get_by_role("link", name=XSS)).to_be_visible()
    assert page.locator('img[src="x"]').count() == 0
    page.get_by_role("link", name=XSS).click()
    expect(page.get_by_role("heading", name=re.compile(re.escape(XSS)))).to_be_visible()
    expect(page.get_by_role("main").get_by_text(XSS, exact=True).first).to_be_visible()
    assert page.locator('img[src="x"]').count() == 0
    assert_accessible(page)
    assert (
        rest.get(f"/apis/{api['id']}").json()["name"] == XSS
    )  # (the page fixture fails on a dialog)


def test_a_duplicate_context_shows_its_error_next_to_context(
    page: Page, stack: Stack, users, rest: httpx.Client
) -> None:
    context = unique_context()
    create_via_rest(rest, stack, f"first-{context}", context)
    sign_in(page, publisher_url(stack, "/create"), *users["publisher"])
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Name").fill(f"second-{context}")
    page.get_by_label("Context").fill(context)
    page.get_by_label("Version").fill("0.0.2")
    page.get_by_role("button", name="Create").click()
    context_field = page.get_by_label("Context")
    expect(context_field).to_have_attribute("aria-invalid", "true")
    expect(context_field).to_have_accessible_description(re.compile("same context and version"))
    assert_accessible(page)
    # and an invalid field (422) is named too: no API was created
    page.get_by_label("Context").fill("not a context!")
    page.get_by_role("button", name="Create").click()
    expect(page.get_by_label("Context")).not_to_have_accessible_description(
        re.compile("same context and version")
    )
    expect(page.get_by_label("Context")).to_have_attribute("aria-invalid", "true")
    assert len([a for a in rest.get("/apis").json()["list"] if a["context"] == context]) == 1


def test_publishing_an_api_that_is_not_deployed_shows_why(
    page: Page, stack: Stack, users, rest: httpx.Client
) -> None:
    context = unique_context()
    api = create_via_rest(rest, stack, f"undeployed-{context}", context)
    sign_in(page, publisher_url(stack, f"/apis/{api['id']}/lifecycle"), *users["publisher"])
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("alert")).to_contain_text("not deployed")
    assert rest.get(f"/apis/{api['id']}").json()["lifecycleStatus"] == "CREATED"


def test_a_failing_service_shows_a_message(page: Page, stack: Stack, users) -> None:
    sign_in(page, publisher_url(stack), *users["publisher"])

    def fail(route: Route) -> None:
        route.fulfill(
            status=500,
            content_type="application/json",
            json={"code": 500, "message": "Internal server error", "description": "boom"},
        )

    page.route(re.compile(r".*/api/publisher/v1/apis$"), fail)
    page.reload()
    expect(page.get_by_role("alert")).to_contain_text("The service failed (500)")
    expect(page.get_by_role("heading", name="APIs")).to_be_visible()
    assert_accessible(page)


def test_the_list_and_an_api_page_fit_a_phone(
    page: Page, stack: Stack, users, rest: httpx.Client
) -> None:
    context = unique_context()
    api = create_via_rest(rest, stack, f"phone-{context}-with-a-rather-long-name", context)
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, publisher_url(stack), *users["publisher"])
    expect(page.get_by_role("link", name=re.compile(context))).to_be_visible()
    assert no_horizontal_scroll(page)
    loaded = {
        "overview": page.get_by_role("heading", name="Invocation URL"),
        "endpoints": page.get_by_role("group", name="Sandbox"),
        "routing": page.get_by_label("Routing (JSON)"),
    }
    for tab, content in loaded.items():
        page.goto(publisher_url(stack, f"/apis/{api['id']}/{tab}"))
        expect(page.get_by_role("navigation", name="API")).to_be_visible()
        expect(content).to_be_visible()
        assert no_horizontal_scroll(page), tab
    assert_accessible(page)
