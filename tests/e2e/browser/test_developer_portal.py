"""The seed's developer walkthrough in the Developer Portal, end to end: sign up, sign in, open
the published API, Try Out (Get Test Key, POST /v1/chat/completions in Swagger UI, a streamed
answer as it arrives), then Applications: create one, subscribe, generate a key that works at
the gateway, and an OAuth2 consumer key whose secret is shown once. Each step is checked
through the REST APIs too."""

import json
import re
import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, Route, expect

from aigw.devtools.stack import Stack
from tests.support.browser import (
    SWAGGER,
    Shots,
    assert_accessible,
    exact,
    execute,
    no_horizontal_scroll,
    operation,
    sign_in,
)
from tests.support.portal import CHAT_BODY, Portal, devportal_url, user_client
from tests.support.waiting import eventually_sync

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

STREAM_BODY = {**CHAT_BODY, "stream": True}


@pytest.fixture(scope="module")
def published(portal: Portal) -> dict[str, Any]:
    """A MistralAI API, secured, deployed and published through the REST APIs."""
    context = f"mistralaiapi{uuid.uuid4().hex[:6]}"
    api = portal.create_api(context)
    portal.secure_deploy_publish(api["id"])
    eventually_sync(lambda: portal.dev.get(f"/apis/{api['id']}").status_code, 200)
    return {**api, "context": context, "path": f"/{context}/0.0.2/v1/chat/completions"}


def sign_up(page: Page, stack: Stack, shots: Shots | None = None) -> tuple[str, str]:
    username, password = f"dev-{uuid.uuid4().hex[:8]}", "developer-password-1"
    page.goto(devportal_url(stack))
    page.get_by_role("link", name="Sign up").click()
    expect(page.get_by_role("heading", name="Sign up to the Developer Portal")).to_be_visible()
    assert_accessible(page)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    if shots:
        shots.take(page, "20-devportal-sign-up")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_text(f"Your account {username} is ready")).to_be_visible()
    return username, password


def test_the_developer_walkthrough(
    page: Page, stack: Stack, portal: Portal, published: dict[str, Any], shots: Shots
) -> None:
    # sign up, then sign in with the new account
    username, password = sign_up(page, stack, shots)
    me = user_client(stack, username, password)  # the account exists: keymanager signs it in
    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()

    # the catalogue: search, then open the published API
    expect(page.get_by_role("heading", name="APIs", exact=True)).to_be_visible()
    page.get_by_label("Search").fill(published["name"])
    card = page.get_by_role("link", name=published["name"])
    expect(card).to_be_visible()
    assert_accessible(page)
    shots.take(page, "21-devportal-catalogue")
    card.click()

    # the API's overview: facts, the invocation URL and the snippets
    expect(page.get_by_role("heading", name=published["name"])).to_be_visible()
    base = f"{stack.url('gateway')}/{published['context']}/0.0.2"
    expect(page.get_by_label("Base URL")).to_have_text(base)
    expect(page.get_by_label("curl example")).to_contain_text("<YOUR_API_KEY>")
    expect(page.get_by_label("OpenAI Python example")).to_contain_text(f'base_url="{base}/v1"')
    expect(page.get_by_role("button", name="Subscribe")).to_have_count(0)  # no application yet
    expect(page.get_by_role("button", name="Create Application")).to_be_visible()
    assert_accessible(page)
    shots.take(page, "22-devportal-api-overview")

    # Try Out: Get Test Key fills the key in, and the key works at the gateway
    page.get_by_role("link", name="Try Out").click()
    page.get_by_role("button", name="Get Test Key").click()
    key_field = page.get_by_label("API Key")
    expect(key_field).to_have_value(re.compile(r".{20,}"))
    test_key = key_field.input_value()
    eventually_sync(lambda: portal.chat(published["path"], test_key).status_code, 200)

    # expand POST /v1/chat/completions, Try it out, replace the body, Execute
    operation(page, "POST", "/v1/chat/completions").click()
    page.get_by_role("button", name="Try it out").click()
    shots.take(page, "23-devportal-try-out")
    execute(page, CHAT_BODY)
    console = page.get_by_test_id("swagger-ui")
    answer = console.get_by_text("Mock reply from the mistral-small-latest model to: Who is")
    expect(answer.first).to_be_visible()
    expect(console.get_by_role("cell", name="200", exact=True).first).to_be_visible()
    expect(console.get_by_text("x-ratelimit-remaining-tokens").first).to_be_visible()
    assert_accessible(page, exclude=SWAGGER)
    shots.take(page, "24-devportal-try-out-answer")

    # "stream": true: the chunks show in the streamed region while they arrive (the mock
    # provider paces them, asked by a header the browser request gets on its way)
    def slow_chunks(route: Route) -> None:
        route.continue_(headers={**route.request.headers, "x-mock-chunk-delay-ms": "300"})

    page.route(f"{base}/v1/chat/completions", slow_chunks)
    execute(page, STREAM_BODY)
    streamed = page.get_by_role("region", name="Streamed response")
    expect(streamed.get_by_text("Receiving…")).to_be_visible()
    expect(streamed).to_contain_text("chat.completion.chunk")
    shots.take(page, "25-devportal-try-out-streaming")
    expect(streamed.get_by_text("Stream complete.")).to_be_visible(timeout=20_000)
    expect(streamed).to_contain_text("data: [DONE]")
    page.unroute(f"{base}/v1/chat/completions")
    assert_accessible(page, exclude=SWAGGER)

    # Applications: none yet, then Create Application
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Applications").click()
    expect(page.get_by_text("No applications yet")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Create Application").click()
    app_name = f"app-{uuid.uuid4().hex[:6]}"
    page.get_by_label("Name").fill(app_name)
    shots.take(page, "26-devportal-create-application")
    page.get_by_role("button", name="Create", exact=True).click()
    expect(page.get_by_role("heading", name=app_name)).to_be_visible()
    apps = me.get("/applications").json()["list"]
    assert [a["name"] for a in apps] == [app_name]
    app_id = apps[0]["id"]

    # Subscribe to the API with a plan
    subscriptions = page.get_by_role("region", name="Subscriptions")
    subscriptions.get_by_label("API", exact=True).select_option(label=f"{published['name']} 0.0.2")
    subscriptions.get_by_label("Business plan").select_option("Unlimited")
    subscriptions.get_by_role("button", name="Subscribe").click()
    expect(subscriptions.get_by_role("link", name=f"{published['name']} 0.0.2")).to_be_visible()
    listed = me.get("/subscriptions", params={"applicationId": app_id}).json()["list"]
    assert [(s["apiId"], s["policy"]) for s in listed] == [(published["id"], "Unlimited")]
    assert_accessible(page)

    # Generate Key (Production): shown once, with a warning; it works at the gateway
    production = page.get_by_role("region", name="Production")
    production.get_by_role("button", name="Generate Key").click()
    shown = production.get_by_label("API key", exact=True)
    expect(shown).to_have_text(re.compile(r".{20,}"))
    expect(production.get_by_text("it will not be shown again")).to_be_visible()
    key = shown.inner_text()
    expect(production.get_by_role("button", name="Revoke")).to_be_visible()  # the masked row
    shots.take(page, "27-devportal-generate-key")
    eventually_sync(lambda: portal.chat(published["path"], key).status_code, 200)
    assert key not in json.dumps(me.get(f"/applications/{app_id}/api-keys").json())  # masked
    assert_accessible(page)

    # OAuth2 consumer key: the secret is shown once and trades for a token at keymanager
    oauth = page.get_by_role("region", name="OAuth2 consumer keys")
    oauth.get_by_role("button", name="Generate consumer key").click()
    shown_key = oauth.get_by_label("Consumer key", exact=True)
    expect(shown_key).to_have_text(re.compile(r".{8,}"))
    consumer_key = shown_key.inner_text()
    secret = oauth.get_by_label("Consumer secret", exact=True).inner_text()
    expect(oauth.get_by_label("Token request")).to_contain_text("/oauth2/token")
    shots.take(page, "28-devportal-oauth-keys")
    token = httpx.post(
        f"{stack.url('keymanager')}/api/keymanager/v1/oauth2/token",
        auth=(consumer_key, secret),
        data={"grant_type": "client_credentials"},
    )
    assert token.status_code == 200, token.text
    page.reload()
    oauth = page.get_by_role("region", name="OAuth2 consumer keys")
    expect(oauth.get_by_role("cell", name=consumer_key)).to_be_visible()  # listed, no secret
    expect(page.get_by_text(secret)).to_have_count(0)  # never shown again
    expect(oauth.get_by_role("button", name="Revoke")).to_be_visible()
    listed_clients = me.get(f"/applications/{app_id}/oauth-keys").json()["list"]
    assert [c["consumerKey"] for c in listed_clients] == [consumer_key]
    assert secret not in json.dumps(listed_clients)
    assert_accessible(page)

    # delete the application, after a confirmation
    page.get_by_role("button", name="Delete application").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete", exact=True).click()
    expect(page.get_by_role("heading", name="Applications")).to_be_visible()
    assert me.get(f"/applications/{app_id}").status_code == 404


def test_sign_up_errors_show_next_to_the_field(page: Page, stack: Stack, users) -> None:
    taken = users["subscriber"][0]
    page.goto(f"{devportal_url(stack)}/signup")
    page.get_by_label("Username").fill(taken)
    page.get_by_label("Password").fill("another-password-1")
    page.get_by_role("button", name="Sign up").click()
    username = page.get_by_label("Username")
    expect(username).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text(re.compile("taken|exists", re.IGNORECASE))).to_be_visible()
    # a password the service refuses (too short) is its 422, shown as a message
    page.get_by_label("Username").fill(f"dev-{uuid.uuid4().hex[:8]}")
    page.get_by_label("Password").fill("x")
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("alert")).to_contain_text("password")
    assert_accessible(page)


def test_the_catalogue_and_an_api_fit_a_phone(
    page: Page, stack: Stack, users, published: dict[str, Any], shots: Shots
) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, devportal_url(stack), *users["subscriber"])
    expect(page.get_by_role("link", name=published["name"])).to_be_visible()
    assert no_horizontal_scroll(page)
    page.get_by_role("link", name=published["name"]).click()
    expect(page.get_by_label("curl example")).to_be_visible()
    assert no_horizontal_scroll(page)
    assert_accessible(page)
    shots.take(page, "29-devportal-api-on-a-phone")


def test_an_empty_search_says_so(page: Page, stack: Stack, users, published) -> None:
    sign_in(page, devportal_url(stack), *users["subscriber"])
    page.get_by_label("Search").fill(f"nothing-{uuid.uuid4().hex}")
    expect(page.get_by_text("No API matches your search")).to_be_visible()
    expect(page.get_by_role("link", name=exact(published["name"]))).to_have_count(0)
