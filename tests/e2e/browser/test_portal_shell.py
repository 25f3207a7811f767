"""What every portal shares: Sign in (and its errors), the role check, Log out, an expired
session, the strict CSP and the offline /docs."""

import re
import uuid

import httpx
import pytest
from playwright.sync_api import Page, expect

from aigw.devtools.stack import Stack
from tests.support.browser import assert_accessible, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

PORTALS = {"publisher": "/publisher", "admin": "/admin"}


def portal_url(stack: Stack, portal: str) -> str:
    host = "devportal" if portal == "devportal" else "publisher"
    return f"{stack.url(host)}/{portal}"


def test_each_portal_signs_in_and_out(page: Page, stack: Stack, users, shots) -> None:
    for portal, who in (
        ("publisher", "publisher"),
        ("admin", "admin"),
        ("devportal", "subscriber"),
    ):
        page.goto(portal_url(stack, portal))
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        assert_accessible(page)
        if portal == "publisher":
            shots.take(page, "01-publisher-sign-in")
        sign_in(page, portal_url(stack, portal), *users[who])
        assert_accessible(page)
        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def test_a_wrong_password_shows_the_error(page: Page, stack: Stack, users) -> None:
    page.goto(portal_url(stack, "publisher"))
    page.get_by_label("Username").fill(users["publisher"][0])
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("nvalid")
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)


def test_a_subscriber_is_not_allowed_in_the_publisher_portal(
    page: Page, stack: Stack, users
) -> None:
    page.goto(portal_url(stack, "publisher"))
    page.get_by_label("Username").fill(users["subscriber"][0])
    page.get_by_label("Password").fill(users["subscriber"][1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)


def test_an_expired_session_goes_back_to_sign_in(page: Page, stack: Stack, users) -> None:
    sign_in(page, portal_url(stack, "publisher"), *users["publisher"])
    # a token the API no longer accepts: the next call's 401 signs the user out
    page.evaluate(
        """() => {
            const [h, p, s] = sessionStorage.getItem("aigw.session").split(".");
            const claims = JSON.parse(atob(p.replace(/-/g, "+").replace(/_/g, "/")));
            claims.exp += 1;  // unexpired, but no longer what was signed (now + TTL could be)
            const forged = btoa(JSON.stringify(claims)).replace(/=+$/, "").replace(/\\+/g, "-").replace(/\\//g, "_");
            sessionStorage.setItem("aigw.session", [h, forged, s].join("."));
        }"""
    )
    page.reload()
    expect(page.get_by_text("Your session has expired")).to_be_visible()
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def test_pages_carry_a_strict_content_security_policy(stack: Stack) -> None:
    for url in (
        portal_url(stack, "publisher"),
        portal_url(stack, "admin"),
        portal_url(stack, "devportal") + "/apis/x",
    ):
        response = httpx.get(url)
        assert response.status_code == 200
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert "unsafe-eval" not in policy
        assert "<script>" not in response.text  # the only scripts are files


def test_docs_load_everything_from_this_machine(page: Page, stack: Stack) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    for service in ("publisher", "devportal", "keymanager", "gateway"):
        page.goto(f"{stack.url(service)}/docs")
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("aigw")
    page.goto(f"{stack.url('publisher')}/redoc")
    expect(page.get_by_role("heading", name="aigw publisher").first).to_be_visible()
    foreign = [
        url for url in requested if not url.startswith(("http://127.0.0.1", "data:", "blob:"))
    ]
    assert not foreign, foreign


def test_login_throttling_says_when_to_retry(page: Page, stack: Stack) -> None:
    page.goto(portal_url(stack, "devportal"))
    username = f"nobody-{uuid.uuid4().hex[:8]}"
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("wrong-password")
    # keymanager locks (user, address) after 5 failures (KEYMANAGER_LOGIN_MAX_FAILURES)
    for _ in range(5):
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_be_visible()
        expect(page.get_by_role("button", name="Sign in")).to_be_enabled()
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text(re.compile(r"(retry|Try again) in \d+ s"))
