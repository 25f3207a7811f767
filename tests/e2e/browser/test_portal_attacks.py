"""The portals as an attacker sees them: hostile strings stored through the REST APIs (an API's
name and description, an application's name, a username, a plan, and above all a custom AI
vendor's OpenAPI document, whose descriptions Swagger UI renders as Markdown in Try Out), then
every page that shows them opened in Chromium. The `page` fixture already fails a test on a
JavaScript dialog, a CSP violation or a script error; these tests also check that the markup
is inert (no element with an event handler, no `javascript:` link) and where the tokens go."""

import re
import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, Request, expect

from aigw.devtools.stack import Stack
from tests.support.browser import operation, sign_in
from tests.support.portal import ADMIN_PASSWORD, Portal
from tests.support.vendors import ACME_VENDOR
from tests.support.waiting import eventually_sync

# Each payload tries another way to run script or to leave the page: dialogs fail the test
# (the `page` fixture), and INERT_DOM finds what survived as markup.
XSS = (
    "<img src=x onerror=\"alert('img')\">"
    "<script>alert('script')</script>"
    "<svg onload=\"alert('svg')\"></svg>"
    "<iframe src=\"javascript:alert('iframe')\"></iframe>"
    "<a href=\"javascript:alert('a')\">html link</a>"
    " [markdown link](javascript:alert('md'))"
    ' <form action="https://evil.example/"><button>go</button></form>'
)

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

# Every element, shadow roots included: one whose attributes could run script
INERT_DOM = """() => {
    const bad = [];
    const visit = (root) => {
        for (const el of root.querySelectorAll("*")) {
            for (const attr of el.attributes) {
                const value = attr.value.trim().toLowerCase().replace(/\\s/g, "");
                if (attr.name.startsWith("on") || value.startsWith("javascript:")
                    || (attr.name === "src" && value.startsWith("data:text/html"))) {
                    bad.push(el.outerHTML.slice(0, 200));
                }
            }
            // the portals' own forms post nowhere (no action): one with an action is the payload's
            const active = ["SCRIPT", "IFRAME", "OBJECT", "EMBED"].includes(el.tagName)
                || (el.tagName === "FORM" && el.hasAttribute("action"));
            if (active && el.closest("main")) {
                bad.push(el.outerHTML.slice(0, 200));
            }
            if (el.shadowRoot) visit(el.shadowRoot);
        }
    };
    visit(document);
    return bad;
}"""


def assert_inert(page: Page) -> None:
    assert page.evaluate(INERT_DOM) == []


def hostile_vendor(stack: Stack) -> dict[str, Any]:
    """Acme with an OpenAPI document written by an attacker: script in every description and
    link, and an operation whose own `servers` point away from the gateway (at keymanager,
    an origin the page may call) to catch the Try Out key on its way."""
    suffix = uuid.uuid4().hex[:6]
    operation_ = {
        "summary": "Generate",
        "description": f"Operation {XSS}",
        "externalDocs": {"url": "javascript:alert('op-docs')", "description": "docs"},
        "responses": {"200": {"description": f"OK {XSS}"}},
    }
    elsewhere = {
        **operation_,
        "summary": "Elsewhere",
        "servers": [{"url": f"{stack.url('keymanager')}/steal"}],
    }
    return {
        **ACME_VENDOR,
        "name": f"Evil{suffix}",
        "description": f"Vendor {XSS}",
        "apiDefinition": {
            "openapi": "3.0.3",
            "info": {
                "title": f"Evil <img src=x onerror=\"alert('title')\"> {suffix}",
                "version": "v2",
                "description": f"Info {XSS}",
                "termsOfService": "javascript:alert('tos')",
                "contact": {"name": "c", "url": "javascript:alert('contact')"},
                "license": {"name": "l", "url": "javascript:alert('license')"},
            },
            "externalDocs": {"url": "javascript:alert('docs')", "description": "docs"},
            "tags": [{"name": "t", "description": f"Tag {XSS}"}],
            "paths": {
                "/acme/generate": {"post": {**operation_, "tags": ["t"]}},
                "/acme/elsewhere": {
                    "servers": [{"url": f"{stack.url('keymanager')}/steal-path"}],
                    "post": elsewhere,
                },
            },
        },
    }


@pytest.fixture(scope="module")
def hostile(portal: Portal, stack: Stack) -> dict[str, Any]:
    """A published API on the hostile vendor, named and described with script, and an
    application and a plan with script in their names."""
    vendor = hostile_vendor(stack)
    created = portal.pub.post("/ai-vendors", json=vendor)
    assert created.status_code == 201, created.text
    context = f"evil{uuid.uuid4().hex[:6]}"
    name = f"Evil<img src=x onerror=alert('name')>{context}"
    response = portal.pub.post(
        "/apis",
        json={
            "name": name,
            "description": f"API {XSS}",
            "context": context,
            "version": "1.0",
            "aiVendor": {"name": vendor["name"], "version": "v2"},
            "endpoints": {"production": f"{portal.mock}/production"},
        },
    )
    assert response.status_code == 201, response.text
    api = dict(response.json())
    portal.secure_deploy_publish(api["id"])
    eventually_sync(lambda: portal.dev.get(f"/apis/{api['id']}").status_code, 200)
    return {**api, "vendor": vendor}


def test_hostile_strings_in_the_publisher_portal_stay_text(
    page: Page, stack: Stack, hostile: dict[str, Any], users: dict[str, tuple[str, str]]
) -> None:
    sign_in(page, f"{stack.url('publisher')}/publisher", *users["admin"])
    expect(page.get_by_role("link", name=hostile["name"])).to_be_visible()
    assert_inert(page)
    page.get_by_role("link", name=hostile["name"]).click()
    expect(page.get_by_role("heading", name=hostile["name"])).to_be_visible()
    expect(page.get_by_text(f"API {XSS}").first).to_be_visible()  # shown as the text it is
    assert_inert(page)


def test_hostile_strings_in_the_admin_portal_stay_text(
    page: Page, stack: Stack, portal: Portal, hostile: dict[str, Any], admin_token: str
) -> None:
    suffix = uuid.uuid4().hex[:6]
    username = f"x{suffix}"  # usernames are restricted to [A-Za-z0-9._@-]
    created = httpx.post(
        f"{stack.url('keymanager')}/api/keymanager/v1/users",
        json={"username": username, "password": "hostile-password-1", "roles": ["publisher"]},
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    assert created.status_code == 201, created.text
    plan = portal.pub.post(
        "/subscription-policies",
        json={"name": f"Plan{suffix}", "description": f"Plan {XSS}", "limits": []},
    )
    assert plan.status_code == 201, plan.text
    sign_in(page, f"{stack.url('publisher')}/admin", "admin", ADMIN_PASSWORD)
    page.goto(f"{stack.url('publisher')}/admin/users")
    expect(page.get_by_role("link", name=username)).to_be_visible()
    assert_inert(page)
    page.goto(f"{stack.url('publisher')}/admin/")
    vendor = hostile["vendor"]["name"]
    expect(page.get_by_role("link", name=re.compile(vendor)).first).to_be_visible()
    assert_inert(page)
    page.get_by_role("link", name=re.compile(vendor)).first.click()
    expect(page.get_by_role("heading", name=re.compile(vendor))).to_be_visible()
    assert_inert(page)
    page.goto(f"{stack.url('publisher')}/admin/plans")
    expect(page.get_by_role("link", name=f"Plan{suffix}")).to_be_visible()
    assert_inert(page)
    page.get_by_role("link", name=f"Plan{suffix}").click()
    expect(page.get_by_label("Description")).to_have_value(f"Plan {XSS}")
    assert_inert(page)


def test_hostile_strings_in_the_developer_portal_stay_text(
    page: Page, stack: Stack, portal: Portal, hostile: dict[str, Any]
) -> None:
    devportal = f"{stack.url('devportal')}/devportal"
    app_name = f"App<img src=x onerror=alert('app')>{uuid.uuid4().hex[:6]}"
    assert portal.dev.post("/applications", json={"name": app_name}).status_code == 201
    sign_in(page, devportal, "admin", ADMIN_PASSWORD)
    page.get_by_label("Search").fill(hostile["context"])
    expect(page.get_by_role("link", name=hostile["name"])).to_be_visible()
    assert_inert(page)
    page.get_by_role("link", name=hostile["name"]).click()
    expect(page.get_by_role("heading", name=hostile["name"])).to_be_visible()
    assert_inert(page)
    page.goto(f"{devportal}/applications")
    expect(page.get_by_role("link", name=app_name)).to_be_visible()
    assert_inert(page)


def test_a_hostile_openapi_document_is_inert_in_try_out_and_gets_no_key(
    page: Page, stack: Stack, hostile: dict[str, Any]
) -> None:
    """Swagger UI renders the vendor's descriptions as Markdown: what survives its sanitizer
    must be inert, its links must not be `javascript:`, and the Try Out key goes to the
    gateway only, whatever `servers` the document names."""
    sent: list[Request] = []
    page.on("request", lambda request: sent.append(request))
    sign_in(page, f"{stack.url('devportal')}/devportal", "admin", ADMIN_PASSWORD)
    page.goto(f"{stack.url('devportal')}/devportal/apis/{hostile['id']}/try-out")
    page.get_by_role("button", name="Get Test Key").click()
    key = page.get_by_label("API Key")
    expect(key).to_have_value(re.compile(r".{20,}"))
    test_key = key.input_value()
    console = page.get_by_test_id("swagger-ui")
    # raw HTML in the Markdown shows as the text it is
    expect(console.get_by_text("Info <img src=x onerror=").first).to_be_visible()
    for path in ("/acme/generate", "/acme/elsewhere"):
        operation(page, "POST", path).click()
    expect(console.get_by_text("Operation").first).to_be_visible()
    assert_inert(page)
    # the Markdown link is plain text or a harmless link, never script
    for link in console.get_by_role("link").all():
        assert not (link.get_attribute("href") or "").strip().lower().startswith("javascript:")

    # Execute the operation whose document points elsewhere: it is called at the gateway
    elsewhere = console.locator(".opblock", has=operation(page, "POST", "/acme/elsewhere"))
    elsewhere.get_by_role("button", name="Try it out").click()
    elsewhere.get_by_role("button", name="Execute").click()
    expect(elsewhere.get_by_text("Server response")).to_be_visible()
    gateway = stack.url("gateway")
    with_key = [r.url for r in sent if test_key in (r.headers.get("authorization") or "")]
    assert with_key, "Execute sent no request with the test key"
    assert all(url.startswith(f"{gateway}/{hostile['context']}/") for url in with_key), with_key
    assert not [r.url for r in sent if "/steal" in r.url]
    assert_inert(page)


def test_tokens_stay_out_of_urls_referers_and_storage(
    page: Page, stack: Stack, hostile: dict[str, Any]
) -> None:
    sent: list[Request] = []
    page.on("request", lambda request: sent.append(request))
    devportal = f"{stack.url('devportal')}/devportal"
    sign_in(page, devportal, "admin", ADMIN_PASSWORD)
    session = page.evaluate("sessionStorage.getItem('aigw.session')")
    assert session
    assert session.count(".") == 2  # the access token, a JWT, and nothing else
    page.goto(f"{devportal}/apis/{hostile['id']}/try-out")
    page.get_by_role("button", name="Get Test Key").click()
    expect(page.get_by_label("API Key")).to_have_value(re.compile(r".{20,}"))
    test_key = page.get_by_label("API Key").input_value()
    storage = page.evaluate(
        "() => ({session: {...sessionStorage}, local: {...localStorage}, cookie: document.cookie})"
    )
    assert storage == {"session": {"aigw.session": session}, "local": {}, "cookie": ""}
    assert page.context.cookies() == []
    for request in sent:
        assert session not in request.url, request.url
        assert test_key not in request.url, request.url
        assert not request.headers.get("referer"), (request.url, request.headers["referer"])
        if session in (request.headers.get("authorization") or ""):
            assert not request.url.startswith(stack.url("gateway")), request.url
    assert session not in page.url


def test_the_build_html_is_not_a_way_around_the_page_policy(stack: Stack) -> None:
    """/ui/devportal.html would be the portal without its Content-Security-Policy, running
    with the tab's token (the defaults in config.ts are `make run`'s ports)."""
    for service, file in (("devportal", "devportal.html"), ("publisher", "admin.html")):
        response = httpx.get(f"{stack.url(service)}/ui/{file}")
        assert response.status_code == 404, file
        assert "aigw-config" not in response.text
    # what the pages do load is still there
    page = httpx.get(f"{stack.url('devportal')}/devportal").text
    script = re.search(r'src="(/ui/assets/[^"]+\.js)"', page)
    assert script is not None
    assert httpx.get(f"{stack.url('devportal')}{script.group(1)}").status_code == 200


def test_odd_portal_paths_stay_in_the_portal(page: Page, stack: Stack) -> None:
    for path in ("//evil.example", "/%2F%2Fevil.example", "/https:%2F%2Fevil.example"):
        page.goto(f"{stack.url('devportal')}/devportal{path}")
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        assert page.url.startswith(stack.url("devportal")), page.url
        for link in page.get_by_role("link").all():
            href = link.get_attribute("href") or ""
            assert href.startswith(("/", "#")), href
            assert not href.startswith("//"), href


def test_the_apis_allow_only_the_portals_origins_without_credentials(
    stack: Stack,
) -> None:
    urls = {
        "publisher": "/api/publisher/v1/apis",
        "devportal": "/api/devportal/v1/apis",
        "keymanager": "/api/keymanager/v1/auth/login",
        "gateway": "/any/1.0/v1/chat/completions",
    }
    for service, path in urls.items():
        for origin, allowed in (("https://evil.example", False), (stack.url("devportal"), True)):
            preflight = httpx.options(
                f"{stack.url(service)}{path}",
                headers={
                    "Origin": origin,
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "authorization",
                },
            )
            echoed = preflight.headers.get("access-control-allow-origin")
            assert echoed == (origin if allowed else None), (service, origin, echoed)
            assert "access-control-allow-credentials" not in preflight.headers
            assert "set-cookie" not in preflight.headers
