"""The application page's actions in the Developer Portal, as a signed-up developer: change a
subscription's plan, Unsubscribe, Regenerate and Revoke a key, revoke an OAuth2 consumer key,
each destructive one through its confirmation dialog, and each proved through the REST APIs
and at the gateway (or keymanager's token endpoint). Also the sign-up page's 429.

Sign-ups are counted per client address (DEVPORTAL_SIGNUP_PER_MINUTE). The e2e stack trusts
127.0.0.1 as a proxy, so every sign-up here names its own made-up address in X-Forwarded-For
(added on the way by a route): none of them spends the budget the other tests share."""

import itertools
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, Route, expect

from aigw.devtools.stack import Stack
from tests.support.browser import Shots, assert_accessible, sign_in
from tests.support.portal import Portal, devportal_url, user_client
from tests.support.waiting import eventually_sync

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

PLAN_REQUESTS = 2  # the low plan's requests a minute
SIGNUP_PER_MINUTE = 5  # DEVPORTAL_SIGNUP_PER_MINUTE's default, which the e2e stack keeps
GATEWAY_POLL = {"timeout": 15.0, "interval": 0.2}  # gentle on a loaded CI machine


_addresses = itertools.count(1)


def an_address() -> str:
    """A made-up client address (in 198.18.0.0/15, for benchmarking, never a real client),
    a new one each call: one sign-up budget no other test spends."""
    n = next(_addresses)
    return f"198.18.{n // 250}.{n % 250 + 1}"


def from_address(page: Page, address: str) -> None:
    """The page's sign-up requests arrive as if from `address` (behind the trusted proxy)."""

    def forwarded(route: Route) -> None:
        route.continue_(headers={**route.request.headers, "x-forwarded-for": address})

    page.route("**/api/devportal/v1/signup", forwarded)


@pytest.fixture(scope="module")
def metered(portal: Portal) -> dict[str, Any]:
    """A published API offering Unlimited and a plan of PLAN_REQUESTS requests a minute, made
    by the admin through the REST APIs."""
    plan = f"TwoPerMinute{uuid.uuid4().hex[:6]}"
    created = portal.pub.post(
        "/subscription-policies",
        json={"name": plan, "limits": [{"unit": "minute", "requests": PLAN_REQUESTS}]},
    )
    assert created.status_code == 201, created.text
    context = f"appactions{uuid.uuid4().hex[:6]}"
    api = portal.create_api(context)
    offered = portal.pub.patch(f"/apis/{api['id']}", json={"policies": ["Unlimited", plan]})
    assert offered.status_code == 200, offered.text
    portal.secure_deploy_publish(api["id"])
    eventually_sync(lambda: plan in portal.dev.get(f"/apis/{api['id']}").json().get("policies", []))
    return {
        **api,
        "plan": plan,
        "label": f"{api['name']} 0.0.2",
        "path": f"/{context}/0.0.2/v1/chat/completions",
    }


@dataclass
class Developer:
    username: str
    password: str
    rest: httpx.Client  # devportal's REST API as this developer


@pytest.fixture
def developer(page: Page, stack: Stack) -> Iterator[Developer]:
    """A developer signed up through the page (from an address of its own), then signed in."""
    username, password = f"dev-{uuid.uuid4().hex[:8]}", "developer-password-1"
    from_address(page, an_address())
    page.goto(f"{devportal_url(stack)}/signup")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_text(f"Your account {username} is ready")).to_be_visible()
    sign_in(page, devportal_url(stack), username, password)
    with user_client(stack, username, password) as rest:
        yield Developer(username, password, rest)


def subscribed_app(me: Developer, api_id: str, policy: str = "Unlimited") -> str:
    """An application of the developer's, subscribed to the API (set up through REST)."""
    app = me.rest.post("/applications", json={"name": f"app-{uuid.uuid4().hex[:6]}"})
    assert app.status_code == 201, app.text
    sub = me.rest.post(
        "/subscriptions",
        json={"applicationId": app.json()["id"], "apiId": api_id, "policy": policy},
    )
    assert sub.status_code == 201, sub.text
    return str(app.json()["id"])


def new_key(me: Developer, app_id: str) -> str:
    response = me.rest.post(f"/applications/{app_id}/api-keys", json={"keyType": "PRODUCTION"})
    assert response.status_code == 201, response.text
    return str(response.json()["apiKey"])


def open_application(page: Page, stack: Stack, app_id: str) -> None:
    page.goto(f"{devportal_url(stack)}/applications/{app_id}")
    expect(page.get_by_role("region", name="Subscriptions").get_by_role("table")).to_be_visible()


def confirm(page: Page, dialog: str, button: str) -> None:
    """The open confirmation dialog named `dialog`: checked for accessibility, then confirmed."""
    asked = page.get_by_role("dialog", name=dialog)
    expect(asked).to_be_visible()
    assert_accessible(page)
    asked.get_by_role("button", name=button, exact=True).click()
    expect(asked).to_be_hidden()


def status_is(portal: Portal, path: str, key: str, status: int) -> bool:
    return portal.chat(path, key).status_code == status


def test_change_plan_then_unsubscribe(
    page: Page,
    stack: Stack,
    portal: Portal,
    metered: dict[str, Any],
    developer: Developer,
    shots: Shots,
) -> None:
    app_id = subscribed_app(developer, metered["id"])
    key = new_key(developer, app_id)
    eventually_sync(lambda: status_is(portal, metered["path"], key, 200), **GATEWAY_POLL)
    open_application(page, stack, app_id)
    subscriptions = page.get_by_role("region", name="Subscriptions")
    plan = subscriptions.get_by_label(f"Business plan for {metered['label']}")
    expect(plan).to_have_value("Unlimited")
    assert_accessible(page)

    # change plan: the REST API shows the low plan, and the gateway holds calls to it
    plan.select_option(metered["plan"])

    def plan_is_saved() -> bool:
        subs = developer.rest.get("/subscriptions", params={"applicationId": app_id}).json()
        return [s["policy"] for s in subs["list"]] == [metered["plan"]]

    eventually_sync(plan_is_saved)
    page.reload()
    plan = page.get_by_role("region", name="Subscriptions").get_by_label(
        f"Business plan for {metered['label']}"
    )
    expect(plan).to_have_value(metered["plan"])  # as saved, not as last chosen
    assert_accessible(page)
    shots.take(page, "30-devportal-change-plan")

    def plan_applies() -> bool:
        answer = portal.chat(metered["path"], key)
        return answer.headers.get("x-ratelimit-limit-requests") == str(PLAN_REQUESTS)

    eventually_sync(plan_applies, **GATEWAY_POLL)
    # at most PLAN_REQUESTS more calls are served in this minute, then 429
    statuses = [portal.chat(metered["path"], key).status_code for _ in range(PLAN_REQUESTS + 1)]
    assert statuses[-1] == 429, statuses

    # Unsubscribe, after the confirmation: the subscription is gone and the key gets 403
    subscriptions = page.get_by_role("region", name="Subscriptions")
    subscriptions.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("dialog", name="Unsubscribe")).to_contain_text(metered["label"])
    shots.take(page, "31-devportal-unsubscribe-confirm")
    confirm(page, "Unsubscribe", "Unsubscribe")
    expect(subscriptions.get_by_text("No subscriptions yet")).to_be_visible()
    # the API is offered again
    expect(subscriptions.get_by_label("API", exact=True)).to_contain_text(metered["label"])
    assert_accessible(page)
    shots.take(page, "32-devportal-unsubscribed")
    gone = developer.rest.get("/subscriptions", params={"applicationId": app_id}).json()
    assert gone["list"] == []
    eventually_sync(lambda: status_is(portal, metered["path"], key, 403), **GATEWAY_POLL)


def test_regenerate_then_revoke_a_key(
    page: Page,
    stack: Stack,
    portal: Portal,
    metered: dict[str, Any],
    developer: Developer,
    shots: Shots,
) -> None:
    app_id = subscribed_app(developer, metered["id"])
    old = new_key(developer, app_id)
    eventually_sync(lambda: status_is(portal, metered["path"], old, 200), **GATEWAY_POLL)
    open_application(page, stack, app_id)
    production = page.get_by_role("region", name="Production")
    expect(production.get_by_role("row")).to_have_count(2)  # the header and the one key
    assert_accessible(page)

    # Regenerate, after the confirmation: the new key is shown once and works, the old is 401
    production.get_by_role("button", name="Regenerate").click()
    expect(page.get_by_role("dialog", name="Regenerate")).to_contain_text("old one stop working")
    shots.take(page, "33-devportal-regenerate-confirm")
    confirm(page, "Regenerate", "Regenerate")
    shown = production.get_by_label("API key", exact=True)
    expect(shown).to_have_text(re.compile(r".{20,}"))
    expect(production.get_by_text("it will not be shown again")).to_be_visible()
    regenerated = shown.inner_text()
    assert regenerated != old
    assert_accessible(page)
    shots.take(page, "34-devportal-regenerated-key")
    eventually_sync(lambda: status_is(portal, metered["path"], regenerated, 200), **GATEWAY_POLL)
    eventually_sync(lambda: status_is(portal, metered["path"], old, 401), **GATEWAY_POLL)
    keys = developer.rest.get(f"/applications/{app_id}/api-keys").json()["list"]
    live = [k for k in keys if k["keyType"] == "PRODUCTION" and not k["revoked"]]
    assert len(live) == 1, keys
    assert regenerated not in str(keys)  # listed masked only

    # Revoke, after the confirmation: the key is gone from the page and 401 at the gateway
    production.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("dialog", name="Revoke")).to_contain_text(live[0]["maskedKey"])
    shots.take(page, "35-devportal-revoke-key-confirm")
    confirm(page, "Revoke", "Revoke")
    expect(production.get_by_text("No production keys")).to_be_visible()
    expect(production.get_by_label("API key", exact=True)).to_have_count(0)  # no longer shown
    assert_accessible(page)
    shots.take(page, "36-devportal-key-revoked")
    keys = developer.rest.get(f"/applications/{app_id}/api-keys").json()["list"]
    assert [k for k in keys if not k["revoked"]] == [], keys
    eventually_sync(lambda: status_is(portal, metered["path"], regenerated, 401), **GATEWAY_POLL)


def test_revoke_an_oauth_consumer_key(
    page: Page,
    stack: Stack,
    metered: dict[str, Any],
    developer: Developer,
    shots: Shots,
) -> None:
    app_id = subscribed_app(developer, metered["id"])
    issued = developer.rest.post(
        f"/applications/{app_id}/oauth-keys", json={"keyType": "PRODUCTION"}
    )
    assert issued.status_code == 201, issued.text
    consumer_key, secret = issued.json()["consumerKey"], issued.json()["consumerSecret"]
    token_url = f"{stack.url('keymanager')}/api/keymanager/v1/oauth2/token"

    def token() -> httpx.Response:
        return httpx.post(
            token_url, auth=(consumer_key, secret), data={"grant_type": "client_credentials"}
        )

    assert token().status_code == 200
    open_application(page, stack, app_id)
    oauth = page.get_by_role("region", name="OAuth2 consumer keys")
    expect(oauth.get_by_role("cell", name=consumer_key)).to_be_visible()
    assert_accessible(page)

    oauth.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("dialog", name="Revoke")).to_contain_text(consumer_key)
    shots.take(page, "37-devportal-revoke-consumer-key-confirm")
    confirm(page, "Revoke", "Revoke")
    expect(oauth.get_by_text("No consumer keys")).to_be_visible()
    expect(oauth.get_by_role("cell", name=consumer_key)).to_have_count(0)
    assert_accessible(page)
    shots.take(page, "38-devportal-consumer-key-revoked")
    clients = developer.rest.get(f"/applications/{app_id}/oauth-keys").json()["list"]
    assert [c["consumerKey"] for c in clients if not c["revoked"]] == []
    eventually_sync(lambda: token().status_code, lambda status: status in (400, 401))
    refused = token()
    assert refused.status_code in (400, 401), refused.text
    assert "access_token" not in refused.text


def test_too_many_sign_ups_from_one_address(page: Page, stack: Stack, shots: Shots) -> None:
    address = an_address()
    signup_url = f"{stack.url('devportal')}/api/devportal/v1/signup"
    # spend the address's budget (refused passwords count too: the budget is spent first)
    for _ in range(SIGNUP_PER_MINUTE):
        spent = httpx.post(
            signup_url,
            json={"username": f"dev-{uuid.uuid4().hex[:8]}", "password": "x"},
            headers={"x-forwarded-for": address},
        )
        assert spent.status_code == 422, spent.text

    username = f"dev-{uuid.uuid4().hex[:8]}"
    from_address(page, address)
    page.goto(f"{devportal_url(stack)}/signup")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("developer-password-1")
    page.get_by_role("button", name="Sign up").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Too many sign-ups")
    expect(alert).to_contain_text(re.compile(r"(try|retry) (again )?in \d+ s", re.IGNORECASE))
    expect(page.get_by_text(f"Your account {username} is ready")).to_have_count(0)
    assert_accessible(page)
    shots.take(page, "39-devportal-sign-up-too-many")
    login = httpx.post(
        f"{stack.url('keymanager')}/api/keymanager/v1/auth/login",
        json={"username": username, "password": "developer-password-1"},
    )
    assert login.status_code == 401  # no account was made

    # the budget is the address's: from another one the same sign-up goes through
    page.unroute("**/api/devportal/v1/signup")
    from_address(page, an_address())
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_text(f"Your account {username} is ready")).to_be_visible()


def test_the_activity_list_shows_the_applications_history(
    page: Page, stack: Stack, metered: dict[str, Any], developer: Developer, shots: Shots
) -> None:
    """The application page's Activity, read across origins from publisher's audit trail."""
    app_id = subscribed_app(developer, metered["id"])
    new_key(developer, app_id)
    audit = httpx.Client(
        base_url=f"{stack.url('publisher')}/api/audit/v1",
        headers={"Authorization": developer.rest.headers["Authorization"]},
    )
    eventually_sync(
        lambda: audit.get("/events", params={"applicationId": app_id}).json().get("count"), 3
    )
    open_application(page, stack, app_id)
    activity = page.get_by_role("region", name="Activity")
    rows = activity.get_by_role("row")
    expect(rows).to_have_count(4)  # the header and three events, newest first
    expect(rows.nth(1)).to_contain_text("API key generated")
    expect(rows.nth(2)).to_contain_text("Subscribed")
    expect(rows.nth(3)).to_contain_text("Application created")
    expect(rows.nth(3)).to_contain_text(developer.username)
    assert_accessible(page)
    shots.take(page, "37-devportal-application-activity")
