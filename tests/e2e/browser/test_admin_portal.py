"""The Admin Portal as the admin uses it: custom AI vendors in the JSON editor, business plans,
users (create a publisher, disable, reset the password, delete), signing-key rotation and the
own-password change, each step checked through the REST APIs."""

import base64
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from aigw.devtools.stack import Stack
from tests.support.browser import Shots, assert_accessible, exact, no_horizontal_scroll, sign_in
from tests.support.portal import Portal

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

Users = dict[str, tuple[str, str]]


def admin_url(stack: Stack, path: str = "") -> str:
    return f"{stack.url('publisher')}/admin{path}"


def keymanager(stack: Stack, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"{stack.url('keymanager')}/api/keymanager/v1",
        headers={"Authorization": f"Bearer {token}"},
    )


def login(stack: Stack, username: str, password: str) -> httpx.Response:
    return httpx.post(
        f"{stack.url('keymanager')}/api/keymanager/v1/auth/login",
        json={"username": username, "password": password},
    )


def user_named(stack: Stack, token: str, username: str) -> dict[str, Any] | None:
    with keymanager(stack, token) as km:
        listed = km.get("/users")
    assert listed.status_code == 200, listed.text
    return next((u for u in listed.json()["list"] if u["username"] == username), None)


def vendor(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "version": "v1",
        "description": "made in the Admin Portal",
        "auth": {"type": "header", "name": "x-api-key"},
        "apiDefinition": {
            "openapi": "3.0.3",
            "info": {"title": name, "version": "v1"},
            "paths": {"/generate": {"post": {"responses": {"200": {"description": "OK"}}}}},
        },
        **extra,
    }


def editor(page: Page) -> Locator:
    return page.get_by_label("Vendor definition (JSON)")


def confirm(page: Page, action: str, confirm_label: str = "Delete") -> None:
    page.get_by_role("button", name=action).click()
    dialog = page.get_by_role("dialog", name=action)
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name=confirm_label).click()


def test_a_publisher_opening_the_admin_portal_is_not_allowed(
    page: Page, stack: Stack, users: Users
) -> None:
    page.goto(admin_url(stack))
    page.get_by_label("Username").fill(users["publisher"][0])
    page.get_by_label("Password").fill(users["publisher"][1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Not allowed", exact=True)).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)
    expect(page.get_by_role("link", name="Users", exact=True)).to_have_count(0)
    assert_accessible(page)


def test_a_custom_vendor_through_the_json_editor(
    page: Page, stack: Stack, users: Users, shots: Shots, portal: Portal
) -> None:
    sign_in(page, admin_url(stack), *users["admin"])
    expect(page.get_by_role("heading", name="AI Vendors", exact=True)).to_be_visible()
    openai = page.get_by_role("row").filter(has=page.get_by_role("link", name=exact("OpenAI")))
    expect(openai).to_contain_text("Built-in")
    assert_accessible(page)
    shots.take(page, "40-admin-vendors")

    # a built-in vendor is shown, never editable
    openai.get_by_role("link", name=exact("OpenAI")).click()
    expect(page.get_by_text("Built-in vendor: shipped with aigw and read-only.")).to_be_visible()
    expect(page.locator("pre")).to_contain_text('"name": "OpenAI"')
    expect(page.get_by_role("button", name="Edit")).to_have_count(0)
    expect(page.get_by_role("button", name="Delete vendor")).to_have_count(0)
    assert_accessible(page)

    # the editor starts from a definition the API accepts
    page.get_by_role("link", name="AI Vendors", exact=True).click()
    page.get_by_role("button", name="Add AI vendor").click()
    expect(editor(page)).to_be_visible()
    template = json.loads(editor(page).input_value())
    assert template["name"]
    assert template["apiDefinition"]["paths"]
    assert_accessible(page)
    shots.take(page, "41-admin-vendor-editor")

    # text that is not JSON: said next to the field, nothing sent
    editor(page).fill('{"name": "Broken",')
    page.get_by_role("button", name="Create vendor").click()
    expect(editor(page)).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text(re.compile("^Not valid JSON"))).to_be_visible()
    assert_accessible(page)
    shots.take(page, "42-admin-vendor-bad-json")

    # JSON the gateway could not use: the API's 422 next to the field, nothing stored
    name = f"Acme{uuid.uuid4().hex[:8]}"
    bad = vendor(
        name,
        metadata={"promptTokenCount": {"inputSource": "payload", "attributeIdentifier": "$..n"}},
    )
    editor(page).fill(json.dumps(bad))
    page.get_by_role("button", name="Create vendor").click()
    expect(page.get_by_text(re.compile("recursive descent"))).to_be_visible()
    expect(editor(page)).to_have_attribute("aria-invalid", "true")
    assert portal.pub.get(f"/ai-vendors/{name}/v1").status_code == 404
    shots.take(page, "43-admin-vendor-invalid")

    # a valid one is created and opens
    editor(page).fill(json.dumps(vendor(name), indent=2))
    page.get_by_role("button", name="Create vendor").click()
    expect(page.get_by_role("heading", name=f"{name} v1", exact=True)).to_be_visible()
    expect(page.locator("pre")).to_contain_text('"x-api-key"')
    stored = portal.pub.get(f"/ai-vendors/{name}/v1")
    assert stored.status_code == 200, stored.text
    assert stored.json()["builtIn"] is False
    assert stored.json()["auth"]["name"] == "x-api-key"
    assert_accessible(page)
    shots.take(page, "44-admin-vendor-created")

    # the same name again: the API's 409
    page.get_by_role("link", name="AI Vendors", exact=True).click()
    page.get_by_role("button", name="Add AI vendor").click()
    editor(page).fill(json.dumps(vendor(name)))
    page.get_by_role("button", name="Create vendor").click()
    expect(page.get_by_text(re.compile("already exists"))).to_be_visible()

    # edit: the definition comes prefilled, the change is stored
    page.goto(admin_url(stack, f"/vendors/{name}/v1"))
    page.get_by_role("button", name="Edit").click()
    definition = json.loads(editor(page).input_value())
    assert definition["name"] == name
    assert "builtIn" not in definition
    definition["description"] = "changed in the Admin Portal"
    editor(page).fill(json.dumps(definition, indent=2))
    page.get_by_role("button", name="Save vendor").click()
    expect(page.get_by_text("changed in the Admin Portal").first).to_be_visible()
    assert (
        portal.pub.get(f"/ai-vendors/{name}/v1").json()["description"]
        == "changed in the Admin Portal"
    )

    # in use by an API: the 409 is shown, the vendor stays
    api = portal.pub.post(
        "/apis",
        json={
            "name": f"{name}-api",
            "context": f"{name.lower()}ctx",
            "version": "1.0",
            "aiVendor": {"name": name, "version": "v1"},
            "endpoints": {"production": f"{portal.mock}/production"},
        },
    )
    assert api.status_code == 201, api.text
    confirm(page, "Delete vendor")
    expect(page.get_by_role("dialog").get_by_role("alert")).to_contain_text("is used by 1 API")
    assert portal.pub.get(f"/ai-vendors/{name}/v1").status_code == 200
    shots.take(page, "45-admin-vendor-in-use")
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()

    # unused: deleted
    assert portal.pub.delete(f"/apis/{api.json()['id']}").status_code == 204
    confirm(page, "Delete vendor")
    expect(page.get_by_role("heading", name="AI Vendors", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=exact(name))).to_have_count(0)
    assert portal.pub.get(f"/ai-vendors/{name}/v1").status_code == 404


def test_a_business_plan_is_created_and_edited(
    page: Page, stack: Stack, users: Users, shots: Shots, portal: Portal
) -> None:
    sign_in(page, admin_url(stack, "/plans"), *users["admin"])
    expect(page.get_by_role("heading", name="Business Plans", exact=True)).to_be_visible()
    gold = page.get_by_role("row").filter(has=page.get_by_role("link", name=exact("Gold")))
    expect(gold).to_contain_text("5000 requests a minute")
    assert_accessible(page)
    shots.take(page, "46-admin-plans")

    name = f"Trial-{uuid.uuid4().hex[:8]}"
    page.get_by_role("button", name="Add business plan").click()
    page.get_by_label("Name").fill(name)
    page.get_by_label("Description").fill("a trial plan")
    minute = page.get_by_role("group", name="Per minute")
    minute.get_by_label("Requests").fill("7")
    page.get_by_role("group", name="Per day").get_by_label("Total tokens").fill("5000")
    assert_accessible(page)
    shots.take(page, "47-admin-plan-new")
    page.get_by_role("button", name="Create plan").click()
    expect(page.get_by_role("heading", name=name, exact=True)).to_be_visible()
    stored = portal.pub.get(f"/subscription-policies/{name}")
    assert stored.status_code == 200, stored.text
    assert stored.json()["description"] == "a trial plan"
    limits = {limit["unit"]: limit for limit in stored.json()["limits"]}
    assert limits["minute"]["requests"] == 7
    assert limits["minute"]["totalTokens"] is None
    assert limits["day"]["totalTokens"] == 5000
    assert "hour" not in limits

    # a count the API refuses: its 422 next to the field it names, nothing changed
    hour = page.get_by_role("group", name="Per hour")
    hour.get_by_label("Requests").fill("0")
    page.get_by_role("button", name="Save plan").click()
    expect(hour.get_by_label("Requests")).to_have_attribute("aria-invalid", "true")
    expect(hour).to_contain_text("greater than 0")
    assert_accessible(page)
    shots.take(page, "48-admin-plan-invalid")
    unchanged = portal.pub.get(f"/subscription-policies/{name}").json()
    assert [limit["unit"] for limit in unchanged["limits"]] == ["minute", "day"]

    hour.get_by_label("Requests").fill("")
    minute.get_by_label("Requests").fill("9")
    page.get_by_label("Description").fill("a changed trial plan")
    page.get_by_role("button", name="Save plan").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    changed = portal.pub.get(f"/subscription-policies/{name}").json()
    assert changed["description"] == "a changed trial plan"
    assert {limit["unit"]: limit.get("requests") for limit in changed["limits"]} == {
        "minute": 9,
        "day": None,
    }
    shots.take(page, "49-admin-plan-saved")

    # offered by an API: the 409 is shown, the plan stays
    api = portal.create_api(f"plan{uuid.uuid4().hex[:8]}")
    offered = portal.pub.patch(
        f"/apis/{api['id']}",
        json={"policies": [name]},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert offered.status_code == 200, offered.text
    confirm(page, "Delete plan")
    expect(page.get_by_role("dialog").get_by_role("alert")).to_contain_text("offered by 1 API")
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    assert portal.pub.get(f"/subscription-policies/{name}").status_code == 200

    assert portal.pub.delete(f"/apis/{api['id']}").status_code == 204
    confirm(page, "Delete plan")
    expect(page.get_by_role("heading", name="Business Plans", exact=True)).to_be_visible()
    assert portal.pub.get(f"/subscription-policies/{name}").status_code == 404


def test_an_admin_creates_disables_resets_and_deletes_a_publisher(
    page: Page, stack: Stack, users: Users, shots: Shots, admin_token: str
) -> None:
    sign_in(page, admin_url(stack, "/users"), *users["admin"])
    expect(
        page.get_by_role("row").filter(has=page.get_by_role("link", name=exact("admin")))
    ).to_contain_text("Enabled")
    assert_accessible(page)
    shots.take(page, "50-admin-users")

    username = f"pub-{uuid.uuid4().hex[:8]}"
    form = page.get_by_role("form", name="Create User")
    expect(
        form.get_by_label("publisher", exact=True)
    ).to_be_checked()  # "create a publisher" by default
    expect(form.get_by_label("admin", exact=True)).not_to_be_checked()
    form.get_by_label("Username").fill(username)
    form.get_by_label("Password").fill("short")
    form.get_by_role("button", name="Create User").click()
    expect(form.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    assert user_named(stack, admin_token, username) is None

    form.get_by_label("Password").fill("first-password-1")
    form.get_by_role("button", name="Create User").click()
    expect(page.get_by_text(f"User {username} was created.")).to_be_visible()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=exact(username)))
    expect(row).to_contain_text("publisher")
    created = user_named(stack, admin_token, username)
    assert created is not None
    assert created["roles"] == ["publisher"]
    assert login(stack, username, "first-password-1").status_code == 200
    shots.take(page, "51-admin-user-created")

    # the user's page: disable, and their login fails
    row.get_by_role("link", name=exact(username)).click()
    expect(page.get_by_role("heading", name=username, exact=True)).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Disable user").click()
    expect(page.get_by_role("button", name="Enable user")).to_be_visible()
    assert user_named(stack, admin_token, username)["disabled"] is True  # type: ignore[index]
    assert login(stack, username, "first-password-1").status_code == 401
    shots.take(page, "52-admin-user-disabled")

    page.get_by_role("button", name="Enable user").click()
    expect(page.get_by_role("button", name="Disable user")).to_be_visible()
    assert user_named(stack, admin_token, username)["disabled"] is False  # type: ignore[index]

    # reset the password: the new one signs in
    reset = page.get_by_role("form", name="Reset password")
    reset.get_by_label("New password").fill("second-password-2")
    reset.get_by_role("button", name="Reset password").click()
    expect(page.get_by_text("The password was reset.")).to_be_visible()
    assert login(stack, username, "second-password-2").status_code == 200

    # change roles
    roles = page.get_by_role("form", name="Change roles")
    roles.get_by_label("subscriber", exact=True).check()
    roles.get_by_role("button", name="Save roles").click()
    expect(page.get_by_text("Roles saved")).to_be_visible()
    assert user_named(stack, admin_token, username)["roles"] == ["publisher", "subscriber"]  # type: ignore[index]
    assert_accessible(page)
    shots.take(page, "53-admin-user-manage")

    confirm(page, "Delete user")
    expect(page.get_by_role("heading", name="Users", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=exact(username))).to_have_count(0)
    assert user_named(stack, admin_token, username) is None


def test_the_platform_keeps_its_admin(
    page: Page, stack: Stack, users: Users, admin_token: str
) -> None:
    """An admin cannot delete or disable themselves: keymanager's 409 is shown."""
    sign_in(page, admin_url(stack, "/users/admin"), *users["admin"])
    expect(page.get_by_text("This is your own account")).to_be_visible()
    confirm(page, "Delete user")
    expect(page.get_by_role("dialog").get_by_role("alert")).to_contain_text(
        "cannot delete yourself"
    )
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    page.get_by_role("button", name="Disable user").click()
    expect(page.get_by_role("alert")).to_contain_text("cannot")
    admin = user_named(stack, admin_token, "admin")
    assert admin is not None
    assert admin["disabled"] is False
    assert "admin" in admin["roles"]


def test_the_users_and_vendors_pages_fit_a_phone(page: Page, stack: Stack, users: Users) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, admin_url(stack, "/users"), *users["admin"])
    expect(page.get_by_role("link", name=exact("admin"))).to_be_visible()
    assert no_horizontal_scroll(page)
    page.get_by_role("link", name="AI Vendors", exact=True).click()
    expect(page.get_by_role("link", name=exact("OpenAI"))).to_be_visible()
    assert no_horizontal_scroll(page)
    page.get_by_role("button", name="Add AI vendor").click()
    expect(editor(page)).to_be_visible()
    assert no_horizontal_scroll(page)


def kids(stack: Stack) -> list[str]:
    response = httpx.get(f"{stack.url('keymanager')}/api/keymanager/v1/jwks")
    assert response.status_code == 200, response.text
    return [key["kid"] for key in response.json()["keys"]]


def test_rotating_the_signing_key(
    page: Page, stack: Stack, users: Users, shots: Shots, admin_token: str
) -> None:
    before = kids(stack)
    sign_in(page, admin_url(stack, "/signing-keys"), *users["admin"])
    for kid in before:
        expect(page.get_by_role("cell", name=kid)).to_be_visible()
    assert_accessible(page)
    shots.take(page, "54-admin-signing-keys")

    page.get_by_role("button", name="Rotate signing key").click()
    dialog = page.get_by_role("dialog", name="Rotate signing key")
    expect(dialog).to_contain_text("keeps verifying the tokens it already signed until they expire")
    assert_accessible(page)
    shots.take(page, "55-admin-rotate-confirm")
    dialog.get_by_role("button", name="Rotate", exact=True).click()
    notice = page.get_by_text(re.compile("^New tokens are signed with key"))
    expect(notice).to_be_visible()

    after = kids(stack)
    new = [kid for kid in after if kid not in before]
    assert len(new) == 1, (before, after)
    assert set(before) <= set(after)  # a normal rotation keeps the previous key verifying
    expect(notice).to_contain_text(new[0])
    expect(page.get_by_role("cell", name=new[0])).to_be_visible()
    shots.take(page, "56-admin-rotated")
    # tokens of the previous key still work; new ones are signed with the new key
    with keymanager(stack, admin_token) as km:
        assert km.get("/users").status_code == 200
    fresh = login(stack, *users["admin"])
    assert fresh.status_code == 200
    header = fresh.json()["access_token"].split(".")[0]
    assert json.loads(_b64(header))["kid"] == new[0]


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


@pytest.fixture
def throwaway_admin(stack: Stack, admin_token: str) -> Iterator[tuple[str, str]]:
    """An admin of this test only, so the shared admin's password never changes."""
    credentials = (f"acct-{uuid.uuid4().hex[:8]}", "throwaway-password-1")
    with keymanager(stack, admin_token) as km:
        created = km.post(
            "/users",
            json={"username": credentials[0], "password": credentials[1], "roles": ["admin"]},
        )
        assert created.status_code == 201, created.text
        yield credentials
        km.delete(f"/users/{credentials[0]}")


def test_changing_your_own_password(
    page: Page, stack: Stack, shots: Shots, throwaway_admin: tuple[str, str]
) -> None:
    username, password = throwaway_admin
    sign_in(page, admin_url(stack, "/account"), username, password)
    expect(page.get_by_role("heading", name="Change password", exact=True)).to_be_visible()
    assert_accessible(page)
    shots.take(page, "57-admin-account")

    page.get_by_label("Current password").fill("not-my-password")
    page.get_by_label("New password").fill("changed-password-2")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_label("Current password")).to_have_attribute("aria-invalid", "true")
    shots.take(page, "58-admin-account-wrong-password")

    page.get_by_label("Current password").fill(password)
    page.get_by_label("New password").fill("changed-password-2")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_text("Your password was changed.")).to_be_visible()
    assert login(stack, username, "changed-password-2").status_code == 200
    shots.take(page, "59-admin-account-changed")

    # the page took the new token: the session goes on after the old tokens ended
    page.get_by_role("link", name="Users", exact=True).click()
    expect(page.get_by_role("link", name=exact(username))).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
