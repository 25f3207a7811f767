"""The portals in headless Chromium (Debian's, installed by `make chromium`), against the
four services as separate processes (the e2e stack). Each page a test opens is watched: a
Content-Security-Policy violation, an uncaught script error or a JavaScript dialog fails it.

Screenshots go to $AIGW_SCREENSHOTS (default .data/screenshots); the run prints where."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from aigw.devtools.page_weight import CHROMIUM, CHROMIUM_ARGS
from aigw.devtools.stack import Stack
from tests.support.browser import REPO, WATCH_SCRIPT, Shots, csp_violations
from tests.support.portal import ADMIN_PASSWORD

SCREENSHOTS = Path(os.environ.get("AIGW_SCREENSHOTS", REPO / ".data" / "screenshots"))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SCREENSHOTS.is_dir() and any(SCREENSHOTS.iterdir()):
        terminalreporter.write_line(f"browser test screenshots: {SCREENSHOTS}")


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.add_init_script(WATCH_SCRIPT)
    opened = context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    opened.on(
        "dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"), dialog.dismiss())
    )
    yield opened
    for each in context.pages:
        if not each.is_closed() and each.url.startswith("http"):
            problems += [f"CSP violation: {v}" for v in csp_violations(each)]
    context.close()
    assert not problems, problems


@pytest.fixture(scope="session")
def shots() -> Shots:
    return Shots(SCREENSHOTS)


@pytest.fixture(scope="session")
def users(stack: Stack, admin_token: str) -> dict[str, tuple[str, str]]:
    """A publisher (created by the admin) and a subscriber (signed up), name -> credentials."""
    suffix = uuid.uuid4().hex[:6]
    publisher = (f"publisher-{suffix}", "publisher-password-1")
    response = httpx.post(
        f"{stack.url('keymanager')}/api/keymanager/v1/users",
        json={"username": publisher[0], "password": publisher[1], "roles": ["publisher"]},
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    assert response.status_code == 201, response.text
    subscriber = (f"developer-{suffix}", "developer-password-1")
    response = httpx.post(
        f"{stack.url('devportal')}/api/devportal/v1/signup",
        json={"username": subscriber[0], "password": subscriber[1]},
    )
    assert response.status_code == 201, response.text
    return {
        "publisher": publisher,
        "subscriber": subscriber,
        "admin": ("admin", ADMIN_PASSWORD),
    }
