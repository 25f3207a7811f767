"""Driving the portals in Debian's headless Chromium with Playwright: signing in, saving a
screenshot of each step, and the accessibility check (axe-core, from the portals' npm
packages, so nothing is fetched)."""

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

REPO = Path(__file__).resolve().parents[2]
AXE = REPO / "web" / "node_modules" / "axe-core" / "axe.min.js"

# Recorded in every page before its own scripts run: Content-Security-Policy violations and
# JavaScript dialogs (an alert() would be an XSS).
WATCH_SCRIPT = """
window.__aigwViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__aigwViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


class Shots:
    """Screenshots of a walkthrough, numbered in the order they were taken."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def take(self, page: Page, name: str) -> Path:
        path = self.directory / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


def sign_in(page: Page, url: str, username: str, password: str) -> None:
    page.goto(url)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def axe_violations(page: Page, exclude: Sequence[str] = ()) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now (WCAG 2.1 AA).
    `exclude`: selectors of third-party markup the project does not write (e.g. the Swagger
    UI console), left out with a reason at the call site."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # evaluated by the DevTools protocol, which the page's CSP does not govern
        page.evaluate(AXE.read_text() + "\n;undefined")
    result = page.evaluate(
        """async (exclude) => {
            const context = exclude.length ? {include: [["html"]], exclude: exclude.map(s => [s])} : document;
            const r = await axe.run(context, {runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(" "))}));
        }""",
        list(exclude),
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


def assert_accessible(page: Page, exclude: Sequence[str] = ()) -> None:
    violations = axe_violations(page, exclude)
    assert not violations, json.dumps(violations, indent=1)


def csp_violations(page: Page) -> list[str]:
    return list(page.evaluate("window.__aigwViolations || []"))


def no_horizontal_scroll(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def exact(text: str) -> re.Pattern[str]:
    return re.compile(f"^{re.escape(text)}$")


# Swagger UI's own markup (the console's operations, parameters and response tables) is a
# third-party component the project does not write; axe checks everything around it.
SWAGGER = ["[data-testid=swagger-ui]"]


def operation(page: Page, method: str, path: str) -> Locator:
    """One operation of the Swagger UI console, found by its summary button."""
    # slashes escaped: Playwright hands the pattern to JavaScript as /source/
    pattern = rf"^{method}\s*{re.escape(path)}\b".replace("/", "\\/")
    return page.get_by_role("button", name=re.compile(pattern))


def execute(page: Page, body: dict[str, Any]) -> None:
    """Replaces the request body of the open operation and clicks Execute."""
    console = page.get_by_test_id("swagger-ui")
    body_field = console.get_by_role("textbox").first
    body_field.fill(json.dumps(body, indent=2))
    console.get_by_role("button", name="Execute").click()
