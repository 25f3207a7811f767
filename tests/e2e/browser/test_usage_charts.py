"""Usage charts in both portals: after real calls through the gateway, the publisher's API
usage page and the developer's application page show the numbers the usage endpoints return
(totals, the per-hour and per-model tables, the application and API breakdowns); the From/To
picker refuses a reversed period and shows an empty one as such; a phone needs no sideways
scrolling."""

import re
import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from aigw.devtools.stack import Stack
from tests.support.browser import Shots, assert_accessible, no_horizontal_scroll, sign_in
from tests.support.portal import Portal
from tests.support.waiting import eventually_sync

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

CALLS = 3  # after the first call that shows the route is live


@pytest.fixture(scope="module")
def metered(portal: Portal) -> dict[str, Any]:
    """A published API with an application that made a few calls, all counted in usage."""
    api = portal.create_api(f"usagecharts{uuid.uuid4().hex[:6]}")
    portal.secure_deploy_publish(api["id"])
    app_id = portal.subscribed_app(api["id"])
    key = portal.key(app_id, "PRODUCTION")
    path = f"/{api['context']}/0.0.2/v1/chat/completions"
    eventually_sync(lambda: portal.chat(path, key).status_code, 200)
    for _ in range(CALLS):
        assert portal.chat(path, key).status_code == 200
    # refusals before the route was live carry no application, so they are not usage
    eventually_sync(
        lambda: totals(portal.pub, f"/apis/{api['id']}/usage")["requests"],
        lambda n: n >= CALLS + 1,
        timeout=20,
    )
    eventually_sync(
        lambda: totals(portal.dev, f"/applications/{app_id}/usage")["requests"],
        lambda n: n >= CALLS + 1,
        timeout=20,
    )
    return {"api": api, "app_id": app_id}


def report(client: httpx.Client, path: str, group_by: str) -> dict[str, Any]:
    response = client.get(path, params={"groupBy": group_by})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def totals(client: httpx.Client, path: str) -> dict[str, int]:
    counters: dict[str, int] = report(client, path, "model")["totals"]
    return counters


def number(value: int) -> re.Pattern[str]:
    """The value as the portal writes it (1,234), not as the tail of a larger number."""
    return re.compile(rf"(^|[^\d,]){value:,}(?![\d,])")


def expect_totals(page: Page, counters: dict[str, int]) -> None:
    shown = page.get_by_role("list", name="Totals")
    for field, label in (
        ("requests", "requests"),
        ("promptTokens", "prompt tokens"),
        ("completionTokens", "completion tokens"),
        ("totalTokens", "total tokens"),
    ):
        expect(shown.get_by_role("listitem").filter(has_text=label).first).to_have_text(
            re.compile(rf"^\s*{counters[field]:,}\s+{label}\s*$")
        )


def open_data(page: Page, title: str) -> Locator:
    figure = page.get_by_role("figure", name=title)
    expect(figure.get_by_role("img")).to_be_visible()
    figure.get_by_text("Show data").click()
    expect(figure.get_by_role("table")).to_be_visible()
    return figure


def expect_row(figure: Locator, key: str, values: list[int]) -> None:
    row = figure.get_by_role("row").filter(has=figure.page.get_by_role("rowheader", name=key))
    expect(row).to_have_count(1)
    expect(row.get_by_role("cell")).to_have_text([f"{v:,}" for v in values])


def expect_hour_table(figure: Locator, hours: list[dict[str, Any]]) -> None:
    """One row per hour with calls, in order, with the API's request counts."""
    cells = figure.get_by_role("row").filter(has=figure.page.get_by_role("rowheader"))
    expect(cells).to_have_count(len(hours))
    expect(figure.get_by_role("row").get_by_role("cell")).to_have_text(
        [f"{h['requests']:,}" for h in hours]
    )


def expect_phone_fits(page: Page, shots: Shots, name: str) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.get_by_role("figure", name="Requests per hour").get_by_role("img")).to_be_visible()
    assert no_horizontal_scroll(page)
    shots.take(page, name)
    page.set_viewport_size({"width": 1280, "height": 860})


def test_publisher_api_usage_charts_show_what_the_api_reports(
    page: Page, stack: Stack, portal: Portal, users: dict[str, tuple[str, str]], metered, shots
) -> None:
    api_id = metered["api"]["id"]
    path = f"/apis/{api_id}/usage"
    sign_in(page, f"{stack.url('publisher')}/publisher", *users["admin"])
    page.goto(f"{stack.url('publisher')}/publisher{path}")
    expect(page.get_by_label("From", exact=True)).to_be_visible()
    expect(page.get_by_label("To", exact=True)).to_be_visible()

    counters = totals(portal.pub, path)
    expect_totals(page, counters)
    chart = page.get_by_role("figure", name="Requests per hour").get_by_role("img")
    expect(chart).to_have_attribute(
        "aria-label", re.compile(rf"^Requests per hour: {counters['requests']:,} requests")
    )
    shots.take(page, "60-publisher-api-usage")
    assert_accessible(page)

    hours = open_data(page, "Requests per hour")
    expect_hour_table(hours, report(portal.pub, path, "hour")["groups"])
    by_model = open_data(page, "Requests by model")
    for group in report(portal.pub, path, "model")["groups"]:
        expect_row(by_model, group["key"], [group["requests"]])
    by_app = open_data(page, "Requests by application")
    (app_group,) = report(portal.pub, path, "application")["groups"]
    assert app_group["key"] == metered["app_id"]
    # the row is named after the application, as the report names the group
    app_name = portal.dev.get(f"/applications/{metered['app_id']}").json()["name"]
    assert app_group["name"] == app_name
    expect_row(by_app, app_name, [app_group["requests"]])
    tokens = open_data(page, "Tokens by model")
    for group in report(portal.pub, path, "model")["groups"]:
        expect_row(
            tokens,
            group["key"],
            [group["promptTokens"], group["completionTokens"], group["totalTokens"]],
        )
    shots.take(page, "61-publisher-api-usage-data")
    assert_accessible(page)  # with the tables open

    page.get_by_role("button", name="Last 7 days").click()
    expect_totals(page, counters)
    expect_phone_fits(page, shots, "62-publisher-api-usage-phone")


def test_devportal_application_usage_charts_show_what_the_api_reports(
    page: Page, stack: Stack, portal: Portal, users: dict[str, tuple[str, str]], metered, shots
) -> None:
    app_id = metered["app_id"]
    path = f"/applications/{app_id}/usage"
    sign_in(page, f"{stack.url('devportal')}/devportal", *users["admin"])
    page.goto(f"{stack.url('devportal')}/devportal/applications/{app_id}")

    counters = totals(portal.dev, path)
    expect_totals(page, counters)
    shots.take(page, "63-devportal-application-usage")
    assert_accessible(page)

    by_api = open_data(page, "Requests by API")
    (api_group,) = report(portal.dev, path, "api")["groups"]
    assert api_group["key"] == metered["api"]["id"]
    # the row is named after the API as the catalogue lists it, not by its id
    api = metered["api"]
    expect_row(by_api, f"{api['name']} {api['version']}", [api_group["requests"]])
    by_model = open_data(page, "Requests by model")
    for group in report(portal.dev, path, "model")["groups"]:
        expect_row(by_model, group["key"], [group["requests"]])
    hours = open_data(page, "Requests per hour")
    expect_hour_table(hours, report(portal.dev, path, "hour")["groups"])
    shots.take(page, "64-devportal-application-usage-data")
    assert_accessible(page)
    expect_phone_fits(page, shots, "65-devportal-application-usage-phone")


def test_the_period_picker_refuses_a_reversed_period_and_shows_an_empty_one(
    page: Page, stack: Stack, users: dict[str, tuple[str, str]], metered, shots
) -> None:
    sign_in(page, f"{stack.url('devportal')}/devportal", *users["admin"])
    page.goto(f"{stack.url('devportal')}/devportal/applications/{metered['app_id']}")
    expect(page.get_by_role("figure", name="Requests per hour")).to_be_visible()

    page.get_by_label("From", exact=True).fill("2021-01-02T00:00")
    page.get_by_label("To", exact=True).fill("2021-01-01T00:00")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("'To' must be later than 'From'.")).to_be_visible()
    expect(page.get_by_label("To", exact=True)).to_have_attribute("aria-invalid", "true")
    shots.take(page, "66-usage-period-refused")

    page.get_by_label("To", exact=True).fill("2021-01-09T00:00")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_text("No calls in this period")).to_be_visible()
    expect(page.get_by_role("list", name="Totals")).to_contain_text(number(0))
    expect(page.get_by_role("figure")).to_have_count(0)
    shots.take(page, "67-usage-empty-period")
    assert_accessible(page)

    page.get_by_role("button", name="Last 24 hours").click()
    expect(page.get_by_role("figure", name="Requests per hour")).to_be_visible()


def test_someone_elses_application_usage_is_an_error_not_a_chart(
    page: Page, stack: Stack, users: dict[str, tuple[str, str]], metered
) -> None:
    sign_in(page, f"{stack.url('devportal')}/devportal", *users["subscriber"])
    page.goto(f"{stack.url('devportal')}/devportal/applications/{metered['app_id']}")
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_role("figure")).to_have_count(0)
    expect(page.get_by_role("list", name="Totals")).to_have_count(0)


def test_publisher_api_history_shows_its_audit_trail(
    page: Page, stack: Stack, portal: Portal, users: dict[str, tuple[str, str]], metered, shots
) -> None:
    """The API's History tab: its events from the audit trail, newest first, as the API says."""
    api_id = metered["api"]["id"]
    audit = httpx.Client(
        base_url=f"{stack.url('publisher')}/api/audit/v1",
        headers={"Authorization": portal.pub.headers["Authorization"]},
    )
    events = eventually_sync(
        lambda: audit.get("/events", params={"subject": api_id}).json().get("list", []),
        lambda found: "aigw.api.published" in [e["type"] for e in found],
    )
    sign_in(page, f"{stack.url('publisher')}/publisher", *users["admin"])
    page.goto(f"{stack.url('publisher')}/publisher/apis/{api_id}/history")
    rows = page.get_by_role("region", name="History").get_by_role("row")
    expect(rows).to_have_count(len(events) + 1)  # the header, then one row per event
    expect(rows.nth(1).get_by_role("cell").nth(1)).to_have_attribute("title", events[0]["type"])
    expect(rows.nth(len(events)).get_by_role("cell").nth(1)).to_have_text("API created")
    expect(page.get_by_role("region", name="History")).to_contain_text("Published")
    assert_accessible(page)
    shots.take(page, "62-publisher-api-history")
