"""The calls one by one and the activity feed, in the portals: after real calls through the
gateway (served, refused by the provider, failed), the publisher's API usage page and the
developer's application page list the calls the calls endpoints return, newest first, with
their filters and "Load more"; the Admin Portal's Activity page shows the audit trail, filtered
by subject and paged. Each is checked against the REST API."""

import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from aigw.devtools.stack import Stack
from tests.support.browser import Shots, assert_accessible, sign_in
from tests.support.portal import Portal
from tests.support.waiting import eventually_sync

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

SERVED = 26  # more than a page (25) of the portals' calls list, with the two below
PAGE = 25


@pytest.fixture(scope="module")
def called(portal: Portal) -> dict[str, Any]:
    """A published API whose application made served, refused (429) and failed (500) calls."""
    segment = f"callslist{uuid.uuid4().hex[:6]}"  # the mock's settings for this API's calls only
    api = portal.create_api(
        segment, production=f"{portal.mock}/{segment}", sandbox=f"{portal.mock}/sandbox"
    )
    portal.secure_deploy_publish(api["id"])
    app_id = portal.subscribed_app(api["id"])
    key = portal.key(app_id, "PRODUCTION")
    path = f"/{api['context']}/0.0.2/v1/chat/completions"
    eventually_sync(lambda: portal.chat(path, key).status_code, 200)
    for _ in range(SERVED - 1):
        assert portal.chat(path, key).status_code == 200
    mock = httpx.Client(base_url=portal.mock)
    try:
        mock.post("/_mock/config", json={"segments": {segment: {"failStatus": 429}}})
        assert portal.chat(path, key).status_code == 429
        mock.post("/_mock/config", json={"segments": {segment: {"failStatus": 500}}})
        assert portal.chat(path, key).status_code >= 500
    finally:
        mock.post("/_mock/config", json={"segments": {}})
    calls_path = f"/apis/{api['id']}/usage/calls"
    eventually_sync(
        lambda: len(every_call(portal.pub, calls_path)),
        lambda n: n >= SERVED + 2,
        timeout=20,
    )
    app_path = f"/applications/{app_id}/usage/calls"
    eventually_sync(
        lambda: len(every_call(portal.dev, app_path)), lambda n: n >= SERVED + 2, timeout=20
    )
    return {"api": api, "app_id": app_id, "calls_path": calls_path, "app_path": app_path}


def every_call(client: httpx.Client, path: str, **params: str) -> list[dict[str, Any]]:
    response = client.get(path, params={"limit": "200", **params})
    assert response.status_code == 200, response.text
    calls: list[dict[str, Any]] = response.json()["list"]
    return calls


def call_rows(region: Locator) -> Locator:
    """The calls table's rows, the header left out."""
    return region.get_by_role("row").filter(has=region.page.get_by_role("cell"))


def calls_region(
    page: Page, stack: Stack, users: dict[str, tuple[str, str]], portal: str, path: str
) -> tuple[Locator, Locator]:
    """The Calls region of a page of `portal` (publisher, devportal), signed in as the admin
    (the application's owner), and its rows, once the first page of them is shown."""
    sign_in(page, f"{stack.url(portal)}/{portal}", *users["admin"])
    page.goto(f"{stack.url(portal)}/{portal}/{path}")
    calls = page.get_by_role("region", name="Calls")
    rows = call_rows(calls)
    expect(rows).to_have_count(PAGE)
    return calls, rows


def filter_by(region: Locator, label: str, value: str) -> None:
    """The list's filter field `label` set to `value` and the filters applied."""
    region.get_by_label(label).fill(value)
    region.get_by_role("button", name="Filter").click()


def test_the_publishers_calls_list_pages_and_filters_as_the_api_does(
    page: Page,
    stack: Stack,
    portal: Portal,
    users: dict[str, tuple[str, str]],
    called,
    shots: Shots,
) -> None:
    api = called["api"]
    expected = every_call(portal.pub, called["calls_path"])
    calls, rows = calls_region(page, stack, users, "publisher", f"apis/{api['id']}/usage")
    expect(rows.first).to_contain_text(expected[0]["requestId"])  # newest first
    outcomes = page.get_by_role("list", name="Outcomes")
    expect(outcomes.get_by_role("listitem").filter(has_text="refused")).to_contain_text("1")
    shots.take(page, "70-publisher-api-calls")
    assert_accessible(page)

    calls.get_by_role("button", name="Load more").click()
    expect(rows).to_have_count(len(expected))
    expect(calls.get_by_role("button", name="Load more")).to_have_count(0)
    shown = [rows.nth(i).get_by_role("cell").nth(1).inner_text() for i in range(len(expected))]
    assert shown == [call["requestId"] for call in expected]  # every call once, in order

    filter_by(calls, "Status", "4x")
    expect(calls.get_by_label("Status")).to_have_attribute("aria-invalid", "true")
    filter_by(calls, "Status", "4xx")
    (refused,) = every_call(portal.pub, called["calls_path"], status="4xx")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(refused["requestId"])
    expect(rows.first).to_contain_text("429")
    expect(rows.first).to_contain_text("refused")
    expect(rows.first).to_contain_text(refused["applicationName"])
    shots.take(page, "71-publisher-api-calls-filtered")
    assert_accessible(page)

    calls.get_by_role("button", name="Clear").click()
    expect(rows).to_have_count(PAGE)


def test_the_developers_calls_list_filters_by_outcome_and_request_id(
    page: Page,
    stack: Stack,
    portal: Portal,
    users: dict[str, tuple[str, str]],
    called,
    shots: Shots,
) -> None:
    api = called["api"]
    app_page = f"applications/{called['app_id']}"
    calls, rows = calls_region(page, stack, users, "devportal", app_page)
    expect(calls.get_by_role("button", name="Load more")).to_be_visible()

    calls.get_by_label("Outcome").select_option("error")
    calls.get_by_role("button", name="Filter").click()
    (failed,) = every_call(portal.dev, called["app_path"], outcome="error")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(failed["requestId"])
    expect(rows.first).to_contain_text(f"{api['name']} {api['version']}")  # named, not by id
    expect(calls.get_by_role("button", name="Load more")).to_have_count(0)

    served = every_call(portal.dev, called["app_path"], outcome="served")[3]
    calls.get_by_label("Outcome").select_option("")
    filter_by(calls, "Request ID", served["requestId"])
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("served")
    shots.take(page, "72-devportal-application-calls")
    assert_accessible(page)

    filter_by(calls, "Request ID", "no-such-request")
    expect(calls).to_contain_text("No call matches these filters.")


def test_the_admin_activity_page_shows_the_audit_trail(
    page: Page,
    stack: Stack,
    portal: Portal,
    users: dict[str, tuple[str, str]],
    called,
    shots: Shots,
) -> None:
    api_id = called["api"]["id"]
    audit = httpx.Client(
        base_url=f"{stack.url('publisher')}/api/audit/v1",
        headers={"Authorization": portal.pub.headers["Authorization"]},
    )
    history = eventually_sync(
        lambda: audit.get("/events", params={"subject": api_id}).json().get("list", []),
        lambda found: "aigw.api.published" in [e["type"] for e in found],
    )
    newest = audit.get("/events", params={"limit": "20"}).json()
    sign_in(page, f"{stack.url('publisher')}/admin", *users["admin"])
    page.get_by_role("link", name="Activity").click()
    expect(page.get_by_role("heading", name="Activity", level=1)).to_be_visible()

    events = page.get_by_role("region", name="Events")
    rows = call_rows(events)
    expect(rows).to_have_count(len(newest["list"]))
    # the feed shows what the trail holds, newest first (more may have arrived since)
    expect(rows.first.get_by_role("cell").nth(1)).to_have_attribute(
        "title", newest["list"][0]["type"]
    )
    if newest["nextCursor"]:
        events.get_by_role("button", name="Load more").click()
        expect(rows).not_to_have_count(len(newest["list"]))
    shots.take(page, "73-admin-activity")
    assert_accessible(page)

    filter_by(events, "Subject", api_id)
    expect(rows).to_have_count(len(history))
    expect(rows.last.get_by_role("cell").nth(1)).to_have_text("API created")
    expect(events).to_contain_text("Published")
    for i, event in enumerate(history):
        expect(rows.nth(i).get_by_role("cell").nth(3)).to_have_text(event["subject"])
    shots.take(page, "74-admin-activity-of-an-api")
    assert_accessible(page)
